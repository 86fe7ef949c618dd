"""Loans (借阅): requests, their approval steps and items; consultations by outside parties."""
from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..auth.models import Department, User
from ..core.enums import Level
from ..core.types import UTCDateTime, enum_column, utcnow
from ..documents.models import Document
from ..extensions import db
from ..units.models import Dossier


class LoanUse(str, enum.Enum):
    """How the borrower uses what is lent (DOMAIN.md: electronic view / reading room / take-out / copy)."""

    VIEW = "view"  # electronic, view-only: a watermarked rendition, never the original file
    COPY = "copy"  # electronic copy: the file itself may be downloaded while the loan runs
    READING_ROOM = "reading_room"  # paper original read in the archive's reading room (the default for paper)
    TAKE_OUT = "take_out"  # paper original taken out of the archive (exceptional)

    @property
    def is_paper(self) -> bool:
        return self in (LoanUse.READING_ROOM, LoanUse.TAKE_OUT)

    @property
    def label(self) -> str:
        return str(LOAN_USE_LABELS[self])


LOAN_USE_LABELS = {
    LoanUse.VIEW: _l("Electronic view 电子查阅"),
    LoanUse.COPY: _l("Copy 复制"),
    LoanUse.READING_ROOM: _l("Reading room 阅览室查阅"),
    LoanUse.TAKE_OUT: _l("Take-out of the original 原件外借"),
}


class LoanStatus(str, enum.Enum):
    DRAFT = "draft"  # the basket: items being picked, not yet sent
    SUBMITTED = "submitted"  # waiting for its approval steps
    APPROVED = "approved"  # every step approved; paper waits to be issued
    REJECTED = "rejected"
    ISSUED = "issued"  # electronic access open, or paper items out
    OVERDUE = "overdue"  # paper items not back after the due date
    RETURNED = "returned"
    CANCELLED = "cancelled"
    EXPIRED = "expired"  # the period ended before issue, or electronic access ran out
    RENEWED = "renewed"  # superseded by an approved renewal, which carries the items on
    SUSPENDED = "suspended"  # a classification change made it no longer fit: access stopped, paper comes back

    @property
    def label(self) -> str:
        return str(LOAN_STATUS_LABELS[self])

    @property
    def is_open(self) -> bool:
        return self in OPEN_STATUSES


LOAN_STATUS_LABELS = {
    LoanStatus.DRAFT: _l("Draft"),
    LoanStatus.SUBMITTED: _l("Waiting for approval"),
    LoanStatus.APPROVED: _l("Approved"),
    LoanStatus.REJECTED: _l("Rejected"),
    LoanStatus.ISSUED: _l("Issued"),
    LoanStatus.OVERDUE: _l("Overdue"),
    LoanStatus.RETURNED: _l("Returned"),
    LoanStatus.CANCELLED: _l("Cancelled"),
    LoanStatus.EXPIRED: _l("Expired"),
    LoanStatus.RENEWED: _l("Renewed"),
    LoanStatus.SUSPENDED: _l("Suspended"),
}
# Loans whose items are out or about to go out.
OPEN_STATUSES = frozenset({LoanStatus.SUBMITTED, LoanStatus.APPROVED, LoanStatus.ISSUED, LoanStatus.OVERDUE})


class StepKind(str, enum.Enum):
    """Who must approve (DOMAIN.md, Borrowing): the archive always; owning department heads for B-level and
    cross-department requests; the archive head for A-level."""

    ARCHIVE = "archive"
    DEPARTMENT_HEAD = "department_head"
    ARCHIVE_HEAD = "archive_head"

    @property
    def label(self) -> str:
        return str(
            {
                StepKind.ARCHIVE: _l("Archive 档案室"),
                StepKind.DEPARTMENT_HEAD: _l("Head of the owning department 归档部门负责人"),
                StepKind.ARCHIVE_HEAD: _l("Archive head 档案室负责人"),
            }[self]
        )


