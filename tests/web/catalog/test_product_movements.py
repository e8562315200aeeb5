"""The product page lists the latest ledger rows at the locations the user may see: what moved, who moved it and
on which device."""

from __future__ import annotations

import re

from tests.web.staff import (  # noqa: F401 (fixtures)
    cheap_hashes_fixture,
    client_fixture,
    shop_fixture,
    sign_in,
)
from wms.stock.service import move


def movement_rows(html: str) -> list[str]:
    table = html.split('id="movements"', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r"<tr>(.*?)</tr>", table.split("<tbody>", 1)[1], re.S)
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row)).strip() for row in rows]


def test_the_product_page_shows_who_moved_stock_and_on_which_device(client, shop):
    move("WH1", "A-01", "B-01", "KT-1", 2, actor="piotr", device="TC52 #7")
    sign_in(client, "boss")
    rows = movement_rows(client.get("/products/KT-1").get_data(as_text=True))
    # Newest first: the move, then the receipts of the shop (no actor: a dash).
    assert "move" in rows[0] and "WH1/A-01" in rows[0] and "WH1/B-01" in rows[0]
    assert "piotr" in rows[0] and "TC52 #7" in rows[0]
    assert len(rows) == 5 and all("receipt" in row for row in rows[1:])


def test_a_clerk_sees_only_the_movements_of_her_store(client, shop):
    move("WH1", "A-01", "B-01", "KT-1", 2, actor="piotr", device="TC52 #7")
    sign_in(client, "kasia")
    rows = movement_rows(client.get("/products/KT-1").get_data(as_text=True))
    assert len(rows) == 1 and "ST1/S-01" in rows[0] and "piotr" not in rows[0]


def test_a_product_never_moved_says_so(client, shop):
    sign_in(client, "boss")
    html = client.get("/products/KT-2").get_data(as_text=True)
    assert "No movements of this product" in html
