"""The OpenAPI 3.1 document of API v1, generated from the pydantic request schemas that validate the bodies."""

from __future__ import annotations

from typing import Any

from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue, models_json_schema
from pydantic_core import core_schema

from wms.api import bp
from wms.api.schemas import REQUEST_SCHEMAS
from wms.enums import values
from wms.orders.models import ORDER_STATUSES
from wms.tasks.models import TaskKind, TaskStatus
from wms.transfers.models import TRANSFER_STATUSES

#: text without NUL, which no field takes (PostgreSQL cannot store it)
NO_NUL = r"^[^\x00]*$"
#: text with something besides blanks, and no NUL: request bodies strip blanks before a minimum length counts
NOT_BLANK = r"^[^\x00]*[^\s\x00][^\x00]*$"
#: characters of a sku the document promises a path can name: printable, neither NUL nor a blank at either end
#: (ASCII and the Latin letters; other printable skus work too, but cannot be stated as a pattern)
_SKU_CHAR = "!-~\u00a1-\u00ac\u00ae-\u024f"
#: path parameters, by name: what the endpoints accept (anything else is 404 or 422)
PATH_PARAMETERS: dict[str, dict[str, Any]] = {
    "code": {"type": "string", "minLength": 1, "maxLength": 32, "pattern": r"^[A-Za-z0-9][A-Za-z0-9._-]*$"},
    "location": {"type": "string", "minLength": 1, "maxLength": 32, "pattern": r"^[A-Za-z0-9][A-Za-z0-9._-]*$"},
    "bin": {"type": "string", "minLength": 1, "maxLength": 64, "pattern": r"^[A-Za-z0-9][A-Za-z0-9._/-]*$"},
    "sku": {
        "type": "string",
        "minLength": 1,
        "maxLength": 64,
        "pattern": f"^[{_SKU_CHAR}]([ {_SKU_CHAR}]*[{_SKU_CHAR}])?$",
    },
    "id": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1},
}
#: the cursor of the change feeds: the ``next`` of a previous page
CURSOR = {
    "name": "after",
    "in": "query",
    "description": "the next of the previous page; absent: from the beginning",
    "schema": {"type": "string", "pattern": r"^[0-9]{1,18}\.[0-9]{1,18}$"},
}

