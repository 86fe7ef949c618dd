"""Recording and verifying the audit trail."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Iterator

import sqlalchemy as sa

from ..auth.models import Department, User
from ..core.clock import archive_zone, local_today
from ..core.errors import ValidationError
from ..core.permissions import policy
from ..core.types import utcnow
from ..core.uow import unit_of_work
from ..documents.models import Document
from ..extensions import db
from ..units.models import Dossier
from .models import GENESIS_HASH, AuditEvent, AuditHead

SUCCESS, DENIED, FAILURE = "success", "denied", "failure"


def event_hash(event: Any) -> str:
    """SHA-256 over the previous hash and every field of the event, in a canonical form.

    The actor's department joined the record later: it is hashed when present, so events recorded before
    it keep the hash they were given.
    """
    fields = [
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
    ]
    if event.actor_department:
        fields.append(event.actor_department)
    body = json.dumps(fields, ensure_ascii=False, separators=(",", ":"))
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
        actor_department=getattr(getattr(actor, "department", None), "code", "") or "",
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
    """What the audit viewer and its exports narrow the trail to; dates are calendar days in the archive's zone."""

    action: str = ""  # prefix: "document." matches every document event
    actor: str = ""  # exact login
    department: str = ""  # code: the department recorded with the event, else the actor's current one
    document: str = ""  # archive number: the document's own events and every event naming it
    dossier: str = ""  # archive number: the dossier's events and those of its documents
    outcome: str = ""
    date_from: date | None = None
    date_to: date | None = None

    def in_use(self) -> dict[str, str]:
        return {name: str(value) for name, value in vars(self).items() if value}


def _local_midnight_utc(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=archive_zone()).astimezone(timezone.utc)


def readable_details(details: str) -> list[tuple[str, str]]:
    """An event's JSON details as key/value pairs, nested values kept as (readable, non-ASCII) JSON."""
    pairs = sorted(json.loads(details or "{}").items())
    return [(key, value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)) for key, value in pairs]


def _about(object_type: str, ids: list[int], numbers: list[str]) -> sa.ColumnElement[bool]:
    """Events recorded on these objects: by id, or by archive number where a command named it so."""
    return sa.and_(AuditEvent.object_type == object_type, AuditEvent.object_id.in_([*map(str, ids), *numbers]))


def _naming(numbers: list[str]) -> sa.ColumnElement[bool]:
    """Events whose details name one of these archive numbers as a value (loans, handovers, catalogues…).

    The audit viewer's own readings name them only as the filter used, and are left out.
    """
    return sa.and_(
        sa.not_(AuditEvent.action.startswith("audit.")),
        sa.or_(*(AuditEvent.details.contains(json.dumps(n, ensure_ascii=False), autoescape=True) for n in numbers)),
    )


def _conditions(filters: EventFilter) -> list[sa.ColumnElement[bool]]:
    """The filters as SQL: the one query builder behind the page and both exports."""
    if filters.outcome and filters.outcome not in OUTCOMES:
        raise ValidationError("Unknown outcome %(outcome)s.", outcome=filters.outcome)
    conditions: list[sa.ColumnElement[bool]] = []
    if filters.action:
        conditions.append(AuditEvent.action.startswith(filters.action, autoescape=True))
    if filters.actor:
        conditions.append(AuditEvent.actor_name == filters.actor.lower())
    if filters.department:
        department_id = db.session.scalar(sa.select(Department.id).where(Department.code == filters.department))
        if department_id is None:
            raise ValidationError("There is no department %(code)s.", code=filters.department)
        conditions.append(sa.or_(
            AuditEvent.actor_department == filters.department,
            sa.and_(AuditEvent.actor_department == "",
                    AuditEvent.actor_id.in_(sa.select(User.id).where(User.department_id == department_id))),
        ))
    if filters.document:
        document = db.session.execute(
            sa.select(Document.id, Document.archive_number).where(Document.archive_number == filters.document)
        ).one_or_none()
        if document is None:
            raise ValidationError("No document has the archive number %(number)s.", number=filters.document)
        conditions.append(sa.or_(_about("document", [document.id], [document.archive_number]),
                                 _naming([document.archive_number])))
    if filters.dossier:
        dossier = db.session.execute(
            sa.select(Dossier.id, Dossier.archive_number).where(Dossier.archive_number == filters.dossier)
        ).one_or_none()
        if dossier is None:
            raise ValidationError("No dossier has the archive number %(number)s.", number=filters.dossier)
        documents = db.session.execute(
            sa.select(Document.id, Document.archive_number).where(Document.dossier_id == dossier.id)
        ).all()
        numbers = [d.archive_number for d in documents]
        conditions.append(sa.or_(
            _about("dossier", [dossier.id], [dossier.archive_number]),
            _about("document", [d.id for d in documents], numbers),
            _naming([dossier.archive_number, *numbers]),
        ))
    if filters.outcome:
        conditions.append(AuditEvent.outcome == filters.outcome)
    if filters.date_from:
        conditions.append(AuditEvent.occurred_at >= _local_midnight_utc(filters.date_from))
    if filters.date_to:
        conditions.append(AuditEvent.occurred_at < _local_midnight_utc(filters.date_to + timedelta(days=1)))
    return conditions


