"""Recording and verifying the audit trail."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any, Iterator

import sqlalchemy as sa

from ..core.permissions import policy
from ..core.types import utcnow
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
    """Re-walk the whole chain in bounded memory; return (events checked, first break or None)."""
    expected_prev, expected_seq, checked = GENESIS_HASH, 1, 0
    for event in _iter_events(batch):
        if event.seq != expected_seq:
            return checked, ChainBreak(expected_seq, f"event {expected_seq} is missing")
        if event.prev_hash != expected_prev:
            return checked, ChainBreak(event.seq, "its previous-hash does not match the event before it")
        if event_hash(event) != event.hash:
            return checked, ChainBreak(event.seq, "its content does not match its hash")
        expected_prev, expected_seq, checked = event.hash, expected_seq + 1, checked + 1
    head = db.session.get(AuditHead, 1)
    if head is None or head.last_seq != checked or head.last_hash != expected_prev:
        return checked, ChainBreak(checked + 1, "the chain head does not match the last event (events removed at the end)")
    return checked, None


def _iter_events(batch: int) -> Iterator[Any]:
    """Plain rows in batches by key, so memory stays flat however long the trail is."""
    table, last = AuditEvent.__table__, 0
    while True:
        rows = db.session.execute(
            sa.select(table).where(table.c.seq > last).order_by(table.c.seq).limit(batch)
        ).all()
        if not rows:
            return
        yield from rows
        last = rows[-1].seq


def list_events(identity: Any, *, action: str | None = None, actor: str | None = None, page: int = 1, per_page: int = 50):
    """The audit viewer's query: only for those whose role reads the audit trail."""
    policy.require(identity, "read_audit")
    stmt = sa.select(AuditEvent).order_by(AuditEvent.seq.desc())
    if action:
        stmt = stmt.where(AuditEvent.action.startswith(action))
    if actor:
        stmt = stmt.where(AuditEvent.actor_name == actor)
    return db.paginate(stmt, page=page, per_page=per_page, error_out=False)