#: (method, path, summary, scope, request schema name or None, {status: description}, query parameters)
ENDPOINTS: list[tuple[str, str, str, str, str | None, dict[int, str], list[dict[str, Any]]]] = [
    (
        "put",
        "/locations/{code}",
        "Create or update a location",
        "integration",
        "LocationIn",
        {200: "updated", 201: "created"},
        [],
    ),
    (
        "put",
        "/locations/{code}/bins/{bin}",
        "Create or update a bin",
        "integration",
        "BinIn",
        {200: "updated", 201: "created", 404: "unknown location", 409: "kind change of a bin holding stock"},
        [],
    ),
    (
        "put",
        "/products/{sku}",
        "Create or update a product and its barcodes",
        "integration",
        "ProductIn",
        {200: "updated", 201: "created"},
        [],
    ),
    (
        "post",
        "/receipts",
        "Book a delivery into a bin (idempotent by reference per location)",
        "integration",
        "ReceiptIn",
        {200: "replay of a known reference: the first result, nothing moved", 201: "booked"},
        [],
    ),
    (
        "post",
        "/adjustments",
        "Add or remove units with a reason",
        "integration",
        "AdjustmentIn",
        {201: "adjusted", 409: "would go negative or below what is reserved"},
        [],
    ),
    (
        "post",
        "/moves",
        "Move units between two bins of a location (a picker: at their home location only)",
        "integration,staff",
        "MoveIn",
        {
            201: "moved",
            404: "a picker's move at another location",
            409: "not enough in the source bin, or below what is reserved",
        },
        [],
    ),
    (
        "get",
        "/stock",
        "Units per bin, lot and status",
        "integration",
        None,
        {200: "{items: [...]}"},
        [
            {"name": "sku", "in": "query", "schema": {"type": "string", "pattern": NO_NUL}},
            {"name": "location", "in": "query", "schema": {"type": "string", "pattern": NO_NUL}},
        ],
    ),
    (
        "get",
        "/availability",
        "Availability of up to 100 skus",
        "channel",
        None,
        {200: "{items: [...]}"},
        [
            {
                "name": "sku",
                "in": "query",
                "required": True,
                "schema": {
                    "type": "array",
                    "items": {"type": "string", "minLength": 1, "maxLength": 64, "pattern": NO_NUL},
                    "minItems": 1,
                    "maxItems": 100,
                },
                "style": "form",
                "explode": True,
            }
        ],
    ),
    (
        "post",
        "/availability/query",
        "Availability of up to 1,000 skus",
        "channel",
        "AvailabilityQueryIn",
        {200: "{items: [...]}"},
        [],
    ),
    (
        "get",
        "/availability/changes",
        "Availability changes after a cursor",
        "channel",
        None,
        {200: "{changes: [...], next: cursor}"},
        [
            CURSOR,
            {
                "name": "limit",
                "in": "query",
                "schema": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100},
            },
        ],
    ),
    (
        "get",
        "/availability/feed",
        "Every product's availability, streamed (NDJSON, or CSV)",
        "channel",
        None,
        {200: "application/x-ndjson or text/csv"},
        [{"name": "format", "in": "query", "schema": {"type": "string", "enum": ["ndjson", "csv"]}}],
    ),
    (
        "post",
        "/orders",
        "Place an order (idempotent by external_id)",
        "channel",
        "OrderIn",
        {
            200: "replay: the same order",
            201: "reserved",
            409: "insufficient_stock (details per short line) or idempotency_conflict",
        },
        [],
    ),
    (
        "get",
        "/orders",
        "This channel's orders: the one with an external_id, or those changed after a cursor, oldest change "
        "first (paged like the availability changes: every page carries next; an order changed again comes again)",
        "channel",
        None,
        {200: "{items: [orders as GET /orders/{id} shows them]} (by external_id), or {items, next: cursor}"},
        [
            {
                "name": "external_id",
                "in": "query",
                "description": "this channel's order with this external id (the other parameters are then ignored)",
                "schema": {"type": "string", "minLength": 1, "maxLength": 128, "pattern": NO_NUL},
            },
            {"name": "status", "in": "query", "schema": {"type": "string", "enum": list(ORDER_STATUSES)}},
            {
                "name": "updated_after",
                "in": "query",
                "description": "orders last updated after this time (ISO 8601; without a zone: UTC)",
                "schema": {"type": "string", "format": "date-time"},
            },
            {
                "name": "limit",
                "in": "query",
                "schema": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100},
            },
            CURSOR,
        ],
    ),
    ("get", "/orders/{id}", "An order with lines, shipments and history", "channel", None, {200: "the order"}, []),
    (
        "post",
        "/orders/{id}/cancel",
        "Cancel an order and release its reservations",
        "channel",
        None,
        {200: "the order", 409: "invalid_state: packed or ready for pickup"},
        [],
    ),
    (
        "put",
        "/webhooks",
        "Register a webhook",
        "channel",
        "WebhookIn",
        {200: "this URL was registered already", 201: "registered"},
        [],
    ),
    ("get", "/webhooks", "This channel's webhooks (without secrets)", "channel", None, {200: "{webhooks: [...]}"}, []),
    (
        "delete",
        "/webhooks",
        "Remove a webhook by url (or id); its pending deliveries are dropped",
        "channel",
        None,
        {204: "removed", 404: "not_found: this channel has no webhook with this url"},
        [
            {
                "name": "url",
                "in": "query",
                "required": True,
                "description": "the registered url (?id= works too; DELETE /webhooks/{id} is the documented way)",
                "schema": {"type": "string", "minLength": 1, "pattern": NO_NUL},
            }
        ],
    ),
    ("delete", "/webhooks/{id}", "Remove a webhook by id", "channel", None, {204: "removed"}, []),
    (
        "get",
        "/stations/{code}/jobs",
        "Claim this station's due print jobs (long poll); content rendered, base64",
        "station",
        None,
        {
            200: "{jobs: [{id, attempt, printer: {name}, kind, reference, copies, content_type, "
            "content_base64, leased_until}], retry_after}; an empty list after the wait; retry_after: seconds "
            "before the next poll (0: at once; more when the server had no long-poll slot free and did not wait)",
            403: "forbidden: not a station token, or another station's",
        },
        [{"name": "wait", "in": "query", "schema": {"type": "integer", "minimum": 0, "maximum": 25, "default": 0}}],
    ),
    (
        "post",
        "/stations/{code}/jobs/{id}",
        "Report a job's outcome: sending (just before the bytes go out), printed, not_ready (reason: the "
        "printer's state), failed",
        "station",
        "JobOutcomeIn",
        {
            200: "the job",
            403: "forbidden: another station's token or job",
            409: "invalid_state: the job is no longer claimed by this agent (do not send it)",
        },
        [],
    ),
    (
        "post",
        "/stations/{code}/scans",
        "Upload scans (stored once per client_id; codes that do not parse are stored as kind error)",
        "station",
        "StationScansIn",
        {200: "{accepted: scans in the batch, stored: new ones}", 403: "forbidden: another station's token"},
        [],
    ),
    (
        "post",
        "/staff/tokens",
        "Sign a person in for the staff API (no token needed): a staff token for this device, shown only now",
        "staff",
        "StaffTokenIn",
        {
            201: "{token, user: {name, role, location}}",
            401: "unauthorized: wrong user name or password (the same answer for both), or an inactive user",
            429: "too_many_attempts: too many failed sign-ins lately for this name or from this address; "
            "the Retry-After header says in how many seconds to try again",
        },
        [],
    ),
    (
        "delete",
        "/staff/tokens/current",
        "Sign out: revoke the staff token of this request",
        "staff",
        None,
        {204: "revoked: its next request gets 401", 403: "forbidden: not a staff token"},
        [],
    ),
    (
        "get",
        "/tasks",
        "Tasks the caller may work on, oldest first (a picker or clerk: their home location's)",
        "staff",
        None,
        {200: "{tasks: [task]}", 422: "validation_error: an unknown kind or status"},
        [
            {"name": "kind", "in": "query", "schema": {"type": "string", "enum": list(values(TaskKind))}},
            {"name": "status", "in": "query", "schema": {"type": "string", "enum": list(values(TaskStatus))}},
            {"name": "location", "in": "query", "schema": {"type": "string", "pattern": NO_NUL}},
        ],
    ),
    ("get", "/tasks/{id}", "One task", "staff", None, {200: "the task", 404: "no such task here"}, []),
    (
        "post",
        "/tasks/{id}/claim",
        "Assign the task to the caller, in_progress",
        "staff",
        None,
        {200: "the task", 404: "no such task here", 409: "invalid_state: done, cancelled or held by another"},
        [],
    ),
    (
        "post",
        "/tasks/{id}/scans",
        "One scan (client id: a retry answers the first answer and is applied once)",
        "staff",
        "TaskScanIn",
        {
            200: "{ok, message, task}",
            404: "no such task here",
            409: "invalid_state: done, cancelled or held by another",
            422: "wrong_bin, wrong_product, wrong_lot, wrong_tote, over_quantity, unknown_code "
            "(details: {expected, scanned}), validation_error",
        },
        [],
    ),
    (
        "post",
        "/tasks/{id}/short",
        "Pick only: the bin holds fewer units than next asks; what is there is picked, the rest is reserved again "
        "elsewhere or the order line flagged, and a count task opens for the bin",
        "staff",
        "TaskShortIn",
        {
            200: "{ok, message, task}",
            404: "no such task here",
            409: "invalid_state: not a pick, nothing to pick, done, or held by another",
            422: "validation_error: qty_found not below what is asked",
        },
        [],
    ),
    (
        "post",
        "/tasks/{id}/complete",
        "Close a task whose work is done",
        "staff",
        "TaskCompleteIn",
        {200: "the task", 404: "no such task here", 409: "invalid_state: not done, or already closed"},
        [],
    ),
    (
        "post",
        "/counts",
        "Open a blind count task per bin (manager, admin); a bin whose count is still open keeps that one",
        "staff",
        "CountsIn",
        {
            201: "{tasks: [id]}, one per bin in the order given",
            403: "forbidden: not a manager or admin",
            422: "validation_error: an unknown location, every unknown bin (bins[i])",
        },
        [],
    ),
    (
        "post",
        "/counts/{id}/approve",
        "Book a count that waits for approval (manager, admin): ledger reason count",
        "staff",
        None,
        {
            200: "the task, done",
            403: "forbidden: not a manager or admin",
            404: "no such task",
            409: "invalid_state: not a count waiting for approval",
        },
        [],
    ),
    (
        "post",
        "/shipments",
        "Ship a packed order: its packed units leave stock (ledger reason ship), the order goes shipped, the "
        "shipping label (and on a PDF printer the packing slip) is queued when a printer is named (pickers at "
        "their home location, managers and admins). With transfer_id (or an order whose units are a transfer's): "
        "the units go in transit to the destination (ledger reason transfer), the transfer goes in_transit and the "
        "destination's transfer_receive task opens",
        "staff",
        "ShipmentIn",
        {
            201: "{id, order_id, carrier, tracking, tracking_url, location, parcels, label_job?, label_jobs?, "
            "packing_slip_job?, transfer_id?}",
            403: "forbidden: not a picker, manager or admin",
            404: "no such order or transfer here (a picker: one of another location)",
            409: "invalid_state: the order is not packed (already shipped, still picking...)",
            422: "validation_error: unknown carrier, tracking missing (manual) or not taken, bad parcels, unknown "
            "printer or one of another location",
        },
        [],
    ),
    (
        "post",
        "/transfers",
        "Send stock from one location to another: reserved at the source like an order (all lines or none), "
        "picked in waves, packed, shipped with POST /shipments {transfer_id} (in_transit), received at the "
        "destination by a transfer_receive task (received)",
        "integration,staff",
        "TransferIn",
        {
            201: "{id, status: requested, from, to, order_id, lines: [{sku, qty, shipped, received, damaged}], "
            "variance, created_at, updated_at, shipped_at, received_at}",
            403: "forbidden: a staff role other than manager or admin",
            409: "insufficient_stock: details list {sku, requested, available} for every short line",
            422: "validation_error: unknown location, the same location at both ends, unknown sku, a sku twice",
        },
        [],
    ),
    (
        "get",
        "/transfers",
        "Transfers the caller may see, newest first: of a pickup order, to or from a location, in a status (open: "
        "not yet received or cancelled)",
        "integration,staff",
        None,
        {200: "{items: [transfers as GET /transfers/{id} shows them]}", 422: "validation_error: bad status"},
        [
            {"name": "order_id", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}},
            {"name": "location", "in": "query", "schema": {"type": "string", "maxLength": 32, "pattern": NO_NUL}},
            {
                "name": "status",
                "in": "query",
                "schema": {"type": "string", "enum": ["open", *TRANSFER_STATUSES]},
            },
        ],
    ),
    (
        "get",
        "/transfers/{id}",
        "A transfer: status requested -> picking -> packed -> in_transit -> received (or cancelled), lines with qty, "
        "shipped, received, damaged, and the variance a receiving found (clerks and pickers of either end, "
        "managers, admins, integrations)",
        "integration,staff",
        None,
        {200: "the transfer", 404: "no such transfer (or one of other locations)"},
        [],
    ),
    (
        "get",
        "/min-max",
        "How much of each product each location keeps (min/max), with where it stands: available, incoming by "
        "replenishment transfer, projected, below its min",
        "integration,staff",
        None,
        {200: "{items: [{location, sku, min, max, available, incoming, projected, below}]}"},
        [{"name": "location", "in": "query", "schema": {"type": "string", "maxLength": 32, "pattern": NO_NUL}}],
    ),
    (
        "put",
        "/min-max/{location}/{sku}",
        "Keep a product at a location between min and max (replenishment suggests a transfer below min, up to max)",
        "integration,staff",
        "MinMaxIn",
        {
            200: "{location, sku, min, max, available, incoming, projected, below}",
            403: "forbidden: a staff role other than manager or admin",
            404: "no such location or sku",
            422: "validation_error: min or max not whole numbers, max below min or below 1",
        },
        [],
    ),
    (
        "delete",
        "/min-max/{location}/{sku}",
        "Stop keeping a product at a location",
        "integration,staff",
        None,
        {204: "removed", 404: "the product has no min/max there"},
        [],
    ),
    (
        "get",
        "/pickups",
        "The pickup order with this code (typed, or the customer's QR scanned) at the caller's store, with its "
        "shelf and lines (clerks at their own store, managers and admins)",
        "staff",
        None,
        {200: "the order, with pickup: {code, store, shelf, hold_until, qr_url} once it is on the shelf"},
        [
            {
                "name": "code",
                "in": "query",
                "required": True,
                "description": "the pickup code; a counter without one sends order and surname instead",
                "schema": {"type": "string", "minLength": 1, "maxLength": 64, "pattern": NO_NUL},
            },
        ],
    ),
    (
        "post",
        "/orders/{id}/handover",
        "Hand a ready pickup order over at the counter, line by line: collected units leave stock, declined ones go "
        "back to the store's sellable stock (sellable) or its returns bin (opened, damaged); idempotent by id",
        "staff",
        "HandoverIn",
        {
            200: "the order: collected, or partially_collected when anything was declined",
            403: "forbidden: not a clerk, manager or admin",
            404: "no such pickup order at the caller's store",
            409: "invalid_state: not ready for pickup (not staged yet, handed over already, expired, cancelled)",
            422: "validation_error: a line that does not add up to the units on the shelf, a sku not on the order, a "
            "sku left out, a store without the bin a declined unit goes to",
        },
        [],
    ),
    (
        "post",
        "/returns",
        "Open a return of a shipped or collected order: by its channel (method ship: sent back to where it left "
        "from, with a return label; or store: handed in at any store), or by a clerk at their store's counter "
        "(method store)",
        "channel,staff",
        "ReturnIn",
        {
            201: "{id, rma, order_id, status: requested, method, store, location, lines, refund_due, history, "
            "label_url?}",
            403: "forbidden: a picker, or a clerk naming another store or method ship",
            404: "no such order (or another channel's)",
            422: "validation_error: a sku never bought on the order, more units than were sold and not returned "
            "yet (per line), method store without a store, an order that has not left any location",
        },
        [],
    ),
    (
        "get",
        "/returns",
        "Returns by RMA (a scanned $R: label too) or by order (neither: the newest), the ones the caller may see",
        "staff",
        None,
        {200: "{items: [returns as GET /returns/{id} shows them]}"},
        [
            {"name": "rma", "in": "query", "schema": {"type": "string", "maxLength": 64, "pattern": NO_NUL}},
            {"name": "order_id", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}},
        ],
    ),
    (
        "get",
        "/returns/{id}",
        "A return: status requested -> received -> inspected -> closed, each line with received, refund_due "
        "(units), disposition and dispositions, and the history",
        "channel,staff",
        None,
        {200: "the return"},
        [],
    ),
    (
        "get",
        "/returns/{id}/label.pdf",
        "The return label (the RMA as Code 128, the order, the items) as a PDF for the customer",
        "channel,staff",
        None,
        {200: "application/pdf"},
        [],
    ),
    (
        "post",
        "/returns/{id}/receive",
        "Take units of a return in at a location, each with a grade and a disposition: restock (a sellable bin, at "
        "once in availability), quarantine (the returns bin, until a manager decides), scrap; idempotent by id "
        "(pickers and clerks at their home location, managers and admins)",
        "staff",
        "ReturnIntakeIn",
        {
            200: "the return (received; inspected or closed once every unit is in)",
            403: "forbidden: a role that may not, or another location than the caller's",
            404: "no such return here",
            409: "invalid_state: every unit is in already",
            422: "validation_error: a sku not on the return, more units than expected, a damaged unit restocked, a "
            "location not expecting it or without the bin a disposition needs",
        },
        [],
    ),
    (
        "post",
        "/waves",
        "Release the due lines of reserved orders at a location (all, or the ones named) as pick tasks; the orders "
        "go picking (managers and admins)",
        "staff",
        "WaveIn",
        {
            201: "{id, location, orders: [id], tasks: [id]}",
            403: "forbidden: not a manager or admin",
            422: "validation_error: unknown location, named orders not due there (listed), nothing due",
        },
        [],
    ),
]

