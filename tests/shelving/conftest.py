"""Shelving fixtures: archivists of two clearances, paper documents filed through the real services, and
helpers that act through HTTP as a browser would (forms with their CSRF token) and read the PDFs back."""
from __future__ import annotations

import io
import re
import subprocess
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from archive.audit.models import AuditEvent
from archive.auth.services import department_by_code
from archive.core.enums import Carrier, Category, CustomerKind, Level, OccupancyRole, Role
from archive.documents import services as documents
from archive.documents.models import Document
from archive.extensions import db
from archive.units import services as units
from archive.units.models import Occupancy
from tests.factories import csrf_token, make_pdf


@pytest.fixture
def archivist(factory):
    """The archive's archivist, cleared for everything."""
    user = factory.user("li-archivist", roles=(Role.ARCHIVIST,), department="GMO", clearance=Level.A)
    user.display_name = "李档案"
    db.session.commit()
    return user


@pytest.fixture
def c_archivist(factory):
    """An archivist cleared for C (内部) only: reads every department's C documents, no B or A."""
    return factory.user("zhou-archivist", roles=(Role.ARCHIVIST,), department="GMO", clearance=Level.C)


def paper(factory, dossier, title: str, *, level: Level = Level.C, department: str = "SALES",
          category: Category = Category.XS, doc_date: date = date(2023, 5, 8), doc_number: str = "",
          remarks: str = "", is_original: bool = True, pages: int = 1) -> Document:
    """A paper document filed with its scan, as the archive files the originals it keeps in boxes."""
    meta = documents.DocumentMetadata(
        category=category, title=title, responsible_party="丽景苑置业有限公司", doc_date=doc_date,
        department_id=department_by_code(department).id, level=level, doc_number=doc_number,
        carrier=Carrier.PAPER, is_original=is_original, remarks=remarks,
        location_room="临时库房", location_shelf="待上架",
    )
    (document,) = documents.file_documents(
        factory.archivist, dossier.id, meta, [documents.Upload("scan.pdf", io.BytesIO(make_pdf(title, pages=pages)))])
    return document


def holder(factory, dossier, name: str, start: date, end: date | None = None,
           role: OccupancyRole = OccupancyRole.OWNER) -> Occupancy:
    new = units.register_holder(factory.archivist, dossier.id, name=name, kind=CustomerKind.PERSON, id_number="",
                                phone="", role=role, start=start)
    if end is not None:
        units.end_occupancy(factory.archivist, new.occupancy.id, end)
    return new.occupancy


def login(client, factory, user) -> None:
    """Log in and read the pages in English, so messages can be checked whatever the translations say."""
    assert factory.login(client, user).status_code == 302
    response = client.post("/language", data={"locale": "en", "csrf_token": csrf_token(client, "/account")})
    assert response.status_code == 302


def logged_in(app, factory, user):
    """A browser of its own for another person."""
    client = app.test_client()
    login(client, factory, user)
    return client


def post_form(client, page: str, action: str, data: dict):
    """Submit a form of `page` to `action` with the page's CSRF token, as the browser does."""
    return client.post(action, data={**data, "csrf_token": csrf_token(client, page)})


def pdf_pages(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


def squeeze(text: str) -> str:
    """Table cells wrap: compare without the line breaks and spaces a wrap puts inside a value."""
    return re.sub(r"\s+", "", text)


def render_png(pdf: bytes, directory: Path, name: str, resolution: int = 200) -> Path:
    """The first page as the printer would see it (poppler's pdftoppm)."""
    source = directory / f"{name}.pdf"
    source.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", str(resolution), "-png", "-f", "1", "-l", "1", "-singlefile", str(source),
                    str(directory / name)], check=True)
    return directory / f"{name}.png"


def audit_events(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq)))