def list_events(identity: Any, filters: EventFilter = EventFilter(), *, page: int = 1, per_page: int = 50):
    """The audit viewer's query, newest first: only for those whose role reads the audit trail.

    Reading the trail is itself recorded, with the filters used.
    """
    policy.require(identity, "read_audit")
    conditions = _conditions(filters)
    with unit_of_work():
        record("audit.view", actor=identity, page=page, filters=filters.in_use())
    stmt = sa.select(AuditEvent).where(*conditions).order_by(AuditEvent.seq.desc())
    return db.paginate(stmt, page=page, per_page=per_page, error_out=False, max_per_page=200)


def department_labels(events: list[Any]) -> dict[int, str]:
    """Each event's department as "name (code)": the one recorded with it, else its actor's current one."""
    unrecorded = {e.actor_id for e in events if not e.actor_department and e.actor_id is not None}
    current = dict(db.session.execute(
        sa.select(User.id, Department.code).join(Department, User.department_id == Department.id)
        .where(User.id.in_(unrecorded))
    ).all()) if unrecorded else {}
    names = dict(db.session.execute(sa.select(Department.code, Department.name)).all())
    labels = {}
    for event in events:
        code = event.actor_department or current.get(event.actor_id, "")
        labels[event.seq] = f"{names.get(code, '')} ({code})".strip() if code else ""
    return labels


def department_choices() -> list[tuple[str, str]]:
    return [(d.code, f"{d.name} ({d.code})") for d in db.session.scalars(sa.select(Department).order_by(Department.id))]


def known_logins() -> list[str]:
    return list(db.session.scalars(sa.select(User.username).order_by(User.username)))


# Exports --------------------------------------------------------------------------------------------------

EXPORT_BATCH = 1000  # events read per query while streaming an export
PDF_MAX_EVENTS = 2000  # a PDF longer than this is unreadable; the CSV has no limit


@dataclass(frozen=True)
class ExportedEvent:
    event: Any  # a plain row of audit_events
    department: str


@dataclass(frozen=True)
class TrailExport:
    filters: EventFilter
    up_to: int  # the export's own event: later events are left out, so the export is one moment's trail
    events: Iterator[ExportedEvent]  # oldest first, read in batches while they are written out


def export_events(identity: Any, filters: EventFilter, fmt: str) -> TrailExport:
    """The filtered trail for a CSV or PDF export; the export is recorded, with its filters, before it runs.

    A PDF is refused above PDF_MAX_EVENTS events (the CSV streams any number in batches).
    """
    policy.require(identity, "read_audit")
    conditions = _conditions(filters)
    details: dict[str, Any] = {"format": fmt, "filters": filters.in_use()}
    if fmt == "pdf":
        count = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent).where(*conditions))
        if count > PDF_MAX_EVENTS:
            raise ValidationError(
                "%(count)s events match, and a PDF lists at most %(limit)s: narrow the filters or export CSV.",
                count=count, limit=PDF_MAX_EVENTS,
            )
        details["events"] = count
    with unit_of_work():
        up_to = record("audit.export", actor=identity, **details).seq
    return TrailExport(filters, up_to, _exported(conditions, up_to))


