"""Retention schedule (保管期限表), legal holds, disposals (销毁) with their witnesses, and the shredded blobs."""
from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..auth.models import User
from ..core.enums import Category, Retention
from ..core.types import UTCDateTime, enum_column, utcnow
from ..documents.models import Document
from ..extensions import db


class RetentionSchedule(db.Model):
    """The company's period for a category. A missing row means the default of DOMAIN.md (DEFAULT_RETENTION);
    a row may only lengthen it. Filing takes it as the minimum; expiry counts with the longer of it and the
    document's own period."""

    __tablename__ = "retention_schedules"

    category: Mapped[Category] = mapped_column(enum_column(Category, 2), primary_key=True)
    retention: Mapped[Retention] = mapped_column(enum_column(Retention, 4))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    updated_by: Mapped[User | None] = relationship()


class LegalHold(db.Model):
    """A hold an archive head placed on a document, with a reason; lifting it needs a reason too."""

    __tablename__ = "legal_holds"

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(sa.ForeignKey("documents.id"), index=True)
    reason: Mapped[str] = mapped_column(sa.String(500))
    placed_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    placed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    lifted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lifted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    lift_reason: Mapped[str] = mapped_column(sa.String(500), default="")

    document: Mapped[Document] = relationship(lazy="joined")
    placed_by: Mapped[User] = relationship(foreign_keys=[placed_by_id])
    lifted_by: Mapped[User | None] = relationship(foreign_keys=[lifted_by_id])


class DisposalStatus(str, enum.Enum):
    PROPOSED = "proposed"  # waits for an archive head's approval
    APPROVED = "approved"  # waits for two witnesses (监销人)
    COMPLETED = "completed"  # the second witness confirmed: the content is destroyed, the register filed
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        return str(DISPOSAL_STATUS_LABELS[self])


DISPOSAL_STATUS_LABELS = {
    DisposalStatus.PROPOSED: _l("Proposed"),
    DisposalStatus.APPROVED: _l("Approved, awaiting witnesses"),
    DisposalStatus.COMPLETED: _l("Disposed of"),
    DisposalStatus.CANCELLED: _l("Cancelled"),
}
OPEN_DISPOSAL = (DisposalStatus.PROPOSED, DisposalStatus.APPROVED)


class Disposal(db.Model):
    """A disposal proposal and, once completed, the record of the destruction with its register (销毁清册)."""

    __tablename__ = "disposals"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(sa.String(40), unique=True)  # XH-2026-0001, also the register's number
    reason: Mapped[str] = mapped_column(sa.String(500))  # 销毁原因
    status: Mapped[DisposalStatus] = mapped_column(enum_column(DisposalStatus), default=DisposalStatus.PROPOSED,
                                                   index=True)
    proposed_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    proposed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    approved_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancel_reason: Mapped[str] = mapped_column(sa.String(500), default="")
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The destruction register PDF, kept permanently, encrypted like every file.
    register_blob_id: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    register_key_id: Mapped[str | None] = mapped_column(sa.String(40), index=True)
    register_wrapped_key: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    register_plain_sha256: Mapped[str | None] = mapped_column(sa.String(64))
    register_cipher_sha256: Mapped[str | None] = mapped_column(sa.String(64))

    proposed_by: Mapped[User] = relationship(foreign_keys=[proposed_by_id])
    approved_by: Mapped[User | None] = relationship(foreign_keys=[approved_by_id])
    cancelled_by: Mapped[User | None] = relationship(foreign_keys=[cancelled_by_id])
    items: Mapped[list["DisposalItem"]] = relationship(
        back_populates="disposal", order_by="DisposalItem.id", cascade="all, delete-orphan"
    )
    witnesses: Mapped[list["DisposalWitness"]] = relationship(order_by="DisposalWitness.confirmed_at")


class DisposalItem(db.Model):
    __tablename__ = "disposal_items"
    __table_args__ = (sa.UniqueConstraint("disposal_id", "document_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    disposal_id: Mapped[int] = mapped_column(sa.ForeignKey("disposals.id"), index=True)
    document_id: Mapped[int] = mapped_column(sa.ForeignKey("documents.id"), index=True)
    remarks: Mapped[str] = mapped_column(sa.String(300), default="")  # 备考

    disposal: Mapped[Disposal] = relationship(back_populates="items")
    document: Mapped[Document] = relationship(lazy="joined", foreign_keys=[document_id])


class DisposalWitness(db.Model):
    """A witness's (监销人) confirmation; one per person and disposal, so nobody witnesses twice."""

    __tablename__ = "disposal_witnesses"
    __table_args__ = (sa.UniqueConstraint("disposal_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    disposal_id: Mapped[int] = mapped_column(sa.ForeignKey("disposals.id"), index=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    confirmed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship(lazy="joined")


class ShreddedBlob(db.Model):
    """A blob whose data key a disposal destroyed. Written in the disposal's transaction, before the blob files
    are deleted after the commit: a blob whose id is here is garbage and is deleted at once by
    `archive verify --repair` (a crash between the commit and the deletion leaves such files)."""

    __tablename__ = "shredded_blobs"

    blob_id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    disposal_id: Mapped[int] = mapped_column(sa.ForeignKey("disposals.id"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(10))  # "file" (a file version) or "text" (its extracted text)
    shredded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
