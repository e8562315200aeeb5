"""Making and changing bins. It sits in stock, above locations, because a bin's kind decides whether the stock in it
is sellable: a bin that holds stock cannot change between sellable and non-sellable kinds."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from wms.errors import InvalidState
from wms.locations.models import SELLABLE_BIN_KINDS, Bin, BinKind
from wms.locations.service import get_location
from wms.stock.models import StockQuant
from wms.uow import unit_of_work


def upsert_bin(location_code: str, code: str, data: dict[str, Any], actor: str | None = None) -> tuple[Bin, bool]:
    """Create or update bin ``code`` at a location. Locks the bin row. Raises NotFound for an unknown location.

    A bin that holds stock cannot change between sellable (pick, bulk) and non-sellable kinds: that would
    change on-hand sellable without a ledger row. Raises InvalidState then.
    """
    try:
        return _upsert_bin(location_code, code, data, actor)
    except IntegrityError:
        # Created by another request since the locking read: update it (see upsert_location).
        return _upsert_bin(location_code, code, data, actor)


def _upsert_bin(location_code: str, code: str, data: dict[str, Any], actor: str | None) -> tuple[Bin, bool]:
    with unit_of_work() as session:
        location = get_location(location_code, session)
        bin_ = session.execute(
            select(Bin).where(Bin.location_id == location.id, Bin.code == code).with_for_update()
        ).scalar_one_or_none()
        created = bin_ is None
        if created:
            bin_ = Bin(location_id=location.id, code=code, kind=data.get("kind") or "pick")
            session.add(bin_)
        new_kind = data.get("kind") or bin_.kind
        if not created and (new_kind in SELLABLE_BIN_KINDS) != (bin_.kind in SELLABLE_BIN_KINDS):
            held = session.execute(
                select(StockQuant.id).where(StockQuant.bin_id == bin_.id, StockQuant.qty > 0).limit(1)
            ).first()
            if held:
                raise InvalidState(
                    f"bin {code} holds stock: move it out before changing the bin from {bin_.kind} to {new_kind}",
                    {"bin": code, "kind": bin_.kind},
                )
        bin_.kind = new_kind
        if data.get("sequence") is not None:
            bin_.sequence = data["sequence"]
        bin_.location = location
        bin_.updated_by = actor
    return bin_, created


def shelf_for(session: Session, location_id: int, product_id: int) -> Bin | None:
    """Where units of a product go back to be sold at a location: the sellable bin already holding it there, else
    the first pick (then bulk) bin in walk order; None when the location has neither. Reads only."""
    holding = session.execute(
        select(Bin)
        .join(StockQuant, StockQuant.bin_id == Bin.id)
        .where(
            Bin.location_id == location_id,
            Bin.kind.in_(SELLABLE_BIN_KINDS),
            StockQuant.product_id == product_id,
            StockQuant.qty > 0,
        )
        .order_by(Bin.sequence, Bin.code)
        .limit(1)
    ).scalar_one_or_none()
    return holding or first_bin(session, location_id, (BinKind.PICK, BinKind.BULK))


def first_bin(session: Session, location_id: int, kinds: tuple[str, ...]) -> Bin | None:
    """The location's first bin of the first of ``kinds`` it has, in walk order; None when it has none."""
    for kind in kinds:
        found = session.execute(
            select(Bin)
            .where(Bin.location_id == location_id, Bin.kind == kind)
            .order_by(Bin.sequence, Bin.code)
            .limit(1)
        ).scalar_one_or_none()
        if found is not None:
            return found
    return None
