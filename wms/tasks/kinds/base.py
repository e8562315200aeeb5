"""What every task kind contributes to the one scan service (:mod:`wms.tasks.service`): its ``next`` step, what a
scan does, what a short pick does, what completing it does. A kind registers one :class:`KindRules` instance with
:func:`register`; the service locks the task, refuses closed tasks and replays, resolves the scan, and hands over.

A kind's decisions are pure rules (``wms.tasks.rules`` and the ``*_rules`` modules beside it); its handler here
only reads what the rules need and applies what they answer, inside the service's unit of work.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from sqlalchemy.orm import Session

from wms.auth.models import User
from wms.errors import InvalidState
from wms.tasks import rules
from wms.tasks.models import Task, TaskLine, TaskStatus


@dataclass(frozen=True)
class Closing:
    """A write that rides on a scan's closing statement (PostgreSQL): ``ctes`` is the text of one or more
    data-modifying CTEs (``name AS (...)``, comma-separated, names of their own); ``params`` its bind values (names
    of their own). It runs after everything the scan wrote before it, in the same transaction."""

    ctes: str
    params: dict[str, Any]


@dataclass
class Work:
    """One piece of work on a locked task, inside the service's unit of work."""

    session: Session
    task: Task
    user: User
    device: str | None
    #: the task's lines as the pure rules see them (read before the scan)
    states: list[rules.LineState]
    #: the totes of the task's orders as read with its lines: a kind that gives an order a tote writes it here too,
    #: so that the answer shows it without reading the order again
    totes: dict[int, str | None] = field(default_factory=dict)
    #: what the person said of the scanned units (``damaged``), where a kind asks (a transfer's receiving)
    condition: str | None = None
    #: PostgreSQL, a scan: writes that may wait for the scan's closing statement (each a :class:`Closing`), run
    #: there as data-modifying CTEs of the INSERT that stores the answer, a round trip less each. None: write now.
    closing: list[Closing] | None = None

    @property
    def actor(self) -> str:
        return self.user.username

    def line(self, line_no: int) -> TaskLine:
        return next(line for line in self.task.lines if line.line_no == line_no)

    def state(self, line_no: int) -> rules.LineState:
        return next(state for state in self.states if state.line_no == line_no)


class KindRules:
    """The rules of one task kind. Override what the kind does; the defaults refuse."""

    kind: ClassVar[str] = ""

    def next_step(self, task: Task, states: list[rules.LineState]) -> dict[str, Any]:
        """The API's ``next``: ``{expect, prompt, bin, sku, qty}``."""
        return rules.nothing_left()

    def scan(self, work: Work, scan: rules.ScanFacts | None, qty: int | None) -> str:
        """Apply one scan (``scan`` None: a typed ``qty`` alone, where ``next.expect`` is ``qty``); the answer's
        message. Raises the typed errors of the contract; the service rolls everything back then."""
        raise InvalidState(f"a {self.kind} task is not worked by scans", {"kind": self.kind})

    def short(self, work: Work, qty_found: int) -> str:
        """The bin holds fewer units than ``next`` asks (pick only)."""
        raise InvalidState(f"only a pick can be short, not a {self.kind} task", {"kind": self.kind})

    def complete(self, work: Work) -> None:
        """Close the task. Default: every line done, else InvalidState."""
        left = [line.line_no for line in work.task.lines if line.done + line.short < line.qty]
        if left:
            raise InvalidState(f"task {work.task.id} has work left on lines {left}", {"lines": left})
        work.task.status = TaskStatus.DONE

    def after_scan(self, work: Work) -> None:
        """Called after every applied scan. Default: the task is done once every line is."""
        if work.task.lines and all(line.done + line.short >= line.qty for line in work.task.lines):
            work.task.status = TaskStatus.DONE


HANDLERS: dict[str, KindRules] = {}


def register(cls: type[KindRules]) -> type[KindRules]:
    """Class decorator: the kind's rules, used for every task of ``cls.kind``."""
    HANDLERS[cls.kind] = cls()
    return cls


def handler_for(kind: str) -> KindRules:
    """The rules of ``kind`` (a kind with none registered refuses every scan)."""
    return HANDLERS.get(kind) or _Unbuilt(kind)


class _Unbuilt(KindRules):
    def __init__(self, kind: str):
        self.kind = kind  # type: ignore[misc]

    def next_step(self, task: Task, states: list[rules.LineState]) -> dict[str, Any]:
        return {**rules.nothing_left(), "prompt": f"A {self.kind} task cannot be worked here yet"}
