"""The record of every backup, restore and restore drill: what the archive head's dashboard shows."""
from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..core.types import UTCDateTime, enum_column
from ..extensions import db


class RunKind(str, enum.Enum):
    BACKUP = "backup"
    RESTORE = "restore"
    DRILL = "drill"


class BackupRun(db.Model):
    __tablename__ = "backup_runs"
    __table_args__ = (sa.Index("ix_backup_runs_kind_finished", "kind", "finished_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[RunKind] = mapped_column(enum_column(RunKind))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ok: Mapped[bool]
    snapshot: Mapped[str] = mapped_column(sa.String(500), default="")  # the snapshot directory written or read
    size_bytes: Mapped[int] = mapped_column(sa.BigInteger, default=0)  # database dump plus every blob it needs
    copied_bytes: Mapped[int] = mapped_column(sa.BigInteger, default=0)  # what this run had to copy
    documents: Mapped[int] = mapped_column(default=0)
    file_versions: Mapped[int] = mapped_column(default=0)
    audit_events: Mapped[int] = mapped_column(default=0)
    blobs: Mapped[int] = mapped_column(default=0)
    error: Mapped[str] = mapped_column(sa.Text, default="")
