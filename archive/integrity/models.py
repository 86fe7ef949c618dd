"""Results of the four-property checks (四性检测, DA/T 70-2018), kept for every run."""
from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.types import UTCDateTime, enum_column, utcnow
from ..extensions import db

if TYPE_CHECKING:
    from ..auth.models import User


class CheckContext(str, enum.Enum):
    FILING = "filing"
    HANDOVER = "handover"
    PERIODIC = "periodic"


class IntegrityCheck(db.Model):
    __tablename__ = "integrity_checks"
    __table_args__ = (sa.Index("ix_integrity_checks_document_checked", "document_id", "checked_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(sa.ForeignKey("documents.id"))
    file_version_id: Mapped[int | None] = mapped_column(sa.ForeignKey("file_versions.id"))
    context: Mapped[CheckContext] = mapped_column(enum_column(CheckContext))
    ok: Mapped[bool]
    # {"authenticity": {"ok": bool, "findings": [...]}, "integrity": ..., "usability": ..., "security": ...}
    results: Mapped[dict] = mapped_column(sa.JSON)
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    checked_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))


class FixityRun(db.Model):
    """One periodic fixity run: a summary row per run (the result per file is on its FileVersion, each failure is
    an IntegrityAlert), so the table grows by one row an hour, not by one per file checked."""

    __tablename__ = "fixity_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    checked: Mapped[int] = mapped_column(default=0)  # stored blobs re-hashed
    failed: Mapped[int] = mapped_column(default=0)
    bytes_checked: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    # Where the round-robin over sealed records without a check time of their own (texts, receipts, letters)
    # stopped: {"text": last key checked, ...}; the next run goes on from there.
    cursor: Mapped[dict] = mapped_column(sa.JSON, default=dict)


class AlertStatus(str, enum.Enum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"


class IntegrityAlert(db.Model):
    """A stored blob that failed its fixity check: shown to archive heads until one acknowledges it."""

    __tablename__ = "integrity_alerts"

    id: Mapped[int] = mapped_column(primary_key=True)
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    run_id: Mapped[int | None] = mapped_column(sa.ForeignKey("fixity_runs.id"))
    kind: Mapped[str] = mapped_column(sa.String(20))  # "file", "text", "receipt", "letter", "register"
    subject: Mapped[str] = mapped_column(sa.String(200))  # e.g. the archive number and version, a receipt number
    document_id: Mapped[int | None] = mapped_column(sa.ForeignKey("documents.id"))
    blob_id: Mapped[str] = mapped_column(sa.String(64), index=True)
    problem: Mapped[str] = mapped_column(sa.String(40))  # VerifyStatus value: missing, ciphertext checksum mismatch…
    detail: Mapped[str] = mapped_column(sa.String(500), default="")
    status: Mapped[AlertStatus] = mapped_column(enum_column(AlertStatus), default=AlertStatus.OPEN, index=True)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    note: Mapped[str] = mapped_column(sa.String(500), default="")

    acknowledged_by: Mapped[User | None] = relationship()
