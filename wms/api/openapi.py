"""The OpenAPI document, generated from the request schemas."""