#: operations that take no token: signing in is how a token is had
NO_TOKEN = {("post", "/staff/tokens")}

#: documented with every operation, whatever its own responses say
ERROR_RESPONSES = {
    400: "bad_request: the body is not JSON",
    401: "unauthorized: no token or an unknown token",
    403: "forbidden: a token of the wrong kind, or another channel's resource",
    404: "not_found: unknown id, sku or location in the path",
    413: "payload_too_large",
    422: "validation_error: details list every invalid field",
}


_TEXT_OR_NULL = {"type": ["string", "null"]}
#: what the order endpoints answer (``wms.orders.service.order_view``); more fields may come
ORDER = {
    "type": "object",
    "required": ["id", "external_id", "status", "fulfilment", "lines", "shipments", "history"],
    "properties": {
        "id": {"type": "integer"},
        "external_id": {"type": "string"},
        "status": {"type": "string", "enum": list(ORDER_STATUSES)},
        "fulfilment": {"type": "string", "enum": ["ship", "pickup"]},
        "customer": {"type": "object"},
        "ship_to": {"type": "object"},
        "pickup_location": _TEXT_OR_NULL,
        "pickup_code": _TEXT_OR_NULL,
        "lines": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["sku", "qty", "allocations", "picked", "shipped", "collected", "declined"],
                "properties": {
                    "sku": {"type": "string"},
                    "qty": {"type": "integer"},
                    "allocations": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["location", "qty"],
                            "properties": {"location": {"type": "string"}, "qty": {"type": "integer"}},
                        },
                    },
                    **{name: {"type": "integer"} for name in ("picked", "shipped", "collected", "declined")},
                },
            },
        },
        "shipments": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "carrier": {"type": "string"},
                    "tracking": _TEXT_OR_NULL,
                    "tracking_url": _TEXT_OR_NULL,
                    "parcels": {"type": "array", "items": {"type": "object"}},
                },
            },
        },
        "history": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["status", "at"],
                "properties": {"status": {"type": "string"}, "at": {"type": "string", "format": "date-time"}},
            },
        },
        "created_at": {"type": "string", "format": "date-time"},
        "updated_at": {"type": "string", "format": "date-time"},
    },
}
_ORDER_REF = {"$ref": "#/components/schemas/Order"}
#: bodies of successful answers, by operation and status
SUCCESS_BODIES: dict[tuple[str, str], dict[int, dict[str, Any]]] = {
    ("post", "/orders"): {200: _ORDER_REF, 201: _ORDER_REF},
    ("get", "/orders"): {
        200: {
            "type": "object",
            "required": ["items"],
            "properties": {"items": {"type": "array", "items": _ORDER_REF}, "next": CURSOR["schema"]},
        }
    },
    ("get", "/orders/{id}"): {200: _ORDER_REF},
    ("post", "/orders/{id}/cancel"): {200: _ORDER_REF},
}


