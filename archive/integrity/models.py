"""Results of the four-property checks (四性检测, DA/T 70-2018), kept for every run."""
from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..core.types import UTCDateTime, enum_column, utcnow
from ..extensions import db


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
