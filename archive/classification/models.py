"""Classification changes (定密变更): a request to raise or lower a document's level, and its two approvals."""
from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..auth.models import User
from ..core.enums import Level, LevelPeriod
from ..core.types import UTCDateTime, enum_column, utcnow
from ..documents.models import Document
from ..extensions import db


class ChangeStatus(str, enum.Enum):
    PENDING = "pending"  # waiting for the department head and the archive head
    APPROVED = "approved"  # both approved: applied to the document
    REJECTED = "rejected"
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        return str(CHANGE_STATUS_LABELS[self])


CHANGE_STATUS_LABELS = {
    ChangeStatus.PENDING: _l("Waiting for approval"),
    ChangeStatus.APPROVED: _l("Approved and applied"),
    ChangeStatus.REJECTED: _l("Rejected"),
    ChangeStatus.CANCELLED: _l("Cancelled"),
}


class ApprovalStep(str, enum.Enum):
    """Both approve, in either order (DOMAIN.md 5.1.5): the handling department and the GM office."""

    DEPARTMENT_HEAD = "department_head"
    ARCHIVE_HEAD = "archive_head"

    @property
    def label(self) -> str:
        return str(APPROVAL_STEP_LABELS[self])


APPROVAL_STEP_LABELS = {
    ApprovalStep.DEPARTMENT_HEAD: _l("Head of the handling department"),
    ApprovalStep.ARCHIVE_HEAD: _l("Archive head (GM office)"),
}


class ClassificationChange(db.Model):
    __tablename__ = "classification_changes"
    __table_args__ = (
        sa.CheckConstraint("old_level <> new_level", name="level_changes"),
        # One open request per document: a second one waits until the first is decided or cancelled.
        sa.Index("ix_classification_changes_open_document", "document_id", unique=True,
                 sqlite_where=sa.text("status = 'pending'"), postgresql_where=sa.text("status = 'pending'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(sa.String(40), unique=True)  # DM-2026-0001
    document_id: Mapped[int] = mapped_column(sa.ForeignKey("documents.id"), index=True)
    status: Mapped[ChangeStatus] = mapped_column(enum_column(ChangeStatus), default=ChangeStatus.PENDING, index=True)
    old_level: Mapped[Level] = mapped_column(enum_column(Level, 1))
    new_level: Mapped[Level] = mapped_column(enum_column(Level, 1))
    period: Mapped[LevelPeriod | None] = mapped_column(enum_column(LevelPeriod))  # none when lowered to C
    period_until: Mapped[date | None]  # the last day of a dated period
    # The knowledge scope (知悉范围) the document will have, beyond its own department, which always knows.
    scope_department_ids: Mapped[list[int]] = mapped_column(sa.JSON, default=list)
    scope_user_ids: Mapped[list[int]] = mapped_column(sa.JSON, default=list)
    reason: Mapped[str] = mapped_column(sa.Text)
    requested_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    department_head_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    department_head_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    archive_head_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    archive_head_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # applied, rejected or cancelled
    closed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    rejection_reason: Mapped[str] = mapped_column(sa.String(1000), default="")

    document: Mapped[Document] = relationship(lazy="joined")
    requested_by: Mapped[User] = relationship(foreign_keys=[requested_by_id])
    department_head: Mapped[User | None] = relationship(foreign_keys=[department_head_id])
    archive_head: Mapped[User | None] = relationship(foreign_keys=[archive_head_id])
    closed_by: Mapped[User | None] = relationship(foreign_keys=[closed_by_id])

    @property
    def is_raise(self) -> bool:
        return self.new_level.rank > self.old_level.rank

    @property
    def higher_level(self) -> Level:
        return self.new_level if self.is_raise else self.old_level

    def approver_id(self, step: ApprovalStep) -> int | None:
        return self.department_head_id if step is ApprovalStep.DEPARTMENT_HEAD else self.archive_head_id

    def __str__(self) -> str:
        return self.number