class StepReason(str, enum.Enum):
    """Why an approver is asked, shown to them."""

    EVERY_LOAN = "every_loan"
    CROSS_DEPARTMENT = "cross_department"
    LEVEL_B = "level_b"
    LEVEL_A = "level_a"

    @property
    def label(self) -> str:
        return str(
            {
                StepReason.EVERY_LOAN: _l("Every loan is approved by the archive"),
                StepReason.CROSS_DEPARTMENT: _l("The borrower is from another department"),
                StepReason.LEVEL_B: _l("The request includes B-level documents"),
                StepReason.LEVEL_A: _l("The request includes A-level documents"),
            }[self]
        )


class Decision(str, enum.Enum):
    APPROVED = "approved"
    REJECTED = "rejected"

    @property
    def label(self) -> str:
        return str({Decision.APPROVED: _l("Approved"), Decision.REJECTED: _l("Rejected")}[self])


class ItemState(str, enum.Enum):
    """A paper item's state; an item not back in good order keeps its loan open."""

    WAITING = "waiting"  # not issued yet
    OUT = "out"
    RETURNED = "returned"
    MISSING = "missing"
    DAMAGED = "damaged"

    @property
    def label(self) -> str:
        return str(
            {
                ItemState.WAITING: _l("Not issued"),
                ItemState.OUT: _l("Out"),
                ItemState.RETURNED: _l("Returned"),
                ItemState.MISSING: _l("Missing"),
                ItemState.DAMAGED: _l("Damaged"),
            }[self]
        )


