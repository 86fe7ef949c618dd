"""Where paper originals are kept: boxes (盒) on shelves (架) in rooms or cabinets, by floor."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..core.types import UTCDateTime, utcnow
from ..extensions import db


class Box(db.Model):
    """A box (盒) of paper originals on a shelf (架) in a room or cabinet, kept by floor."""

    __tablename__ = "boxes"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(50), unique=True)
    title: Mapped[str] = mapped_column(sa.String(200), default="")
    floor: Mapped[int | None]
    room: Mapped[str] = mapped_column(sa.String(50), default="")  # room or cabinet
    shelf: Mapped[str] = mapped_column(sa.String(50), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def place(self) -> str:
        """The box's full place as archivists write it, e.g. "3F / 301 / QZ01-H-0001 / A-02"."""
        floor = f"{self.floor}F" if self.floor is not None else ""
        return " / ".join(p for p in (floor, self.room, self.code, self.shelf) if p)

    def __str__(self) -> str:
        return self.code
