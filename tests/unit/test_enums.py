"""One source for each list: every ``column IN (...)`` CHECK of the models lists exactly its enum's values, every
enum-valued column has one, and the request schemas and the CLI offer the same values."""

import re
from enum import StrEnum
from typing import get_args

import pytest
from sqlalchemy import CheckConstraint

import wms.models  # noqa: F401  (every table in the metadata)
from wms.api import schemas
from wms.auth.commands import create_token_command, create_user_command
from wms.auth.models import Language, Role, SignInVia
from wms.channels.models import TokenScope, WebhookEvent
from wms.enums import check_in, in_list_sql, values
from wms.extensions import db
from wms.locations.models import BinKind, LocationKind
from wms.orders.models import Fulfilment, OrderStatus
from wms.printing.models import JobOutcome, JobStatus, PrinterFormat
from wms.returns.models import Decision, Disposition, Grade, ReturnMethod, ReturnStatus
from wms.stock.models import ADJUSTABLE_STATUSES, MovementReason, StockStatus
from wms.tasks.models import TaskKind, TaskStatus
from wms.transfers.models import TransferStatus

#: (table, column) -> the enum its values come from
ENUM_COLUMNS: dict[tuple[str, str], type[StrEnum]] = {
    ("user", "role"): Role,
    ("sign_in_failure", "via"): SignInVia,
    ("location", "kind"): LocationKind,
    ("bin", "kind"): BinKind,
    ("stock_quant", "status"): StockStatus,
    ("stock_movement", "from_status"): StockStatus,
    ("stock_movement", "to_status"): StockStatus,
    ("stock_movement", "reason"): MovementReason,
    ("order", "status"): OrderStatus,
    ("order", "fulfilment"): Fulfilment,
    ("order_event", "status"): OrderStatus,
    ("api_token", "scope"): TokenScope,
    ("printer", "fmt"): PrinterFormat,
    ("print_job", "status"): JobStatus,
    ("user", "language"): Language,
    ("task", "kind"): TaskKind,
    ("task", "status"): TaskStatus,
    ("return_request", "status"): ReturnStatus,
    ("return_request", "method"): ReturnMethod,
    ("return_event", "status"): ReturnStatus,
    ("return_item", "grade"): Grade,
    ("return_item", "disposition"): Disposition,
    ("return_item", "decision"): Decision,
    ("transfer", "status"): TransferStatus,
}

IN_LIST = re.compile(r"^(\w+) IN \((.*)\)$")


def _in_list_checks() -> dict[tuple[str, str], tuple[str, ...]]:
    found = {}
    for table in db.metadata.sorted_tables:
        for constraint in table.constraints:
            if not isinstance(constraint, CheckConstraint):
                continue
            match = IN_LIST.match(str(constraint.sqltext))
            if match:
                column, listed = match.groups()
                found[(table.name, column)] = tuple(v.strip().strip("'") for v in listed.split(","))
    return found


def test_every_in_list_check_lists_its_enum():
    checks = _in_list_checks()
    assert set(checks) == set(ENUM_COLUMNS)
    for key, listed in checks.items():
        assert listed == values(ENUM_COLUMNS[key]), key


def test_every_enum_column_is_wide_enough():
    for (table, column), enum in ENUM_COLUMNS.items():
        length = db.metadata.tables[table].c[column].type.length
        assert max(len(v) for v in values(enum)) <= length, (table, column)


def test_check_text_is_what_the_migrations_wrote():
    # The same text as the CHECKs created before the enums existed (0001, 0003): no spurious migration.
    assert in_list_sql("kind", LocationKind) == "kind IN ('warehouse', 'store')"
    assert str(check_in("role", Role).sqltext) == "role IN ('picker', 'clerk', 'manager', 'admin')"
    assert check_in("status", JobStatus).name == "status"


def test_values_are_plain_strings():
    assert values(Role) == ("picker", "clerk", "manager", "admin")
    assert all(type(v) is str for v in values(Role))


def _literal(model: type, field: str) -> tuple[str, ...]:
    annotation = model.model_fields[field].annotation
    if get_args(annotation) and not isinstance(get_args(annotation)[0], str):  # list[Literal[...]]
        annotation = get_args(annotation)[0]
    return get_args(annotation)


@pytest.mark.parametrize(
    ("model", "field", "expected"),
    [
        (schemas.LocationIn, "kind", values(LocationKind)),
        (schemas.BinIn, "kind", values(BinKind)),
        (schemas.AdjustmentIn, "status", ADJUSTABLE_STATUSES),
        (schemas.OrderIn, "fulfilment", values(Fulfilment)),
        (schemas.WebhookIn, "events", values(WebhookEvent)),
        (schemas.JobOutcomeIn, "outcome", values(JobOutcome)),
    ],
)
def test_request_schemas_take_the_enum_values(model, field, expected):
    assert _literal(model, field) == expected


def test_adjustable_statuses_are_stock_statuses():
    assert set(ADJUSTABLE_STATUSES) < set(values(StockStatus))


def _choices(command, option: str) -> tuple[str, ...]:
    param = next(p for p in command.params if p.name == option)
    return tuple(param.type.choices)


def test_cli_offers_the_enum_values():
    assert _choices(create_user_command, "role") == values(Role)
    assert set(_choices(create_token_command, "scope")) == set(values(TokenScope)) - {TokenScope.CHANNEL}
