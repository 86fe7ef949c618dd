"""Boxes on shelves, the paper documents in them, and the catalogues and labels the archive prints.

A box's place is the place of every document in it (Document.location reads the box), so moving a box
moves its documents. Every list, count and printout shows only the documents its reader may read:
what a person may not read is not listed, not counted and not printed.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from ..audit import services as audit
from ..core.enums import Carrier
from ..core.errors import Conflict, NotFound, ValidationError
from ..core.permissions import policy
from ..core.uow import unit_of_work
from ..documents.models import Document
from ..documents.services import CATEGORY_ORDER
from ..extensions import db
from ..units.models import Building, Dossier, Occupancy, Project, Unit
from . import printing
from .models import Box

CODE_PATTERN = re.compile(r"^[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*$")
CODE_MAX, PLACE_MAX, TITLE_MAX = 50, 50, 200


@dataclass(frozen=True)
class Place:
    """Where a box stands: floor of the archive building, room or cabinet, shelf."""

    floor: int | None
    room: str
    shelf: str

    def as_dict(self) -> dict:
        return {"floor": self.floor, "room": self.room, "shelf": self.shelf}


def _readable(identity):
    return policy.where(identity, "read", Document)


# Boxes ----------------------------------------------------------------------------------------------------


def _clean_place(place: Place) -> Place:
    room, shelf = place.room.strip(), place.shelf.strip()
    if len(room) > PLACE_MAX or len(shelf) > PLACE_MAX:
        raise ValidationError("Room and shelf take at most %(max)s characters.", max=PLACE_MAX)
    if place.floor is not None and not -10 <= place.floor <= 200:
        raise ValidationError("Floor %(floor)s is not a floor of a building.", floor=place.floor)
    if not room or not shelf:
        raise ValidationError("Say in which room or cabinet and on which shelf the box stands.")
    return Place(place.floor, room, shelf)


@dataclass(frozen=True)
class BoxRow:
    box: Box
    documents: int  # the documents in it that the reader may read


def ensure_may_create_box(identity) -> None:
    """Refuse the new-box form itself, not only its submission, to those who may not create boxes."""
    policy.require(identity, "create_box")


def list_boxes(identity) -> list[BoxRow]:
    policy.require(identity, "browse_boxes")
    readable_in_box = (
        sa.select(sa.func.count(Document.id)).where(Document.box_id == Box.id, _readable(identity))
        .scalar_subquery()
    )
    rows = db.session.execute(sa.select(Box, readable_in_box).order_by(Box.code))
    return [BoxRow(box, count) for box, count in rows]


def get_box(identity, box_id: int) -> Box:
    return policy.fetch(identity, "read", Box, box_id)


def create_box(identity, code: str, title: str, place: Place) -> Box:
    policy.require(identity, "create_box")
    code = code.strip().upper()
    if not CODE_PATTERN.fullmatch(code) or len(code) > CODE_MAX:
        raise ValidationError("Box code %(code)s: use letters and digits joined by '-'.", code=code)
    title = title.strip()
    if len(title) > TITLE_MAX:
        raise ValidationError("A box title takes at most %(max)s characters.", max=TITLE_MAX)
    place = _clean_place(place)
    with unit_of_work():
        if db.session.scalar(sa.select(Box.id).where(Box.code == code)):
            raise Conflict("A box with code %(code)s already exists.", code=code)
        box = Box(code=code, title=title, floor=place.floor, room=place.room, shelf=place.shelf)
        db.session.add(box)
        db.session.flush()
        audit.record("box.create", actor=identity, obj=box, code=code, title=title, place=box.place)
    return box


def _locked_box(box_id: int) -> Box:
    """The box row locked for this transaction, read fresh (a page may have loaded it before the lock)."""
    db.session.flush()
    db.session.expire_all()
    box = db.session.scalars(
        sa.select(Box).where(Box.id == box_id).with_for_update().execution_options(populate_existing=True)
    ).first()
    if box is None:
        raise NotFound("Not found.")
    return box


def move_box(identity, box_id: int, place: Place) -> Box:
    """Put the box in a new place; every document in it follows, since a document's place is its box's."""
    policy.require(identity, "move", get_box(identity, box_id))
    place = _clean_place(place)
    with unit_of_work():
        box = _locked_box(box_id)
        old = box.place
        box.floor, box.room, box.shelf = place.floor, place.room, place.shelf
        if box.place != old:
            audit.record("box.move", actor=identity, obj=box, code=box.code, old=old, new=box.place)
    return box


def box_documents(identity, box_id: int) -> tuple[Box, list[Document]]:
    """A box and the documents in it that the identity may read, in archive-number order."""
    box = get_box(identity, box_id)
    documents = db.session.scalars(
        sa.select(Document).where(Document.box_id == box.id, _readable(identity)).order_by(Document.archive_number)
    )
    return box, list(documents)


def put_documents(identity, box_id: int, archive_numbers: list[str]) -> list[Document]:
    """Put paper documents, named by archive number, into the box: all of them, or none when one cannot go.

    A document already in another box moves to this one. The written place it had before is kept in the
    audit trail and cleared, so taking it out later cannot bring back a place it has long left.
    """
    policy.require(identity, "fill", get_box(identity, box_id))
    numbers = list(dict.fromkeys(n.strip() for n in archive_numbers if n.strip()))
    if not numbers:
        raise ValidationError("Give the archive numbers of the documents to put into the box.")
    with unit_of_work():
        box = _locked_box(box_id)
        found = {
            d.archive_number: d for d in db.session.scalars(
                sa.select(Document).where(Document.archive_number.in_(numbers), _readable(identity))
                .with_for_update(of=Document).execution_options(populate_existing=True)
            )
        }
        problems = []
        for number in numbers:
            document = found.get(number)
            if document is None:  # missing and unreadable answer alike
                problems.append(ValidationError("No document you may read has the archive number %(number)s.",
                                                number=number))
            elif document.carrier is not Carrier.PAPER:
                problems.append(ValidationError(
                    "%(number)s is an electronic document: only paper documents go into boxes.", number=number))
            elif document.box_id == box.id:
                problems.append(ValidationError("%(number)s is already in this box.", number=number))
        if problems:
            raise ValidationError("Nothing was put into the box.", problems=problems)
        documents = [found[n] for n in numbers]
        for document in documents:
            old = document.location
            document.box = box
            document.location_room = document.location_box = document.location_shelf = ""
            audit.record("box.put", actor=identity, obj=document, archive_number=document.archive_number,
                         box=box.code, old=old, new=box.place)
    return documents


def take_out(identity, box_id: int, document_id: int) -> Document:
    """Take a document out of the box: it has no place until it is put into another one."""
    policy.require(identity, "fill", get_box(identity, box_id))
    with unit_of_work():
        box = _locked_box(box_id)
        document = policy.fetch(identity, "read", Document, document_id)
        if document.box_id != box.id:
            raise NotFound("Not found.")
        old = document.location
        document.box = None
        audit.record("box.take_out", actor=identity, obj=document, archive_number=document.archive_number,
                     box=box.code, old=old, new="")
    return document


# Printouts ------------------------------------------------------------------------------------------------


def box_label(identity, box_id: int) -> bytes:
    """The box-back label (盒脊/备考): code, title, place, range of archive numbers, count, QR of the code."""
    box = get_box(identity, box_id)
    policy.require(identity, "print_label", box)
    _, documents = box_documents(identity, box.id)
    numbers = [d.archive_number for d in documents]
    label = printing.BoxLabel(
        code=box.code, title=box.title, floor=box.floor, room=box.room, shelf=box.shelf,
        first=numbers[0] if numbers else None, last=numbers[-1] if numbers else None,
        count=len(numbers), pages=sum(d.page_count for d in documents),
    )
    with unit_of_work():
        audit.record("box.print_label", actor=identity, obj=box, code=box.code, documents=numbers)
    return printing.box_label_pdf(label)


def dossier_catalogue(identity, dossier_id: int, volume_id: int | None = None) -> bytes:
    """The catalogue (卷内目录) of a dossier, or of one closed volume: a departed customer's documents,
    those dated while that customer held the unit."""
    dossier = policy.fetch(identity, "read", Dossier, dossier_id)
    policy.require(identity, "print_catalogue", dossier)
    stmt = sa.select(Document).where(Document.dossier_id == dossier.id, _readable(identity))
    holders = list(reversed(dossier.unit.occupancies)) if dossier.unit is not None else []  # oldest first
    volume = None
    if volume_id is not None:
        volume = next((o for o in holders if o.id == volume_id), None)
        if volume is None:
            raise NotFound("Not found.")
        if volume.end_date is None:
            raise ValidationError("%(name)s still holds the unit: a volume is closed when its customer leaves.",
                                  name=volume.customer.name)
        stmt = stmt.where(Document.doc_date.between(volume.start_date, volume.end_date))
        holders = [volume]
    documents = list(db.session.scalars(stmt.order_by(CATEGORY_ORDER, Document.seq)))
    catalogue = printing.Catalogue(dossier=dossier, volume=volume, holders=holders, documents=documents)
    with unit_of_work():
        audit.record("catalogue.print", actor=identity, obj=dossier, archive_number=dossier.archive_number,
                     volume=volume.id if volume else None, documents=[d.archive_number for d in documents])
    return printing.catalogue_pdf(catalogue)


def departed_catalogue(identity, year: int) -> bytes:
    """The yearly catalogue of the volumes closed in `year` (customers who left their unit that year),
    grouped by floor; the counts are of the documents the identity may read."""
    policy.require(identity, "print_departed_catalogue")
    if not 1900 <= year <= 9999:
        raise ValidationError("%(year)s is not a year the archive keeps.", year=year)
    in_volume = sa.and_(
        Document.dossier_id == Dossier.id,
        Document.doc_date.between(Occupancy.start_date, Occupancy.end_date),
        _readable(identity),
    )
    count = sa.select(sa.func.count(Document.id)).where(in_volume).scalar_subquery()
    pages = sa.select(sa.func.coalesce(sa.func.sum(Document.page_count), 0)).where(in_volume).scalar_subquery()
    rows = db.session.execute(
        sa.select(Occupancy, Dossier, count, pages)
        .join(Unit, Occupancy.unit_id == Unit.id)
        .join(Building, Unit.building_id == Building.id)
        .join(Project, Building.project_id == Project.id)
        .join(Dossier, Dossier.unit_id == Unit.id)
        .where(Occupancy.end_date.between(date(year, 1, 1), date(year, 12, 31)))
        .options(joinedload(Occupancy.unit))
        .order_by(Unit.floor.is_(None), Unit.floor, Project.code, Building.code, Unit.code, Occupancy.end_date,
                  Occupancy.id)
    )
    volumes = [printing.DepartedVolume(occupancy=o, dossier=d, documents=n, pages=p) for o, d, n, p in rows]
    with unit_of_work():
        audit.record("catalogue.print_departed", actor=identity, year=year, volumes=len(volumes),
                     documents=sum(v.documents for v in volumes))
    return printing.departed_catalogue_pdf(year, volumes)
