"""Factory functions that build test data through the real services (Indico style)."""
from __future__ import annotations

import io
import re
from datetime import date
from itertools import count

from PIL import Image
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from archive.auth import services as auth
from archive.auth.models import User
from archive.core.enums import Category, Level, Role
from archive.documents import services as documents
from archive.documents.models import Document
from archive.reports.fonts import cjk_font
from archive.units import services as units
from archive.units.models import Dossier

PASSWORD = "correct-horse-battery"


def flip_a_byte(blob_id: str, offset: int = 40) -> None:
    """Damage a stored file on disk behind the archive's back, as bit rot or tampering would."""
    from archive.core.keys import blob_store

    path = blob_store().backend.path_for(blob_id)
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))
_serial = count(1)


def make_pdf(*lines: str, pages: int = 1, encrypt_with: str | None = None) -> bytes:
    """A real PDF with real (Chinese) text on each page, using the embedded CJK font."""
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4)
    if encrypt_with:
        from reportlab.lib import pdfencrypt

        pdf.setEncrypt(pdfencrypt.StandardEncryption(encrypt_with, canPrint=0))
    for page in range(pages):
        pdf.setFont(cjk_font(), 14)
        for i, line in enumerate(lines or ("房地产买卖合同",)):
            pdf.drawString(72, 760 - 24 * i, line)
        pdf.drawString(72, 60, f"第 {page + 1} 页")
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def make_image(fmt: str = "JPEG", size=(200, 280), frames: int = 1) -> bytes:
    buffer = io.BytesIO()
    images = [Image.new("RGB", size, (255, 255, 255 - 40 * i)) for i in range(frames)]
    images[0].save(buffer, format=fmt, save_all=frames > 1, append_images=images[1:])
    return buffer.getvalue()


def csrf_token(client, path: str) -> str:
    html = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def login_in_english(client, factory, user) -> None:
    """Log in and switch the UI to English, so messages can be read whatever the catalogue says."""
    assert factory.login(client, user).status_code == 302
    response = client.post("/language", data={"locale": "en", "csrf_token": csrf_token(client, "/account")})
    assert response.status_code == 302


def signed_in(app, factory, user, *, english: bool = True):
    """A browser of its own for the user, logged in (and switched to English unless told otherwise)."""
    client = app.test_client()
    if english:
        login_in_english(client, factory, user)
    else:
        assert factory.login(client, user).status_code == 302
    return client


def html(response) -> str:
    return response.get_data(as_text=True)


class Factory:
    def __init__(self, app) -> None:
        self.app = app
        self._archivist: User | None = None

    def user(self, username: str | None = None, *, roles=(Role.CLERK,), department: str = "SALES",
             clearance: Level | str = Level.C, password: str = PASSWORD) -> User:
        user, _ = auth.create_user(
            auth.SYSTEM, username=username or f"user{next(_serial)}", display_name=username or "测试用户",
            department_code=department, roles={Role(r) for r in roles}, clearance=Level(clearance),
            password=password,
        )
        return user

    @property
    def archivist(self) -> User:
        """A filing archivist with full clearance, used to set up data."""
        if self._archivist is None:
            self._archivist = self.user(f"setup-archivist{next(_serial)}", roles=(Role.ARCHIVIST,),
                                        department="GMO", clearance=Level.A)
        return self._archivist

    def project(self, code: str = "LJY", name: str = "丽景苑") -> object:
        return units.create_project(self.archivist, code, name, "深圳市南山区")

    def dossier(self, project=None, building: str = "03", unit: str = "2-1502", unit_name: str = "2单元1502",
                building_name: str = "3栋") -> Dossier:
        project = project or self.project(f"P{next(_serial)}", "丽景苑")
        existing = [b for b in project.buildings if b.code == building]
        b = existing[0] if existing else units.add_building(self.archivist, project.id, building, building_name)
        (created,) = units.add_units(self.archivist, b.id, [units.UnitSpec(unit, unit_name, floor=15)])
        return created.dossier

    def document(self, dossier: Dossier, *, level: Level | str = Level.C, department: str = "SALES",
                 category: Category | str = Category.XS, title: str = "认购书", content: bytes | None = None,
                 filename: str = "scan.pdf", doc_date: date = date(2023, 5, 8), scope_departments=()) -> Document:
        dept = auth.department_by_code(department)
        meta = documents.DocumentMetadata(
            category=Category(category), title=title, responsible_party="丽景苑置业有限公司", doc_date=doc_date,
            department_id=dept.id, level=Level(level),
            scope_department_ids=[auth.department_by_code(c).id for c in scope_departments],
        )
        content = content if content is not None else make_pdf(title, "押金 人民币 5,000 元")
        (doc,) = documents.file_documents(self.archivist, dossier.id, meta,
                                          [documents.Upload(filename, io.BytesIO(content))])
        return doc

    def login(self, client, user_or_name, password: str = PASSWORD):
        username = getattr(user_or_name, "username", user_or_name)
        token = csrf_token(client, "/login")
        return client.post("/login", data={"username": username, "password": password, "csrf_token": token})
