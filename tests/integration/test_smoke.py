from tests.factories import Api, make_world, order_body
from wms.stock.service import check_stock


def test_order_reserves_and_cancel_releases(any_app):
    world = make_world()
    api = Api(any_app.test_client(), world.web)
    r = api.post("/api/v1/orders", order_body(lines=[("A", 3)]))
    assert r.status_code == 201, r.json
    assert r.json["status"] == "reserved"
    assert r.json["lines"][0]["allocations"] == [{"location": "WH1", "qty": 3}]
    assert check_stock() == []
    r2 = api.post(f"/api/v1/orders/{r.json['id']}/cancel")
    assert r2.status_code == 200 and r2.json["status"] == "cancelled"
    assert check_stock() == []
