"""An import started from the import page: its manifest, folder, progress and the problems found."""
from __future__ import annotations

import enum
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..auth.models import User
from ..core.types import UTCDateTime, enum_column, utcnow
from ..extensions import db


STALL_AFTER = timedelta(minutes=15)  # far longer than one document takes to file


class JobState(str, enum.Enum):
    INVALID = "invalid"  # the check found problems: nothing can be filed until the manifest is fixed
    CHECKED = "checked"  # the check found none: ready to start
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"  # stopped: the second check before filing found problems, or the run broke off

    @property
    def label(self) -> str:
        return str({
            JobState.INVALID: _l("Problems found"), JobState.CHECKED: _l("Checked, ready to start"),
            JobState.QUEUED: _l("Waiting for the worker"), JobState.RUNNING: _l("Running"),
            JobState.DONE: _l("Done"), JobState.FAILED: _l("Stopped"),
        }[self])

    @property
    def finished(self) -> bool:
        return self in (JobState.INVALID, JobState.DONE, JobState.FAILED)


class ImportJob(db.Model):
    __tablename__ = "import_jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    manifest_name: Mapped[str] = mapped_column(sa.String(255))
    manifest: Mapped[bytes] = mapped_column(sa.LargeBinary)  # as uploaded: the run reads it again
    folder: Mapped[str] = mapped_column(sa.String(500))  # relative to IMPORT_ROOT
    state: Mapped[JobState] = mapped_column(enum_column(JobState), default=JobState.CHECKED)
    total: Mapped[int] = mapped_column(default=0)  # rows in the manifest
    filed: Mapped[int] = mapped_column(default=0)
    skipped: Mapped[int] = mapped_column(default=0)  # already filed (same checksum in the same dossier)
    failed: Mapped[int] = mapped_column(default=0)
    # [{"row": n, "message": English source string, "details": {...}}]: translated when shown
    problems: Mapped[list] = mapped_column(sa.JSON, default=list)
    # Touched by every row the worker files: a running job that has not moved for STALL_AFTER lost its worker.
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    created_by: Mapped[User] = relationship()

    @property
    def stalled(self) -> bool:
        """Queued or running, but not moved for STALL_AFTER: its worker was killed (the import resumes)."""
        return self.state in (JobState.QUEUED, JobState.RUNNING) and utcnow() - self.updated_at > STALL_AFTER

    @property
    def processed(self) -> int:
        return self.filed + self.skipped + self.failed

    @property
    def percent(self) -> int:
        return 100 * self.processed // self.total if self.total else 0
