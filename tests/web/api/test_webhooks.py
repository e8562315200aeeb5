"""Webhook registration over HTTP (channel token)."""

from __future__ import annotations

import pytest

from tests.factories import Api, make_channel, make_world


@pytest.fixture
def api(any_app):
    world = make_world()
    return Api(any_app.test_client(), world.web)


def _delete(api, path, **query):
    return api.client.delete(path, query_string=query, headers={"Authorization": f"Bearer {api.token}"})


BODY = {"url": "http://127.0.0.1:8099/hooks", "events": ["order.updated"], "secret": "s3cret-value"}


def test_register_then_update(api):
    r = api.put("/api/v1/webhooks", BODY)
    assert r.status_code == 201, r.json
    assert r.json["url"] == BODY["url"] and r.json["events"] == ["order.updated"] and r.json["active"] is True
    assert "secret" not in r.json
    r2 = api.put("/api/v1/webhooks", BODY | {"events": ["availability.changed", "order.updated"]})
    assert r2.status_code == 200 and r2.json["id"] == r.json["id"]
    assert r2.json["events"] == ["availability.changed", "order.updated"]
    listed = api.get("/api/v1/webhooks").json["webhooks"]
    assert [w["id"] for w in listed] == [r.json["id"]] and "secret" not in listed[0]


def test_channels_see_only_their_own_webhooks(any_app, api):
    api.put("/api/v1/webhooks", BODY)
    other = Api(any_app.test_client(), make_channel("OTHER"))
    assert other.get("/api/v1/webhooks").json == {"webhooks": []}
    # the same URL for another channel is that channel's own registration
    assert other.put("/api/v1/webhooks", BODY).status_code == 201
    assert _delete(other, "/api/v1/webhooks", url=BODY["url"]).status_code == 204
    assert len(api.get("/api/v1/webhooks").json["webhooks"]) == 1


def test_remove_by_url_or_id(api):
    first = api.put("/api/v1/webhooks", BODY).json
    second = api.put("/api/v1/webhooks", BODY | {"url": "http://127.0.0.1:8099/other"}).json
    assert _delete(api, "/api/v1/webhooks", url=BODY["url"]).status_code == 204
    assert _delete(api, f"/api/v1/webhooks/{second['id']}").status_code == 204
    assert api.get("/api/v1/webhooks").json == {"webhooks": []}
    r = _delete(api, "/api/v1/webhooks", id=str(first["id"]))
    assert r.status_code == 404 and r.json["error"]["code"] == "not_found"
    # registering a removed URL again creates it anew
    assert api.put("/api/v1/webhooks", BODY).status_code == 201


@pytest.mark.parametrize(
    "body, field",
    [
        ({"events": ["order.updated"], "secret": "s3cret-value"}, "url"),
        (BODY | {"url": "ftp://example.com/x"}, "url"),
        (BODY | {"events": ["stock.exploded"]}, "events[0]"),
        (BODY | {"events": []}, "events"),
        (BODY | {"secret": "short"}, "secret"),
    ],
)
def test_invalid_registration(api, body, field):
    r = api.put("/api/v1/webhooks", body)
    assert r.status_code == 422 and r.json["error"]["code"] == "validation_error"
    assert field in [d["field"] for d in r.json["error"]["details"]]


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8099/hooks",
        "http://localhost/hooks",
        "http://10.1.2.3/hooks",
        "http://192.168.0.10/hooks",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]:8080/hooks",
        "http://0.0.0.0/hooks",
        "http://224.0.0.1/hooks",
        "http://[::ffff:127.0.0.1]/hooks",
    ],
)
def test_private_addresses_are_refused_unless_allowed(any_app, api, url):
    any_app.config["WEBHOOK_ALLOW_PRIVATE"] = False
    try:
        r = api.put("/api/v1/webhooks", BODY | {"url": url})
    finally:
        any_app.config["WEBHOOK_ALLOW_PRIVATE"] = True
    assert r.status_code == 422, r.json
    assert r.json["error"]["code"] == "validation_error"
    assert [d["field"] for d in r.json["error"]["details"]] == ["url"]
    assert api.get("/api/v1/webhooks").json == {"webhooks": []}


def test_no_token(any_app, api):
    anonymous = Api(any_app.test_client(), None)
    assert anonymous.put("/api/v1/webhooks", BODY).status_code == 401
    assert anonymous.get("/api/v1/webhooks").status_code == 401
    assert _delete(anonymous, "/api/v1/webhooks", url=BODY["url"]).status_code == 401


def test_integration_token_is_forbidden(any_app):
    world = make_world()
    r = Api(any_app.test_client(), world.integration).put("/api/v1/webhooks", BODY)
    assert r.status_code == 403 and r.json["error"]["code"] == "forbidden"
