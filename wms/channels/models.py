"""Sales channels, API tokens, webhooks and the transactional outbox."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, CheckConstraint, DateTime, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from wms.enums import check_in, values
from wms.extensions import db
from wms.stock.models import BigId
from wms.timeutil import utcnow


class TokenScope(StrEnum):
    """What a bearer token reaches."""

    CHANNEL = "channel"
    INTEGRATION = "integration"
    STATION = "station"
    STAFF = "staff"


class WebhookEvent(StrEnum):
    AVAILABILITY_CHANGED = "availability.changed"
    ORDER_UPDATED = "order.updated"
    RETURN_UPDATED = "return.updated"


TOKEN_SCOPES = values(TokenScope)
#: scopes ``wms token`` issues (channel tokens come with their channel, ``wms channel``)
ISSUED_SCOPES = values([TokenScope.INTEGRATION, TokenScope.STATION, TokenScope.STAFF])
WEBHOOK_EVENTS = values(WebhookEvent)


class Channel(db.Model):
    __tablename__ = "channel"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    #: units held back from every sku's delivery availability for this channel
    buffer: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    ship_from: Mapped[list[ChannelLocation]] = relationship(
        order_by="ChannelLocation.position", cascade="all, delete-orphan"
    )


class ChannelLocation(db.Model):
    """A location a channel sells from for delivery."""

    __tablename__ = "channel_location"

    channel_id: Mapped[int] = mapped_column(ForeignKey("channel.id"), primary_key=True)
    location_id: Mapped[int] = mapped_column(ForeignKey("location.id"), primary_key=True)
    position: Mapped[int] = mapped_column(default=0)

    location = relationship("Location")


class ApiToken(db.Model):
    """A bearer token; only its SHA-256 is stored."""

    __tablename__ = "api_token"
    __table_args__ = (
        check_in("scope", TokenScope),
        CheckConstraint("scope <> 'staff' OR user_id IS NOT NULL", name="staff_user"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    scope: Mapped[str] = mapped_column(String(16))
    channel_id: Mapped[int | None] = mapped_column(ForeignKey("channel.id"))
    #: the station a ``station`` token belongs to (it reaches only that station's endpoints)
    station_id: Mapped[int | None] = mapped_column(ForeignKey("station.id"))
    #: the person a ``staff`` token signs in (it stops working when they are deactivated or change password)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    #: what a staff token was issued to, as the client named it ("TC52 #7")
    device: Mapped[str | None] = mapped_column(String(200))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: first characters of the token, to tell tokens apart in listings
    prefix: Mapped[str] = mapped_column(String(12))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: who revoked it: ``cli``, or the user who signed out with it
    revoked_by: Mapped[str | None] = mapped_column(String(128))
    #: the token is refused from this moment on (None: never expires)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: about when it was last used: written at most once a minute, so most requests stay a single read
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    channel = relationship("Channel")
    station = relationship("Station")
    user = relationship("User")


class Webhook(db.Model):
    __tablename__ = "webhook"
    __table_args__ = (UniqueConstraint("channel_id", "url"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channel.id"))
    url: Mapped[str] = mapped_column(String(2000))
    events: Mapped[list[str]] = mapped_column(JSON)
    secret: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


class OutboxEvent(db.Model):
    """Something the outside world must hear of, written in the transaction that caused it.

    ``wms worker`` fans it out into deliveries after commit; a crash between the two loses nothing.
    """

    __tablename__ = "outbox_event"
    __table_args__ = (Index("ix_outbox_event_pending", "dispatched_at", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    event: Mapped[str] = mapped_column(String(64))
    #: the channel that owns the subject (orders, returns); NULL for events every channel may hear
    channel_id: Mapped[int | None] = mapped_column(ForeignKey("channel.id"))
    #: what the event is about: an order id, return id or product id
    subject_id: Mapped[int] = mapped_column()
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    dispatched_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class WebhookDelivery(db.Model):
    """One POST of one event to one webhook; retried with backoff until a 2xx."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (Index("ix_webhook_delivery_due", "delivered_at", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    webhook_id: Mapped[int] = mapped_column(ForeignKey("webhook.id"), index=True)
    #: the event id receivers deduplicate on; the same on every retry
    event_uid: Mapped[str] = mapped_column(String(64))
    event: Mapped[str] = mapped_column(String(64))
    #: the exact body sent, frozen when the delivery is created so that retries are byte-identical
    body: Mapped[str] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    failed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ChannelFeedRead(db.Model):
    """Where a channel stands in the availability change feed: the cursor it last sent (what it has consumed) and
    when. The managers' exceptions page lists a channel whose unread changes grow old; ``muted_until`` hides it
    there for a while once a manager has seen it."""

    __tablename__ = "channel_feed_read"

    channel_id: Mapped[int] = mapped_column(ForeignKey("channel.id"), primary_key=True)
    txid: Mapped[int] = mapped_column(BigInteger, default=0)
    seq: Mapped[int] = mapped_column(BigInteger, default=0)
    read_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    muted_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class WorkerCursor(db.Model):
    """How far a ``wms worker`` stage has read an append-only log, as a (txid, seq) position.

    The availability stage keeps its place in the ``stock_change`` log here; it is advanced in the same
    transaction as the deliveries made from the rows read, so a crash neither loses nor repeats any.
    """

    __tablename__ = "worker_cursor"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    #: writing transaction id of the last log row consumed (0 on SQLite)
    txid: Mapped[int] = mapped_column(BigInteger, default=0)
    #: sequence number of the last log row consumed
    seq: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
