"""Read models of returns for staff: find one by its RMA (the scanned label) or by its order."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from wms.auth.models import User
from wms.extensions import db
from wms.returns.models import Return, ReturnLine
from wms.returns.service import may_see

#: most returns one lookup lists (an order has a handful)
LIMIT = 100


def find_returns(user: User, rma: str | None = None, order_id: int | None = None) -> list[Return]:
    """The returns with this RMA (a scanned ``$R:`` code is taken too) or of this order (neither: the newest), that
    ``user`` may see, newest first."""
    query = select(Return).options(
        selectinload(Return.lines).selectinload(ReturnLine.items), selectinload(Return.events)
    )
    if rma:
        code = rma.strip()
        if code.upper().startswith("$R:"):
            code = code[3:]
        query = query.where(Return.rma == code.upper())
    elif order_id is not None:
        query = query.where(Return.order_id == order_id)
    found = db.session.execute(query.order_by(Return.id.desc()).limit(LIMIT)).scalars()
    return [ret for ret in found if may_see(ret, user)]
