"""Staff bins pages: bins in walk order, who may see which location, and bin labels one, an aisle or all at once."""

from __future__ import annotations

import re

import pytest

from tests.web.staff import (  # noqa: F401 (fixtures)
    cheap_hashes_fixture,
    client_fixture,
    flashes,
    form_key,
    job_count,
    jobs,
    new_client,
    shop_fixture,
    sign_in,
)
from wms.locations.rules import aisle_of


def bin_rows(html: str) -> list[tuple[str, str, str]]:
    return re.findall(
        r'<tr id="bin-([^"]+)">.*?<span class="tag tag-bin-\w+">(\w+)</span>.*?data-label="Walk">(\d+)</td>', html, re.S
    )


@pytest.mark.parametrize(
    ("code", "aisle"),
    [
        ("A-01", "A"),
        ("A-01-02-03", "A"),
        ("sf-03", "SF"),
        ("DOCK-1", "DOCK"),
        ("A12", "A"),
        ("RCV", "RCV"),
        ("12-3", "12"),
    ],
)
def test_aisle_of(code, aisle):
    assert aisle_of(code) == aisle


def test_bins_in_walk_order_with_kind_and_sequence(client, shop):
    sign_in(client, "boss")
    html = client.get("/locations/WH1/bins").get_data(as_text=True)
    assert bin_rows(html) == [
        ("DOCK", "dock", "0"),
        ("A-01", "pick", "1"),
        ("A-02", "pick", "2"),
        ("B-01", "pick", "3"),
    ]
    assert "Print all 4 bin labels" in html and "Print 2 labels of A" in html
    assert client.get("/locations/NOPE/bins").status_code == 404


def test_who_sees_which_bins(client, app, shop):
    sign_in(client, "kasia")  # clerk at ST1
    assert client.get("/locations/ST1/bins").status_code == 200
    assert client.get("/locations/ST2/bins").status_code == 403
    assert client.get("/locations/WH1/bins").status_code == 403
    assert client.get("/bins").headers["Location"] == "/locations/ST1/bins"
    picker = new_client(app)
    sign_in(picker, "piotr")
    assert picker.get("/locations/WH1/bins").status_code == 200
    assert picker.get("/locations/ST1/bins").status_code == 403
    manager = new_client(app)
    sign_in(manager, "boss")
    html = manager.get("/locations/ST2/bins").get_data(as_text=True)
    assert 'href="/locations/WH1/bins"' in html and 'href="/locations/ST1/bins"' in html  # switch location
    assert client.get("/locations/ST2/bins").status_code == 403
    anonymous = new_client(app)
    assert anonymous.get("/locations/WH1/bins").status_code == 302


def test_clerk_cannot_print_another_stores_bins(client, shop):
    sign_in(client, "kasia")
    r = client.post("/locations/ST2/bins/print", data={"printer": shop["ST1-pdf"], "copies": 1, "bin": "S-01"})
    assert r.status_code == 403 and job_count() == 0


def post(client, shop, **form):
    data = {"printer": shop["WH1-zebra"], "copies": 1, "key": "form-1"} | form
    return client.post("/locations/WH1/bins/print", data=data)


def test_print_one_bin(client, shop):
    sign_in(client, "piotr")
    key = form_key(client.get("/locations/WH1/bins").get_data(as_text=True))
    assert post(client, shop, bin="A-02", key=key).status_code == 303
    [job] = jobs()
    assert (job.kind, job.data, job.reference) == ("bin", {"code": "A-02", "location": "WH1"}, "bin:WH1/A-02")
    assert job.printer.name == "WH1-zebra" and job.requested_by.username == "piotr"
    assert f"job #{job.id}" in flashes(client.get("/locations/WH1/bins").get_data(as_text=True))[0]


def test_print_an_aisle_then_every_bin_as_batches(client, shop):
    sign_in(client, "boss")
    post(client, shop, aisle="A")
    assert [j.reference for j in jobs()] == ["bin:WH1/A-01", "bin:WH1/A-02"]
    assert "2 bin labels (aisle A)" in flashes(client.get("/locations/WH1/bins").get_data(as_text=True))[0]
    post(client, shop, all="1", key="form-2", copies=2)
    batch = jobs()[2:]
    assert [j.reference for j in batch] == ["bin:WH1/DOCK", "bin:WH1/A-01", "bin:WH1/A-02", "bin:WH1/B-01"]
    assert {j.copies for j in batch} == {2}


def test_a_double_submit_prints_no_bin_twice(client, shop):
    sign_in(client, "boss")
    post(client, shop, aisle="A")
    post(client, shop, aisle="A")
    post(client, shop, bin="B-01")
    post(client, shop, bin="B-01")
    assert [j.reference for j in jobs()] == ["bin:WH1/A-01", "bin:WH1/A-02", "bin:WH1/B-01"]


def test_enter_in_a_field_prints_nothing(client, shop):
    sign_in(client, "boss")
    html = client.get("/locations/WH1/bins").get_data(as_text=True)
    # The form's first submit button (the one Enter presses) says nothing about which labels.
    first = re.search(
        r'<form method="post" action="/locations/WH1/bins/print".*?<button type="submit" name="(\w+)"', html, re.S
    )
    assert first.group(1) == "noop"
    r = post(client, shop, noop="1")
    assert r.status_code == 303 and job_count() == 0
    assert "Choose which labels" in flashes(client.get("/locations/WH1/bins").get_data(as_text=True))[0]


def test_unknown_bin_or_aisle_prints_nothing(client, shop):
    sign_in(client, "boss")
    assert post(client, shop, bin="Z-99").status_code == 404
    assert post(client, shop, aisle="Z").status_code == 404
    assert job_count() == 0
