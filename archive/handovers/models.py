"""Handovers (移交) of documents between departments, and the rules that set their deadlines."""
from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..auth.models import Department, User
from ..core.enums import Carrier, Category
from ..core.types import UTCDateTime, enum_column, utcnow
from ..documents.models import Document
from ..extensions import db


class HandoverStatus(str, enum.Enum):
    DRAFT = "draft"  # the clerk assembles the batch
    SIGNED_OFF = "signed_off"  # the handing department's head signed it off
    SENT = "sent"  # in transit: the handing department can no longer change its documents
    CHECKED = "checked"  # the receiver checked every item and confirmed
    COMPLETED = "completed"  # the sender (and the witness, when required) confirmed; the receipt is filed
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        return str(HANDOVER_STATUS_LABELS[self])


HANDOVER_STATUS_LABELS = {
    HandoverStatus.DRAFT: _l("Being assembled"),
    HandoverStatus.SIGNED_OFF: _l("Signed off"),
    HandoverStatus.SENT: _l("Sent"),
    HandoverStatus.CHECKED: _l("Checked by the receiver"),
    HandoverStatus.COMPLETED: _l("Completed"),
    HandoverStatus.CANCELLED: _l("Cancelled"),
}


class ItemCheck(str, enum.Enum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    RETURNED = "returned"  # failed a check: goes back to the handing department with the reason

    @property
    def label(self) -> str:
        return str(
            {
                ItemCheck.PENDING: _l("Not checked"),
                ItemCheck.ACCEPTED: _l("Accepted"),
                ItemCheck.RETURNED: _l("Returned to the sender"),
            }[self]
        )


class Schedule(str, enum.Enum):
    """When a category must be handed over (DOMAIN.md, the table of categories)."""

    WORKDAYS_AFTER_DOCUMENT = "workdays_after_document"  # e.g. 5 working days after the 认购书 is signed
    AFTER_MOVE_IN_THEN_QUARTERLY = "after_move_in_then_quarterly"  # a month after collective move-in, then quarterly
    HALF_YEARLY = "half_yearly"
    QUARTERLY = "quarterly"
    WORKDAYS_AFTER_CASE_CLOSED = "workdays_after_case_closed"

    @property
    def label(self) -> str:
        return str(
            {
                Schedule.WORKDAYS_AFTER_DOCUMENT: _l("Working days after the document's date"),
                Schedule.AFTER_MOVE_IN_THEN_QUARTERLY: _l("One month after collective move-in, then quarterly"),
                Schedule.HALF_YEARLY: _l("Every half year"),
                Schedule.QUARTERLY: _l("Every quarter"),
                Schedule.WORKDAYS_AFTER_CASE_CLOSED: _l("Working days after the case is closed"),
            }[self]
        )


class HandoverRule(db.Model):
    """Which department hands a category to which, and by when. Defaults from DOMAIN.md; archive staff edit them."""

    __tablename__ = "handover_rules"
    __table_args__ = (sa.UniqueConstraint("category", "from_department_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    category: Mapped[Category] = mapped_column(enum_column(Category, 2))
    from_department_id: Mapped[int] = mapped_column(sa.ForeignKey("departments.id"))
    to_department_id: Mapped[int] = mapped_column(sa.ForeignKey("departments.id"))
    schedule: Mapped[Schedule] = mapped_column(enum_column(Schedule, 40))
    workdays: Mapped[int | None]  # for the working-day schedules
    active: Mapped[bool] = mapped_column(default=True)

    from_department: Mapped[Department] = relationship(foreign_keys=[from_department_id], lazy="joined")
    to_department: Mapped[Department] = relationship(foreign_keys=[to_department_id], lazy="joined")


class Handover(db.Model):
    __tablename__ = "handovers"
    __table_args__ = (sa.CheckConstraint("from_department_id <> to_department_id", name="between_departments"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(sa.String(40), unique=True)  # also the receipt number (交接清单编号)
    from_department_id: Mapped[int] = mapped_column(sa.ForeignKey("departments.id"), index=True)
    to_department_id: Mapped[int] = mapped_column(sa.ForeignKey("departments.id"), index=True)
    rule_id: Mapped[int | None] = mapped_column(sa.ForeignKey("handover_rules.id"))
    status: Mapped[HandoverStatus] = mapped_column(
        enum_column(HandoverStatus), default=HandoverStatus.DRAFT, index=True
    )
    note: Mapped[str] = mapped_column(sa.Text, default="")
    witness_required: Mapped[bool] = mapped_column(default=False)  # batches with B or A documents
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    signed_off_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    signed_off_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the receiver confirmed its checks
    received_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    sender_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sender_confirmed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    witnessed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    witness_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The receipt (交接清单) PDF, filed encrypted; `receipt_sha256` is the SHA-256 of its content that its QR
    # code carries, so a printed receipt can be checked against the stored one.
    receipt_sha256: Mapped[str | None] = mapped_column(sa.String(64))
    receipt_blob_id: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    receipt_key_id: Mapped[str | None] = mapped_column(sa.String(40), index=True)
    receipt_wrapped_key: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    receipt_plain_sha256: Mapped[str | None] = mapped_column(sa.String(64))
    receipt_cipher_sha256: Mapped[str | None] = mapped_column(sa.String(64))

    from_department: Mapped[Department] = relationship(foreign_keys=[from_department_id], lazy="joined")
    to_department: Mapped[Department] = relationship(foreign_keys=[to_department_id], lazy="joined")
    rule: Mapped[HandoverRule | None] = relationship()
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])
    signed_off_by: Mapped[User | None] = relationship(foreign_keys=[signed_off_by_id])
    sent_by: Mapped[User | None] = relationship(foreign_keys=[sent_by_id])
    received_by: Mapped[User | None] = relationship(foreign_keys=[received_by_id])
    sender_confirmed_by: Mapped[User | None] = relationship(foreign_keys=[sender_confirmed_by_id])
    witness: Mapped[User | None] = relationship(foreign_keys=[witness_id])
    items: Mapped[list["HandoverItem"]] = relationship(
        back_populates="handover", order_by="HandoverItem.id", cascade="all, delete-orphan"
    )

    def __str__(self) -> str:
        return self.number


class HandoverItem(db.Model):
    """One line of a batch: what is handed over, as listed, and what the receiver found."""

    __tablename__ = "handover_items"
    __table_args__ = (sa.UniqueConstraint("handover_id", "document_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    handover_id: Mapped[int] = mapped_column(sa.ForeignKey("handovers.id", ondelete="CASCADE"), index=True)
    document_id: Mapped[int] = mapped_column(sa.ForeignKey("documents.id"), index=True)
    carrier: Mapped[Carrier] = mapped_column(enum_column(Carrier))
    item_count: Mapped[int] = mapped_column(default=1)  # 件数 as listed
    pages: Mapped[int] = mapped_column(default=0)  # 页数 as listed
    is_original: Mapped[bool] = mapped_column(default=True)
    condition: Mapped[str] = mapped_column(sa.String(200), default="")  # e.g. 完好
    remarks: Mapped[str] = mapped_column(sa.String(500), default="")
    check: Mapped[ItemCheck] = mapped_column(enum_column(ItemCheck), default=ItemCheck.PENDING)
    counted_items: Mapped[int | None]
    counted_pages: Mapped[int | None]
    check_report: Mapped[dict | None] = mapped_column(sa.JSON)  # the four-property results for electronic files
    reason: Mapped[str] = mapped_column(sa.String(500), default="")  # why it was returned
    checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    checked_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    handover: Mapped[Handover] = relationship(back_populates="items")
    document: Mapped[Document] = relationship(lazy="joined")
    checked_by: Mapped[User | None] = relationship()
