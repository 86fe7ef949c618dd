"""Recording and verifying the audit trail."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Iterator
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app

from ..core.errors import ValidationError
from ..core.permissions import policy
from ..core.types import utcnow
from ..core.uow import unit_of_work
from ..extensions import db
from .models import GENESIS_HASH, AuditEvent, AuditHead

SUCCESS, DENIED, FAILURE = "success", "denied", "failure"


def event_hash(event: Any) -> str:
    """SHA-256 over the previous hash and every field of the event, in a canonical form."""
    body = json.dumps(
        [
            event.seq,
            event.occurred_at.isoformat(timespec="microseconds"),
            event.actor_id,
            event.actor_name,
            event.action,
            event.object_type,
            event.object_id,
            event.outcome,
            event.ip,
            event.details,
        ],
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256((event.prev_hash + body).encode("utf-8")).hexdigest()


def describe(obj: Any) -> tuple[str, str]:
    if obj is None:
        return "", ""
    return type(obj).__name__.lower(), str(getattr(obj, "id", obj))


def record(
    action: str,
    *,
    actor: Any = None,
    obj: Any = None,
    object_type: str | None = None,
    object_id: str | None = None,
    outcome: str = SUCCESS,
    ip: str = "",
    **details: Any,
) -> AuditEvent:
    """Append an event to the current transaction. It commits, or rolls back, with the work it records."""
    head = db.session.execute(
        sa.update(AuditHead)
        .where(AuditHead.id == 1)
        .values(last_seq=AuditHead.last_seq + 1)
        .returning(AuditHead.last_seq, AuditHead.last_hash)
    ).one()
    obj_type, obj_id = describe(obj)
    event = AuditEvent(
        seq=head.last_seq,
        occurred_at=utcnow(),
        actor_id=getattr(actor, "id", None),
        actor_name=getattr(actor, "username", "") or "",
        action=action,
        object_type=object_type if object_type is not None else obj_type,
        object_id=object_id if object_id is not None else obj_id,
        outcome=outcome,
        ip=ip or _current_ip(),
        details=json.dumps(details, ensure_ascii=False, sort_keys=True, default=str),
        prev_hash=head.last_hash,
    )
    event.hash = event_hash(event)
    db.session.add(event)
    db.session.execute(sa.update(AuditHead).where(AuditHead.id == 1).values(last_hash=event.hash))
    return event


def record_now(action: str, **kwargs: Any) -> None:
    """Record in a transaction of its own: for denials and failures whose work is rolled back."""
    db.session.rollback()
    record(action, **kwargs)
    db.session.commit()


def _current_ip() -> str:
    """The client address when called within a request; services never read the request otherwise."""
    from flask import has_request_context, request

    return (request.remote_addr or "") if has_request_context() else "cli"


@dataclass
class ChainBreak:
    seq: int
    reason: str


def verify_chain(batch: int = 2000) -> tuple[int, ChainBreak | None]:
    """Re-walk the whole chain in bounded memory; return (events checked, first break or None).

    The head is read first and the walk stops at its sequence number, so events appended while
    the check runs (the archive stays in use) are not mistaken for a broken end of the chain.
    """
    head = db.session.execute(
        sa.select(AuditHead.last_seq, AuditHead.last_hash).where(AuditHead.id == 1)
    ).one_or_none()
    if head is None:
        return 0, ChainBreak(1, "the chain head is missing")
    expected_prev, expected_seq, checked = GENESIS_HASH, 1, 0
    for event in _iter_events(batch, up_to=head.last_seq):
        if event.seq != expected_seq:
            return checked, ChainBreak(expected_seq, f"event {expected_seq} is missing")
        if event.prev_hash != expected_prev:
            return checked, ChainBreak(event.seq, "its previous-hash does not match the event before it")
        if event_hash(event) != event.hash:
            return checked, ChainBreak(event.seq, "its content does not match its hash")
        expected_prev, expected_seq, checked = event.hash, expected_seq + 1, checked + 1
    if head.last_seq != checked or head.last_hash != expected_prev:
        return checked, ChainBreak(checked + 1, "the chain head does not match the last event (events removed at the end)")
    return checked, None


def _iter_events(batch: int, up_to: int) -> Iterator[Any]:
    """Plain rows in batches by key, so memory stays flat however long the trail is."""
    table, last = AuditEvent.__table__, 0
    while True:
        rows = db.session.execute(
            sa.select(table).where(table.c.seq > last, table.c.seq <= up_to).order_by(table.c.seq).limit(batch)
        ).all()
        if not rows:
            return
        yield from rows
        last = rows[-1].seq


OUTCOMES = (SUCCESS, DENIED, FAILURE)


@dataclass(frozen=True)
class EventFilter:
    """What the audit viewer narrows the trail to; dates are calendar days in the archive's time zone."""

    action: str = ""  # prefix: "document." matches every document event
    actor: str = ""  # exact login
    outcome: str = ""
    date_from: date | None = None
    date_to: date | None = None

    def in_use(self) -> dict[str, str]:
        return {name: str(value) for name, value in vars(self).items() if value}


def _local_midnight_utc(day: date) -> datetime:
    zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    return datetime.combine(day, time.min, tzinfo=zone).astimezone(timezone.utc)


def list_events(identity: Any, filters: EventFilter = EventFilter(), *, page: int = 1, per_page: int = 50):
    """The audit viewer's query, newest first: only for those whose role reads the audit trail.

    Reading the trail is itself recorded, with the filters used.
    """
    policy.require(identity, "read_audit")
    if filters.outcome and filters.outcome not in OUTCOMES:
        raise ValidationError("Unknown outcome %(outcome)s.", outcome=filters.outcome)
    with unit_of_work():
        record("audit.view", actor=identity, page=page, filters=filters.in_use())
    stmt = sa.select(AuditEvent).order_by(AuditEvent.seq.desc())
    if filters.action.strip():
        stmt = stmt.where(AuditEvent.action.startswith(filters.action.strip(), autoescape=True))
    if filters.actor.strip():
        stmt = stmt.where(AuditEvent.actor_name == filters.actor.strip().lower())
    if filters.outcome:
        stmt = stmt.where(AuditEvent.outcome == filters.outcome)
    if filters.date_from:
        stmt = stmt.where(AuditEvent.occurred_at >= _local_midnight_utc(filters.date_from))
    if filters.date_to:
        stmt = stmt.where(AuditEvent.occurred_at < _local_midnight_utc(filters.date_to + timedelta(days=1)))
    return db.paginate(stmt, page=page, per_page=per_page, error_out=False, max_per_page=200)


def check_chain(identity: Any) -> tuple[int, ChainBreak | None]:
    """Re-walk the chain for an auditor (about 2 s per 100,000 events); the check is itself recorded."""
    policy.require(identity, "read_audit")
    checked, brk = verify_chain()
    with unit_of_work():
        record(
            "audit.verify",
            actor=identity,
            outcome=SUCCESS if brk is None else FAILURE,
            checked=checked,
            **({"broken_at": brk.seq, "reason": brk.reason} if brk else {}),
        )
    return checked, brk
