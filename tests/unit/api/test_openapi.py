from openapi_spec_validator import validate

from wms.api.openapi import build_document
from wms.api.schemas import REQUEST_SCHEMAS


def test_document_is_valid_openapi():
    validate(build_document())


def test_every_request_schema_is_in_the_document():
    document = build_document()
    for name in REQUEST_SCHEMAS:
        assert name in document["components"]["schemas"]
    order = document["components"]["schemas"]["OrderIn"]
    assert set(order["required"]) >= {"external_id", "fulfilment", "customer", "lines"}
    assert document["paths"]["/api/v1/orders"]["post"]["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/OrderIn"
    }
