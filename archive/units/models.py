"""Projects, buildings, units, customers, occupancy, dossiers (一户一档) and their cross-references."""
from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.enums import CustomerKind, DossierKind, LinkReason, OccupancyRole, UnitKind
from ..core.types import UTCDateTime, enum_column, utcnow
from ..extensions import db


class Project(db.Model):
    __tablename__ = "projects"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(20), unique=True)  # the project level of archive numbers
    name: Mapped[str] = mapped_column(sa.String(200))
    address: Mapped[str] = mapped_column(sa.String(300), default="")
    move_in_date: Mapped[date | None]  # collective move-in (集中入伙): starts the contract papers' handover clock
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    buildings: Mapped[list["Building"]] = relationship(
        back_populates="project", order_by="Building.code", cascade="all, delete-orphan"
    )

    def __str__(self) -> str:
        return self.name


class Building(db.Model):
    __tablename__ = "buildings"
    __table_args__ = (sa.UniqueConstraint("project_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(sa.ForeignKey("projects.id"), index=True)
    code: Mapped[str] = mapped_column(sa.String(20))  # e.g. "03"
    name: Mapped[str] = mapped_column(sa.String(100))  # e.g. "3栋"

    project: Mapped[Project] = relationship(back_populates="buildings")
    units: Mapped[list["Unit"]] = relationship(back_populates="building", order_by="Unit.code")

    def __str__(self) -> str:
        return self.name


class Unit(db.Model):
    __tablename__ = "units"
    __table_args__ = (sa.UniqueConstraint("building_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    building_id: Mapped[int] = mapped_column(sa.ForeignKey("buildings.id"), index=True)
    code: Mapped[str] = mapped_column(sa.String(20))  # archive-number level, e.g. "2-1502"
    name: Mapped[str] = mapped_column(sa.String(100))  # as people say it, e.g. "2单元1502"
    kind: Mapped[UnitKind] = mapped_column(enum_column(UnitKind), default=UnitKind.RESIDENTIAL)
    floor: Mapped[int | None]
    area_m2: Mapped[float | None]

    building: Mapped[Building] = relationship(back_populates="units", lazy="joined")
    dossier: Mapped["Dossier | None"] = relationship(back_populates="unit", uselist=False)
    occupancies: Mapped[list["Occupancy"]] = relationship(
        back_populates="unit", order_by="Occupancy.start_date.desc()"
    )

    @property
    def full_name(self) -> str:
        """The address people read on the papers, e.g. 3栋2单元1502."""
        return f"{self.building.name}{self.name}"

    def __str__(self) -> str:
        return self.full_name


class Customer(db.Model):
    """An owner or tenant. ID number and phone are personal data: sealed in the database, shown masked."""

    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[CustomerKind] = mapped_column(enum_column(CustomerKind), default=CustomerKind.PERSON)
    name: Mapped[str] = mapped_column(sa.String(200), index=True)
    id_number_sealed: Mapped[str | None] = mapped_column(sa.Text)
    id_number_index: Mapped[str | None] = mapped_column(sa.String(64), index=True)  # blind index, exact lookup
    id_number_masked: Mapped[str | None] = mapped_column(sa.String(40))
    phone_sealed: Mapped[str | None] = mapped_column(sa.Text)
    phone_masked: Mapped[str | None] = mapped_column(sa.String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    occupancies: Mapped[list["Occupancy"]] = relationship(back_populates="customer")

    def __str__(self) -> str:
        return self.name


class Occupancy(db.Model):
    """Who owned or rented a unit, from when to when (the dossier follows every change of ownership)."""

    __tablename__ = "occupancies"
    __table_args__ = (sa.CheckConstraint("end_date IS NULL OR end_date >= start_date", name="dates_ordered"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("units.id"), index=True)
    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("customers.id"), index=True)
    role: Mapped[OccupancyRole] = mapped_column(enum_column(OccupancyRole), default=OccupancyRole.OWNER)
    start_date: Mapped[date]
    end_date: Mapped[date | None]

    unit: Mapped[Unit] = relationship(back_populates="occupancies")
    customer: Mapped[Customer] = relationship(back_populates="occupancies", lazy="joined")


class Dossier(db.Model):
    """One per unit (一户一档); litigation files are dossiers of their own, cross-referenced to the unit."""

    __tablename__ = "dossiers"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[DossierKind] = mapped_column(enum_column(DossierKind), default=DossierKind.UNIT)
    project_id: Mapped[int] = mapped_column(sa.ForeignKey("projects.id"), index=True)
    unit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("units.id"), unique=True)
    archive_number: Mapped[str] = mapped_column(sa.String(80), unique=True)
    title: Mapped[str] = mapped_column(sa.String(300))
    closed_on: Mapped[date | None]  # a litigation file: the day the case closed (its papers are then handed over)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    project: Mapped[Project] = relationship()
    unit: Mapped[Unit | None] = relationship(back_populates="dossier")

    def __str__(self) -> str:
        return f"{self.archive_number} {self.title}"


class DossierLink(db.Model):
    """A cross-reference between two dossiers, shown from both sides (5.1.3, 5.5.2)."""

    __tablename__ = "dossier_links"
    __table_args__ = (
        sa.UniqueConstraint("from_dossier_id", "to_dossier_id"),
        sa.CheckConstraint("from_dossier_id <> to_dossier_id", name="not_self"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    from_dossier_id: Mapped[int] = mapped_column(sa.ForeignKey("dossiers.id"), index=True)
    to_dossier_id: Mapped[int] = mapped_column(sa.ForeignKey("dossiers.id"), index=True)
    reason: Mapped[LinkReason] = mapped_column(enum_column(LinkReason))
    note: Mapped[str] = mapped_column(sa.String(300), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    from_dossier: Mapped[Dossier] = relationship(foreign_keys=[from_dossier_id])
    to_dossier: Mapped[Dossier] = relationship(foreign_keys=[to_dossier_id])