def _exported(conditions: list[sa.ColumnElement[bool]], up_to: int) -> Iterator[ExportedEvent]:
    table, last = AuditEvent.__table__, 0
    while True:
        rows = db.session.execute(
            sa.select(table).where(*conditions, table.c.seq > last, table.c.seq <= up_to)
            .order_by(table.c.seq).limit(EXPORT_BATCH)
        ).all()
        if not rows:
            return
        labels = department_labels(rows)
        for row in rows:
            yield ExportedEvent(row, labels[row.seq])
        last = rows[-1].seq


# The chain's state: its head, the last verification, the hash at the end of each day ----------------------


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


@dataclass(frozen=True)
class ChainStatus:
    head_seq: int
    head_hash: str
    last_check: AuditEvent | None  # the latest verification from the audit page

    @property
    def last_check_details(self) -> dict[str, Any]:
        return json.loads(self.last_check.details) if self.last_check else {}


def chain_status() -> ChainStatus:
    head = db.session.get(AuditHead, 1)
    last_check = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "audit.verify").order_by(AuditEvent.seq.desc()).limit(1)
    ).first()
    return ChainStatus(head.last_seq, head.last_hash, last_check)


ALERT_DAYS = 7


@dataclass(frozen=True)
class AuditAlerts:
    """What an auditor is warned of on the dashboard: refusals and failed log-ins of the last ALERT_DAYS days,
    and the last verification of the chain when it found a break."""

    since: date
    denied: int  # refused accesses, throttled log-ins included
    failed_logins: int
    chain_broken: AuditEvent | None


def alerts(identity: Any) -> AuditAlerts:
    policy.require(identity, "read_audit")
    since = local_today() - timedelta(days=ALERT_DAYS - 1)
    denied, failed_logins = db.session.execute(
        sa.select(sa.func.count().filter(AuditEvent.outcome == DENIED),
                  sa.func.count().filter(AuditEvent.action == "auth.login", AuditEvent.outcome == FAILURE))
        .where(AuditEvent.occurred_at >= _local_midnight_utc(since))
    ).one()
    last_check = chain_status().last_check
    broken = last_check if last_check is not None and last_check.outcome == FAILURE else None
    return AuditAlerts(since, denied, failed_logins, broken)


@dataclass(frozen=True)
class DailyHash:
    day: date
    seq: int
    hash: str
    occurred_at: datetime


def daily_hashes(*, before: date | None = None, days: int = 30) -> list[DailyHash]:
    """The chain's head at the end of each local day that has events, newest first, starting before `before`.

    Events are appended in time order, so a day's last event is found by one probe of the occurred_at
    index: a page costs `days` index look-ups however long the trail is.
    """
    zone = archive_zone()
    end = _local_midnight_utc(before) if before else None
    found: list[DailyHash] = []
    while len(found) < days:
        stmt = sa.select(AuditEvent.seq, AuditEvent.hash, AuditEvent.occurred_at)
        if end is not None:
            stmt = stmt.where(AuditEvent.occurred_at < end)
        last = db.session.execute(
            stmt.order_by(AuditEvent.occurred_at.desc(), AuditEvent.seq.desc()).limit(1)
        ).one_or_none()
        if last is None:
            break
        day = last.occurred_at.astimezone(zone).date()
        found.append(DailyHash(day, last.seq, last.hash, last.occurred_at))
        end = _local_midnight_utc(day)
    return found


def read_daily_hashes(identity: Any, *, before: date | None = None, days: int = 30) -> tuple[list[DailyHash], bool]:
    """A page of daily hashes for an auditor, and whether older days follow; the reading is recorded."""
    policy.require(identity, "read_audit")
    with unit_of_work():
        record("audit.daily_hashes", actor=identity, before=before.isoformat() if before else None)
    found = daily_hashes(before=before, days=days + 1)
    return found[:days], len(found) > days
