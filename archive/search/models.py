"""The text taken from each stored file: its state in the background work, and where the encrypted pages are."""
from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.types import UTCDateTime, enum_column, utcnow
from ..documents.models import FileVersion
from ..extensions import db


class TextStatus(str, enum.Enum):
    PENDING = "pending"  # queued, or waiting for a retry
    RUNNING = "running"  # a worker holds the lease
    DONE = "done"
    FAILED = "failed"  # gave up after the attempts allowed; `error` says why


class ExtractedText(db.Model):
    """One row per file version. The pages themselves are a JSON list, encrypted in the blob store.

    The database is the source of truth for the queue: a task only runs on a row it has claimed (pending, or
    running with an expired lease), renews the lease after every page, and writes its result only while it
    still holds the lease. A worker killed mid-task leaves a lease that expires; the row is then queued again.
    """

    __tablename__ = "extracted_texts"
    __table_args__ = (sa.Index("ix_extracted_texts_status_queued_at", "status", "queued_at"),)

    file_version_id: Mapped[int] = mapped_column(sa.ForeignKey("file_versions.id"), primary_key=True)
    document_id: Mapped[int] = mapped_column(sa.ForeignKey("documents.id"), index=True)
    status: Mapped[TextStatus] = mapped_column(enum_column(TextStatus), default=TextStatus.PENDING)
    error: Mapped[str] = mapped_column(sa.String(500), default="")  # untranslated reason of the last failure
    method: Mapped[str] = mapped_column(sa.String(20), default="")  # "pdf-text" | "ocr" | "pdf-text+ocr"
    page_count: Mapped[int | None]
    # The encrypted JSON list of pages; empty until the first extraction succeeds.
    blob_id: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    key_id: Mapped[str | None] = mapped_column(sa.String(40), index=True)
    wrapped_key: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    plain_sha256: Mapped[str | None] = mapped_column(sa.String(64))
    cipher_sha256: Mapped[str | None] = mapped_column(sa.String(64))
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # start of the current or last attempt
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # renewed after every page
    lease_token: Mapped[str | None] = mapped_column(sa.String(32))  # which claim holds the lease
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(default=0)  # since it was last queued by a person or by filing

    file_version: Mapped[FileVersion] = relationship()