class RequestJsonSchema(GenerateJsonSchema):
    """JSON Schema of the request schemas, with the rules their base class (``wms.api.schemas.Schema``) applies to
    every text stated on each: no NUL, and blanks stripped before a minimum length counts."""

    def str_schema(self, schema: core_schema.StringSchema) -> JsonSchemaValue:
        json_schema = super().str_schema(schema)
        if "pattern" not in json_schema:
            json_schema["pattern"] = NOT_BLANK if json_schema.get("minLength", 0) > 0 else NO_NUL
        return json_schema


def build_document() -> dict[str, Any]:
    """The OpenAPI document; request bodies reference the same schemas that validate them."""
    _, top = models_json_schema(
        [(model, "validation") for model in REQUEST_SCHEMAS.values()],
        ref_template="#/components/schemas/{model}",
        schema_generator=RequestJsonSchema,
    )
    schemas: dict[str, Any] = dict(top.get("$defs", {}))
    schemas["Error"] = {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message"],
                "properties": {
                    "code": {"type": "string"},
                    "message": {"type": "string"},
                    "details": {},
                },
            }
        },
    }
    schemas["Order"] = ORDER
    paths: dict[str, Any] = {}
    for method, path, summary, scope, body, responses, params in ENDPOINTS:
        # "integration,staff": either kind of token (the first is the one the document's examples use)
        scopes = scope.split(",")
        operation: dict[str, Any] = {
            "summary": summary,
            "tags": scopes,
            "security": [] if (method, path) in NO_TOKEN else [{name: []} for name in scopes],
            "parameters": [
                {"name": name, "in": "path", "required": True, "schema": PATH_PARAMETERS.get(name, {"type": "string"})}
                for name in _path_params(path)
            ]
            + params,
            "responses": {str(status): {"description": text} for status, text in sorted(responses.items())},
        }
        for status, text in ERROR_RESPONSES.items():
            operation["responses"].setdefault(str(status), {"description": text})
        for status, response in operation["responses"].items():
            if status.startswith("4"):
                response["content"] = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
        for status, schema in SUCCESS_BODIES.get((method, path), {}).items():
            operation["responses"][str(status)]["content"] = {"application/json": {"schema": schema}}
        if body:
            operation["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{body}"}}},
            }
        paths.setdefault(f"/api/v1{path}", {})[method] = operation
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "WMS API",
            "version": "1",
            "description": 'One stock for every sales channel. Errors: {"error": {"code", "message", "details"}}.',
        },
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "channel": {"type": "http", "scheme": "bearer", "description": "a sales channel's token"},
                "integration": {"type": "http", "scheme": "bearer", "description": "an integration token"},
                "station": {"type": "http", "scheme": "bearer", "description": "a station agent's token"},
                "staff": {"type": "http", "scheme": "bearer", "description": "a person's token (POST /staff/tokens)"},
            },
        },
    }


def _path_params(path: str) -> list[str]:
    return [part[1:-1] for part in path.split("/") if part.startswith("{")]


@bp.get("/openapi.json")
def openapi_document():
    return build_document()
