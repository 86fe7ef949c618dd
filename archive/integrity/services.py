"""The integrity page: open alerts, recent fixity runs, coverage; acknowledging an alert."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from ..audit import services as audit
from ..auth.services import SYSTEM
from ..core.errors import Conflict, ValidationError
from ..core.permissions import policy
from ..core.types import utcnow
from ..core.uow import locked, unit_of_work
from ..documents.models import FileVersion
from ..extensions import db
from ..notifications.services import notify
from .checks import CheckOutcome, four_property_check
from .fixity import ALERT_MESSAGE, archive_heads, live_versions
from .models import AlertStatus, CheckContext, FixityRun, IntegrityAlert, IntegrityCheck

RECENT_RUNS = 20


def open_alerts() -> list[IntegrityAlert]:
    """Alerts nobody has acknowledged yet, newest first (the archive head's dashboard shows them)."""
    return list(db.session.scalars(
        sa.select(IntegrityAlert).where(IntegrityAlert.status == AlertStatus.OPEN)
        .order_by(IntegrityAlert.raised_at.desc(), IntegrityAlert.id.desc())))


@dataclass(frozen=True)
class Coverage:
    cycle_days: int
    files: int  # document file versions whose content is kept
    checked_in_cycle: int  # of those, checked within the last cycle_days
    never_checked: int
    oldest_check: datetime | None  # the least recent check of any file (None: none checked yet)

    @property
    def percent(self) -> float:
        return 100.0 * self.checked_in_cycle / self.files if self.files else 100.0


def coverage() -> Coverage:
    cycle_days = current_app.config["FIXITY_CYCLE_DAYS"]
    since = utcnow() - timedelta(days=cycle_days)
    files, in_cycle, never, oldest = db.session.execute(
        sa.select(sa.func.count(),
                  sa.func.count().filter(FileVersion.last_fixity_at >= since),
                  sa.func.count().filter(FileVersion.last_fixity_at.is_(None)),
                  sa.func.min(FileVersion.last_fixity_at))
        .select_from(FileVersion).where(live_versions())
    ).one()
    return Coverage(cycle_days, files, in_cycle, never, oldest)


@dataclass(frozen=True)
class IntegrityPage:
    alerts: list[IntegrityAlert]
    acknowledged: list[IntegrityAlert]
    runs: list[FixityRun]
    coverage: Coverage
    may_acknowledge: bool


def integrity_page(identity) -> IntegrityPage:
    policy.require(identity, "integrity_view")
    acknowledged = list(db.session.scalars(
        sa.select(IntegrityAlert).where(IntegrityAlert.status == AlertStatus.ACKNOWLEDGED)
        .order_by(IntegrityAlert.acknowledged_at.desc()).limit(RECENT_RUNS)))
    runs = list(db.session.scalars(sa.select(FixityRun).order_by(FixityRun.id.desc()).limit(RECENT_RUNS)))
    return IntegrityPage(open_alerts(), acknowledged, runs, coverage(),
                         policy.can(identity, "acknowledge", IntegrityAlert()))


def acknowledge(identity, alert_id: int, note: str) -> IntegrityAlert:
    """The archive head has seen the alert and says what is done about it (a note is required)."""
    policy.require(identity, "integrity_view")
    if not note.strip():
        raise ValidationError("Say what is done about the alert.")
    with unit_of_work():
        alert = locked(IntegrityAlert, alert_id)
        policy.require(identity, "acknowledge", alert)
        if alert.status is not AlertStatus.OPEN:
            raise Conflict("This alert was already acknowledged.")
        alert.status, alert.acknowledged_at = AlertStatus.ACKNOWLEDGED, utcnow()
        alert.acknowledged_by_id, alert.note = identity.id, note.strip()[:500]
        audit.record("integrity.acknowledge", actor=identity, obj=alert, subject=alert.subject, note=alert.note)
    return alert


FILING_CHECK_FAILED = "four-property check failed"  # an alert's problem, beside the fixity statuses


def check_at_filing(file_version_id: int) -> CheckOutcome | None:
    """The four-property check of a newly filed file (DA/T 70: at filing), run by the worker beside its text
    extraction so that filing itself stays quick; once per version. A failure raises an alert for the archive
    heads, as a failed fixity run does. None when there is nothing (left) to check."""
    version = db.session.get(FileVersion, file_version_id)
    if version is None or version.shredded_at is not None or db.session.scalar(
            sa.select(IntegrityCheck.id).where(IntegrityCheck.file_version_id == version.id,
                                               IntegrityCheck.context == CheckContext.FILING).limit(1)):
        return None
    document = version.document
    with unit_of_work() as uow:
        outcome = four_property_check(document, context=CheckContext.FILING, version=version, uow=uow)
        if not outcome.ok:
            alert = IntegrityAlert(kind="file", subject=f"{document.archive_number} v{version.version}"[:200],
                                   document_id=document.id, blob_id=version.blob_id, problem=FILING_CHECK_FAILED,
                                   detail=", ".join(dict.fromkeys(name for name, _f in outcome.failures))[:500],
                                   raised_at=utcnow())
            db.session.add(alert)
            db.session.flush()
            audit.record("integrity.alert", actor=SYSTEM, obj=alert, kind=alert.kind, subject=alert.subject,
                         blob=alert.blob_id, problem=alert.problem)
            notify(archive_heads(), "integrity.alert", ALERT_MESSAGE, "/integrity/", count=1)
    return outcome
