"""One source for each fixed list (statuses, kinds, roles, scopes): a domain declares it once as a ``StrEnum`` and
derives from it the CHECK constraint, the request schema's ``Literal``, click's choices and the template's options,
so that adding a value is one edit (plus the migration that widens the CHECK)."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from sqlalchemy import CheckConstraint


def values(members: Iterable[StrEnum | str]) -> tuple[str, ...]:
    """The stored strings, as plain ``str``: what click, Jinja, ``Literal[...]`` and SQL see, with no enum
    behaviour to surprise them (click >= 8.2 would show an enum's member names, not its values)."""
    return tuple(str(member) for member in members)


def in_list_sql(column: str, members: Iterable[StrEnum | str]) -> str:
    """``column IN ('a', 'b')``: the text of the CHECK, written the same way in the models and the migrations."""
    return f"{column} IN ({', '.join(repr(v) for v in values(members))})"


def check_in(column: str, members: Iterable[StrEnum | str], name: str | None = None) -> CheckConstraint:
    """A CHECK that ``column`` holds one of ``members`` (NULL passes, as every CHECK lets it). Named ``name``
    (default: the column), which the naming convention turns into ``ck_<table>_<name>``."""
    return CheckConstraint(in_list_sql(column, members), name=name or column)