class Loan(db.Model):
    __tablename__ = "loans"
    __table_args__ = (
        sa.CheckConstraint("due_date >= start_date", name="period_ordered"),
        sa.Index("ix_loans_borrower_status", "borrower_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str | None] = mapped_column(sa.String(40), unique=True)  # 借阅编号, given on submission
    borrower_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    department_id: Mapped[int] = mapped_column(sa.ForeignKey("departments.id"), index=True)  # the borrower's
    purpose: Mapped[str] = mapped_column(sa.Text, default="")
    use: Mapped[LoanUse] = mapped_column(enum_column(LoanUse), default=LoanUse.VIEW)
    start_date: Mapped[date]
    due_date: Mapped[date]  # the last day of the loan, inclusive
    # Electronic access runs from starts_at to ends_at (local midnights around the period), set on approval.
    starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[LoanStatus] = mapped_column(enum_column(LoanStatus), default=LoanStatus.DRAFT, index=True)
    level: Mapped[Level | None] = mapped_column(enum_column(Level, 1))  # highest level of the items
    renews_id: Mapped[int | None] = mapped_column(sa.ForeignKey("loans.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # approved or rejected
    issued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    issued_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # returned, cancelled, expired, renewed
    closed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    overdue_notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    note: Mapped[str] = mapped_column(sa.Text, default="")  # e.g. why the loan stays open after a return
    suspended_reason: Mapped[str | None] = mapped_column(sa.String(300))  # message id, translated when shown

    borrower: Mapped[User] = relationship(foreign_keys=[borrower_id], lazy="joined")
    department: Mapped[Department] = relationship(lazy="joined")
    issued_by: Mapped[User | None] = relationship(foreign_keys=[issued_by_id])
    closed_by: Mapped[User | None] = relationship(foreign_keys=[closed_by_id])
    renews: Mapped["Loan | None"] = relationship(remote_side=[id])
    items: Mapped[list["LoanItem"]] = relationship(
        back_populates="loan", order_by="LoanItem.id", cascade="all, delete-orphan"
    )
    steps: Mapped[list["LoanStep"]] = relationship(
        back_populates="loan", order_by="LoanStep.id", cascade="all, delete-orphan"
    )

    def __str__(self) -> str:
        return self.number or f"#{self.id}"


class LoanItem(db.Model):
    """One document of a loan; a whole dossier is lent as its documents, remembering the dossier asked for."""

    __tablename__ = "loan_items"
    __table_args__ = (sa.UniqueConstraint("loan_id", "document_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    loan_id: Mapped[int] = mapped_column(sa.ForeignKey("loans.id", ondelete="CASCADE"), index=True)
    document_id: Mapped[int] = mapped_column(sa.ForeignKey("documents.id"), index=True)
    via_dossier_id: Mapped[int | None] = mapped_column(sa.ForeignKey("dossiers.id"))
    state: Mapped[ItemState] = mapped_column(enum_column(ItemState), default=ItemState.WAITING)
    pages_issued: Mapped[int | None]
    pages_returned: Mapped[int | None]
    issued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    returned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    checked_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    note: Mapped[str] = mapped_column(sa.String(500), default="")

    loan: Mapped[Loan] = relationship(back_populates="items")
    document: Mapped[Document] = relationship(lazy="joined")
    via_dossier: Mapped[Dossier | None] = relationship()
    checked_by: Mapped[User | None] = relationship()


class LoanStep(db.Model):
    """One approval a loan needs, with who decided, when and why."""

    __tablename__ = "loan_steps"
    __table_args__ = (sa.UniqueConstraint("loan_id", "kind", "department_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    loan_id: Mapped[int] = mapped_column(sa.ForeignKey("loans.id", ondelete="CASCADE"), index=True)
    kind: Mapped[StepKind] = mapped_column(enum_column(StepKind))
    department_id: Mapped[int | None] = mapped_column(sa.ForeignKey("departments.id"))  # for department heads
    reason: Mapped[StepReason] = mapped_column(enum_column(StepReason))
    decision: Mapped[Decision | None] = mapped_column(enum_column(Decision))
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    comment: Mapped[str] = mapped_column(sa.String(1000), default="")  # required for a rejection

    loan: Mapped[Loan] = relationship(back_populates="steps")
    department: Mapped[Department | None] = relationship()
    decided_by: Mapped[User | None] = relationship()


class AgencyKind(str, enum.Enum):
    COURT = "court"
    POLICE = "police"
    PROCURATORATE = "procuratorate"
    OTHER = "other"

    @property
    def label(self) -> str:
        return str(
            {
                AgencyKind.COURT: _l("Court 法院"),
                AgencyKind.POLICE: _l("Police 公安"),
                AgencyKind.PROCURATORATE: _l("Procuratorate 检察院"),
                AgencyKind.OTHER: _l("Other authority 其他机关"),
            }[self]
        )


class Consultation(db.Model):
    """查阅登记: an outside party consults documents on a formal letter; it never borrows."""

    __tablename__ = "consultations"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(sa.String(40), unique=True)
    agency_kind: Mapped[AgencyKind] = mapped_column(enum_column(AgencyKind))
    agency_name: Mapped[str] = mapped_column(sa.String(200))
    letter_reference: Mapped[str] = mapped_column(sa.String(200))  # 公函 number
    officer_names: Mapped[str] = mapped_column(sa.String(300))
    # Officers' ID (证件) numbers are personal data: sealed with the master key, shown masked.
    officer_ids_sealed: Mapped[str] = mapped_column(sa.Text)
    officer_ids_masked: Mapped[str] = mapped_column(sa.String(300))
    purpose: Mapped[str] = mapped_column(sa.Text, default="")
    consulted_on: Mapped[date]
    # The scanned letter, encrypted like every stored file.
    letter_filename: Mapped[str | None] = mapped_column(sa.String(255))
    letter_media_type: Mapped[str | None] = mapped_column(sa.String(100))
    letter_blob_id: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    letter_key_id: Mapped[str | None] = mapped_column(sa.String(40))
    letter_wrapped_key: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    letter_plain_sha256: Mapped[str | None] = mapped_column(sa.String(64))
    letter_cipher_sha256: Mapped[str | None] = mapped_column(sa.String(64))
    registered_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    registered_by: Mapped[User] = relationship()
    documents: Mapped[list[Document]] = relationship(secondary="consultation_documents", order_by=Document.archive_number)

    def __str__(self) -> str:
        return self.number


consultation_documents = sa.Table(
    "consultation_documents",
    db.metadata,
    sa.Column("consultation_id", sa.ForeignKey("consultations.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("document_id", sa.ForeignKey("documents.id"), primary_key=True),
)
