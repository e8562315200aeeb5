"""Pages fail well: 403, 404, 405 and 500 in the site's layout with its navigation, saying what happened and where
to go; a refused form goes back only to a page of this site; the API answers the same errors in JSON."""

from __future__ import annotations

import pytest

from tests.factories import Api, make_channel
from tests.web.staff import (  # noqa: F401 (fixtures)
    cheap_hashes_fixture,
    client_fixture,
    flashes,
    job_count,
    new_client,
    shop_fixture,
    sign_in,
)
from wms.dashboard import views as dashboard_views
from wms.printing import views as printing_views

NAVIGATION = 'class="mainnav"'


def page(r) -> str:
    assert r.mimetype == "text/html", r.mimetype
    return r.get_data(as_text=True)


@pytest.mark.parametrize(
    "url", ["/no-such-page", "/products/NOPE", "/locations/NOPE/bins", "/print-jobs/987654", "/stations/NOPE"]
)
def test_not_found_is_a_page_with_the_navigation(client, shop, url):
    sign_in(client, "boss")
    r = client.get(url)
    assert r.status_code == 404
    html = page(r)
    assert NAVIGATION in html and "Not found" in html
    assert 'href="/"' in html  # where to go


def test_not_found_names_what_was_not_found(client, shop):
    sign_in(client, "boss")
    assert "NOPE" in page(client.get("/products/NOPE"))


@pytest.mark.parametrize("url", ["/locations/ST2/bins", "/labels"])
def test_forbidden_is_a_page_with_the_navigation(client, shop, url):
    sign_in(client, "kasia")  # a clerk at ST1: not ST2's bins, not the managers' labels page
    r = client.get(url)
    assert r.status_code == 403
    html = page(r)
    assert NAVIGATION in html and "Not allowed" in html and "sign in as someone" in html


def test_a_wrong_method_is_a_page_that_says_which_are_allowed(client, shop):
    sign_in(client, "boss")
    r = client.get("/logout")
    assert r.status_code == 405 and "POST" in r.headers["Allow"]
    assert NAVIGATION in page(r)


def test_an_unexpected_error_is_a_500_page_without_the_traceback(client, shop, monkeypatch, caplog):
    def broken(user):
        raise RuntimeError("secret internals: password=hunter2")

    monkeypatch.setattr(dashboard_views, "home_view", broken)
    sign_in(client, "boss")
    r = client.get("/")
    assert r.status_code == 500
    html = page(r)
    assert NAVIGATION in html and "Something went wrong" in html
    assert "Traceback" not in html and "hunter2" not in html and "RuntimeError" not in html
    reference = html.split("<code>")[1].split("</code>")[0]
    assert reference in caplog.text  # the administrator finds the logged traceback by it
    assert client.get("/products").status_code == 200  # and the next page works


def test_a_refused_form_goes_back_to_the_page_it_came_from(client, shop):
    sign_in(client, "boss")
    for referrer in ("/products/NOCODE", "http://localhost/products/NOCODE"):
        r = client.post(
            "/products/NOCODE/print",
            data={"printer": shop["WH1-pdf"], "copies": 1, "key": "k"},
            headers={"Referer": referrer},
        )
        assert r.status_code == 303 and r.headers["Location"] == "/products/NOCODE"
        assert "has no barcode" in " ".join(flashes(client.get("/products/NOCODE").get_data(as_text=True)))


@pytest.mark.parametrize(
    "referrer", ["https://evil.example/products/NOCODE", "//evil.example/x", "http://localhost.evil.example/x", None]
)
def test_a_refused_form_never_goes_back_off_site(client, shop, referrer):
    sign_in(client, "boss")
    r = client.post(
        "/products/NOCODE/print",
        data={"printer": shop["WH1-pdf"], "copies": 1, "key": "k"},
        headers={"Referer": referrer} if referrer else {},
    )
    assert r.status_code in (409, 422) and "Location" not in r.headers
    html = page(r)
    assert NAVIGATION in html and "has no barcode" in html and "evil" not in html
    assert job_count() == 0


def test_the_api_answers_the_same_errors_in_json(app, shop, monkeypatch):
    api = Api(app.test_client(), make_channel("WEB"))
    r = api.get("/api/v1/orders/987654")
    assert r.status_code == 404 and r.json["error"]["code"] == "not_found"
    r = api.get("/api/v1/no-such-endpoint")
    assert r.status_code == 404 and r.json["error"]["code"] == "not_found"
    client = new_client(app)
    sign_in(client, "boss")
    r = client.get("/products/NOPE", headers={"Accept": "application/json"})
    assert r.status_code == 404 and r.json["error"]["code"] == "not_found"


def test_when_the_layout_itself_fails_the_500_page_is_still_plain_words(client, shop, monkeypatch):
    sign_in(client, "boss")

    def database_gone(*args, **kwargs):
        raise RuntimeError("connection refused to db.internal:5432")

    # Every page's banner reads the print queue: with it broken, the error page cannot use the layout either.
    monkeypatch.setattr(printing_views.queries, "jobs_needing_attention", database_gone)
    r = client.get("/products")
    assert r.status_code == 500
    html = page(r)
    assert "Something went wrong" in html and "db.internal" not in html and "Traceback" not in html


def test_a_signed_out_visitor_gets_the_not_found_page_with_a_way_to_sign_in(app, shop):
    r = new_client(app).get("/no-such-page")
    assert r.status_code == 404
    html = page(r)
    assert "Not found" in html and 'href="/login"' in html
