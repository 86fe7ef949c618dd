"""Documents (件) of a dossier, their file versions, knowledge scopes and number sequences."""
from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..auth.models import Department, User
from ..core.enums import Carrier, Category, Level, LevelPeriod, Retention
from ..core.types import UTCDateTime, enum_column, utcnow
from ..extensions import db
from ..units.models import Dossier

if TYPE_CHECKING:  # shelving imports documents; the model is resolved by name at mapping time
    from ..shelving.models import Box


class Document(db.Model):
    __tablename__ = "documents"
    __table_args__ = (
        sa.UniqueConstraint("dossier_id", "category", "seq"),
        sa.CheckConstraint("page_count >= 0", name="page_count_not_negative"),
        sa.Index("ix_documents_dossier_listing", "dossier_id", "category", "doc_date"),
        # Covers the permission clause's "own department, level within clearance" without reading the table.
        sa.Index("ix_documents_department_level", "department_id", "level"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    dossier_id: Mapped[int] = mapped_column(sa.ForeignKey("dossiers.id"))
    archive_number: Mapped[str] = mapped_column(sa.String(100), unique=True)  # 档号
    category: Mapped[Category] = mapped_column(enum_column(Category, 2))
    seq: Mapped[int]  # position in the dossier's sequence for the category; gap-free
    title: Mapped[str] = mapped_column(sa.String(300), index=True)  # 题名
    responsible_party: Mapped[str] = mapped_column(sa.String(200))  # 责任者
    doc_number: Mapped[str] = mapped_column(sa.String(100), default="")  # 文号
    doc_date: Mapped[date] = mapped_column(index=True)  # 日期
    department_id: Mapped[int] = mapped_column(sa.ForeignKey("departments.id"))
    level: Mapped[Level] = mapped_column(enum_column(Level, 1), default=Level.C, index=True)
    # The period of the level (保密期限), set by an approved classification change; none for C.
    level_period: Mapped[LevelPeriod | None] = mapped_column(enum_column(LevelPeriod))
    level_until: Mapped[date | None] = mapped_column(index=True)  # the last day of a dated period
    page_count: Mapped[int] = mapped_column(default=0)  # 页数
    is_original: Mapped[bool] = mapped_column(default=True)  # 原件 / 复印件
    carrier: Mapped[Carrier] = mapped_column(enum_column(Carrier), default=Carrier.ELECTRONIC)
    retention: Mapped[Retention] = mapped_column(enum_column(Retention, 4))
    # Set by an expiry appraisal that decided to keep the document longer: it expires at the end of that year.
    keep_until_year: Mapped[int | None]
    # Disposed of (销毁): the content is destroyed, the metadata stays (archive/retention).
    disposed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    disposal_id: Mapped[int | None] = mapped_column(sa.ForeignKey("disposals.id"), index=True)
    location_room: Mapped[str] = mapped_column(sa.String(50), default="")  # room / cabinet (by floor)
    location_box: Mapped[str] = mapped_column(sa.String(50), default="")  # 盒
    location_shelf: Mapped[str] = mapped_column(sa.String(50), default="")  # 架
    box_id: Mapped[int | None] = mapped_column(sa.ForeignKey("boxes.id"), index=True)  # the box, once boxed
    remarks: Mapped[str] = mapped_column(sa.Text, default="")  # 备注
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    dossier: Mapped[Dossier] = relationship(lazy="joined")
    department: Mapped[Department] = relationship(lazy="joined")
    created_by: Mapped[User | None] = relationship()
    box: Mapped[Box | None] = relationship(lazy="joined")
    versions: Mapped[list["FileVersion"]] = relationship(
        back_populates="document", order_by="FileVersion.version.desc()"
    )
    scope: Mapped[list["KnowledgeScope"]] = relationship(cascade="all, delete-orphan")

    @property
    def current_version(self) -> "FileVersion | None":
        return self.versions[0] if self.versions else None

    @property
    def location(self) -> str:
        """Where the paper original is: its box's place once boxed, else what the filer wrote."""
        if self.box is not None:
            return self.box.place
        return " / ".join(p for p in (self.location_room, self.location_box, self.location_shelf) if p)

    def __str__(self) -> str:
        return f"{self.archive_number} {self.title}"


class KnowledgeScope(db.Model):
    """知悉范围: a department or a person who may know a document beyond its own department."""

    __tablename__ = "knowledge_scopes"
    __table_args__ = (
        sa.CheckConstraint(
            "(department_id IS NULL) <> (user_id IS NULL)", name="department_or_user"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(sa.ForeignKey("documents.id", ondelete="CASCADE"), index=True)
    department_id: Mapped[int | None] = mapped_column(sa.ForeignKey("departments.id"))
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))


class FileVersion(db.Model):
    """One immutable stored file of a document. A correction is a new version; old ones stay listed."""

    __tablename__ = "file_versions"
    __table_args__ = (sa.UniqueConstraint("document_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(sa.ForeignKey("documents.id"), index=True)
    version: Mapped[int]
    filename: Mapped[str] = mapped_column(sa.String(255))  # as uploaded; for display and download only
    media_type: Mapped[str] = mapped_column(sa.String(100))  # sniffed from content
    page_count: Mapped[int] = mapped_column(default=1)
    note: Mapped[str] = mapped_column(sa.String(500), default="")  # why this version replaced the last
    blob_id: Mapped[str] = mapped_column(sa.String(64), unique=True)
    key_id: Mapped[str] = mapped_column(sa.String(40))
    wrapped_key: Mapped[bytes] = mapped_column(sa.LargeBinary)
    plain_size: Mapped[int] = mapped_column(sa.BigInteger)
    plain_sha256: Mapped[str] = mapped_column(sa.String(64))
    cipher_size: Mapped[int] = mapped_column(sa.BigInteger)
    cipher_sha256: Mapped[str] = mapped_column(sa.String(64))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    uploaded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    last_fixity_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_fixity_ok: Mapped[bool | None]
    # Crypto-shredded by a disposal: the data key is destroyed (wrapped_key and key_id emptied), the blob deleted.
    shredded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    document: Mapped[Document] = relationship(back_populates="versions")
    uploaded_by: Mapped[User | None] = relationship()


class NumberSequence(db.Model):
    """The last number used in each archive-number sequence.

    Incremented inside the filing transaction with a row lock, so numbers are unique and a rolled-back
    filing gives its number back: sequences stay gap-free even when two uploads race.
    """

    __tablename__ = "number_sequences"

    key: Mapped[str] = mapped_column(sa.String(120), primary_key=True)
    last_value: Mapped[int] = mapped_column(default=0)
