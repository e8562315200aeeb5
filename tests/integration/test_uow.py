"""Units of work nest safely: an inner one runs in a savepoint and commits nothing on its own."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.factories import make_location
from wms.errors import InvalidState
from wms.extensions import db
from wms.locations.models import Location
from wms.uow import unit_of_work


def _codes() -> set[str]:
    db.session.rollback()  # a fresh read of what is committed
    return set(db.session.execute(select(Location.code)).scalars())


def _add(session, code: str) -> None:
    session.add(Location(code=code, name=code, kind="warehouse"))
    session.flush()


def test_outer_failure_rolls_back_what_the_inner_unit_wrote(any_app):
    with pytest.raises(InvalidState), unit_of_work() as session:
        _add(session, "OUTER")
        with unit_of_work() as inner:
            _add(inner, "INNER")
        raise InvalidState("the outer unit fails after the inner one succeeded")
    assert _codes() == set()


def test_a_service_called_inside_a_failing_unit_keeps_nothing(any_app):
    with pytest.raises(InvalidState), unit_of_work():
        make_location("BY-SERVICE")  # a public service: its own unit of work, nested here
        raise InvalidState("fails afterwards")
    assert _codes() == set()


def test_inner_failure_rolls_back_only_the_inner_writes(any_app):
    with unit_of_work() as session:
        _add(session, "OUTER")
        with pytest.raises(InvalidState), unit_of_work() as inner:
            _add(inner, "INNER")
            raise InvalidState("the inner unit fails")
        _add(session, "AFTER")
    assert _codes() == {"OUTER", "AFTER"}


def test_nested_units_commit_once_with_the_outer_one(any_app):
    with unit_of_work() as session:
        with unit_of_work() as inner:
            _add(inner, "INNER")
        _add(session, "OUTER")
    assert _codes() == {"INNER", "OUTER"}
    # The depth is reset: the next unit of work is a top-level one again and commits.
    with unit_of_work() as session:
        _add(session, "NEXT")
    assert _codes() == {"INNER", "OUTER", "NEXT"}
