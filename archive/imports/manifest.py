"""Reading an import manifest (CSV or XLSX, Chinese or English headers) and checking every row of it.

Row numbers are the spreadsheet's own: the header is row 1, the first document row 2, so a problem can be
found where the person who wrote the manifest looks for it.
"""
from __future__ import annotations

import csv
import hashlib
import io
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path, PurePosixPath, PureWindowsPath

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale

from ..auth.models import Department
from ..core.enums import CATEGORY_LABELS, LEVEL_LABELS, Carrier, Level
from ..core.errors import AccessDenied, ArchiveError, ValidationError
from ..core.permissions import policy
from ..documents.ingest import check_file
from ..documents.services import DocumentMetadata, check_metadata
from ..extensions import db
from ..shelving.models import Box
from ..units.models import Building, Dossier, Project, Unit

# field -> the headers accepted for it (compared without case and spaces)
HEADERS = {
    "path": ("文件路径", "文件", "path", "file"),
    "project": ("项目", "楼盘项目", "project"),
    "building": ("栋", "楼栋", "building"),
    "unit": ("房号", "unit"),
    "category": ("资料类别", "类别", "category"),
    "title": ("题名", "title"),
    "date": ("日期", "date"),
    "level": ("密级", "level"),
    "department": ("责任部门", "部门", "department", "responsibledepartment"),
    "pages": ("页数", "pages"),
    "original": ("原件/复印件", "原件", "original/copy", "original"),
    "box": ("盒", "盒号", "box"),
    "shelf": ("架", "架号", "shelf"),
    "responsible_party": ("责任者", "responsibleparty"),
    "doc_number": ("文号", "documentnumber"),
    "remarks": ("备注", "remarks"),
}
REQUIRED = ("path", "project", "building", "unit", "category", "title", "date", "department")
ORIGINAL_WORDS = {"原件": True, "original": True, "是": True, "复印件": False, "copy": False, "否": False}
DATE_FORMATS = ("%Y-%m-%d", "%Y%m%d", "%Y/%m/%d", "%Y.%m.%d")
MAX_ROWS = 100_000


@dataclass(frozen=True)
class Problem:
    row: int  # the spreadsheet row; 0 for the manifest as a whole
    error: ArchiveError

    def as_dict(self) -> dict:
        return {"row": self.row, "message": self.error.message, "details": _plain(self.error.details)}


def _plain(details: dict) -> dict:
    return {k: v if isinstance(v, (int, float)) else str(v) for k, v in details.items()}


@dataclass(frozen=True)
class ImportItem:
    """One checked row: where its file is, where it goes and what is recorded about it."""

    row: int
    path: Path
    dossier_id: int
    meta: DocumentMetadata
    box_id: int | None
    sha256: str


@dataclass
class CheckResult:
    items: list[ImportItem] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    rows: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems


# Reading ----------------------------------------------------------------------------------------------------


def _header_key(text: str) -> str:
    return re.sub(r"\s+", "", str(text or "")).lower()


_FIELD_BY_HEADER = {_header_key(h): name for name, headers in HEADERS.items() for h in headers}


def _column_name(name: str) -> str:
    """A column as the messages name it: its Chinese and English headers, e.g. 项目/project."""
    headers = HEADERS[name]
    return f"{headers[0]}/{next(h for h in headers if h.isascii())}"


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():  # spreadsheets keep 1502 as 1502.0
        return str(int(value))
    return str(value).strip()


def _csv_rows(data: bytes) -> list[list[str]]:
    for encoding in ("utf-8-sig", "gb18030"):  # Excel in China saves CSV as GBK unless told otherwise
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise ValidationError("The manifest is neither UTF-8 nor GBK text.")
    return [row for row in csv.reader(io.StringIO(text))]


def _xlsx_rows(data: bytes) -> list[list[str]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many types for a file that is not a workbook
        raise ValidationError("The manifest is not a readable XLSX workbook.") from None
    try:
        return [[_cell(v) for v in row] for row in book.worksheets[0].iter_rows(values_only=True)]
    finally:
        book.close()


def read_manifest(filename: str, data: bytes) -> list[tuple[int, dict[str, str]]]:
    """(row number, field -> text) for every non-empty row; refuses unknown files and missing columns."""
    if data.startswith(b"PK\x03\x04"):
        table = _xlsx_rows(data)
    elif filename.lower().endswith((".xlsx", ".xlsm")):
        raise ValidationError("The manifest is not a readable XLSX workbook.")
    else:
        table = _csv_rows(data)
    if not table:
        raise ValidationError("The manifest is empty.")
    fields = [_FIELD_BY_HEADER.get(_header_key(h)) for h in table[0]]
    missing = [_column_name(name) for name in REQUIRED if name not in fields]
    if missing:
        raise ValidationError("The manifest lacks the columns %(columns)s.", columns=", ".join(missing))
    if len(table) - 1 > MAX_ROWS:
        raise ValidationError("A manifest takes at most %(max)s rows; split it.", max=MAX_ROWS)
    rows = []
    for number, values in enumerate(table[1:], start=2):
        cells = {name: _cell(value) for name, value in zip(fields, values) if name}
        if any(cells.values()):
            rows.append((number, cells))
    if not rows:
        raise ValidationError("The manifest lists no documents.")
    return rows


# Checking ---------------------------------------------------------------------------------------------------


def _vocabulary(labels: dict) -> dict[str, object]:
    """Each member by its code, its whole label, and the label's English and Chinese parts ("C 内部")."""
    words: dict[str, object] = {}
    with force_locale("en"):
        for member, label in labels.items():
            text = str(label)
            words[member.value.lower()] = member
            words[_header_key(text)] = member
            for part in text.split():
                words.setdefault(_header_key(part), member)
            english = " ".join(p for p in text.split() if p.isascii())
            words.setdefault(_header_key(english), member)
    return words


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1024 * 1024), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _parse_date(text: str) -> date | None:
    for fmt in DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


class _Register:
    """Lookups of the register, each asked once per import (10,000 rows name a few hundred units)."""

    def __init__(self, identity) -> None:
        self.identity = identity
        self._dossiers: dict[tuple[str, str, str], Dossier | None] = {}
        self.departments = list(db.session.scalars(sa.select(Department)))
        self.boxes: dict[str, Box | None] = {}
        self.may_fill_boxes = policy.can(identity, "fill", Box())

    def dossier(self, project: str, building: str, unit: str) -> Dossier | None:
        key = (project, building, unit)
        if key not in self._dossiers:
            self._dossiers[key] = db.session.scalar(
                sa.select(Dossier).join(Unit, Dossier.unit_id == Unit.id).join(Building).join(Project)
                .where(sa.or_(Project.code == project, Project.name == project),
                       sa.or_(Building.code == building, Building.name == building),
                       sa.or_(Unit.code == unit, Unit.name == unit))
                .limit(1))
        return self._dossiers[key]

    def department(self, text: str) -> Department | None:
        key = _header_key(text)
        return next((d for d in self.departments
                     if key in (_header_key(d.code), _header_key(d.name), _header_key(d.name_en))), None)

    def box(self, code: str) -> Box | None:
        code = code.upper()
        if code not in self.boxes:
            self.boxes[code] = db.session.scalar(sa.select(Box).where(Box.code == code))
        return self.boxes[code]


def _inside(folder: Path, relative: str) -> Path | None:
    """The file the manifest names, or None when the name leaves the folder (.., absolute, a symlink out)."""
    if not relative or PurePosixPath(relative).is_absolute() or PureWindowsPath(relative).is_absolute() \
            or PureWindowsPath(relative).drive:
        return None
    parts = PureWindowsPath(relative).parts  # accepts both / and \ as Windows manifests write them
    if ".." in parts:
        return None
    path = folder.joinpath(*parts).resolve()
    return path if path.is_relative_to(folder.resolve()) else None


def check_rows(identity, rows: list[tuple[int, dict[str, str]]], folder: Path) -> CheckResult:
    """Check every row and its file; collect every problem rather than stopping at the first."""
    register = _Register(identity)
    categories, levels = _vocabulary(CATEGORY_LABELS), _vocabulary(LEVEL_LABELS)
    max_bytes = current_app.config["MAX_UPLOAD_MB"] * 1024 * 1024
    first_row_of: dict[str, int] = {}
    result = CheckResult(rows=len(rows))
    for number, cells in rows:
        problems: list[ArchiveError] = []

        def refuse(message: str, **details) -> None:
            problems.append(ValidationError(message, **details))

        for name in REQUIRED:
            if not cells.get(name):
                refuse("The column %(column)s is empty.", column=HEADERS[name][0])
        dossier = None
        if all(cells.get(k) for k in ("project", "building", "unit")):
            dossier = register.dossier(cells["project"], cells["building"], cells["unit"])
            if dossier is None:
                refuse("No unit %(project)s / %(building)s / %(unit)s in the register: add it there first.",
                       project=cells["project"], building=cells["building"], unit=cells["unit"])
            else:
                try:
                    policy.require(identity, "file_into", dossier)
                except AccessDenied:
                    refuse("You may not file into the dossier %(number)s.", number=dossier.archive_number)
        category = categories.get(_header_key(cells.get("category", "")))
        if cells.get("category") and category is None:
            refuse("Unknown category %(value)s.", value=cells["category"])
        level = levels.get(_header_key(cells.get("level", ""))) if cells.get("level") else Level.C
        if level is None:
            refuse("Unknown level %(value)s (C/B/A or 内部/普通商密/核心商密).", value=cells["level"])
        department = register.department(cells["department"]) if cells.get("department") else None
        if cells.get("department") and department is None:
            refuse("Unknown department %(value)s.", value=cells["department"])
        doc_date = _parse_date(cells.get("date", ""))
        if cells.get("date") and doc_date is None:
            refuse("The date %(value)s is not a date (YYYY-MM-DD or YYYYMMDD).", value=cells["date"])
        pages = None
        if cells.get("pages"):
            pages = int(cells["pages"]) if cells["pages"].isdigit() else None
            if pages is None:
                refuse("The page count %(value)s is not a whole number.", value=cells["pages"])
        is_original = ORIGINAL_WORDS.get(cells.get("original", "").lower(), None) if cells.get("original") else True
        if is_original is None:
            refuse("Write 原件 or 复印件 (original or copy), not %(value)s.", value=cells["original"])
        for name, limit in (("title", 300), ("responsible_party", 200), ("doc_number", 100), ("shelf", 50)):
            if len(cells.get(name, "")) > limit:
                refuse("The column %(column)s takes at most %(max)s characters.", column=HEADERS[name][0], max=limit)
        box = None
        if cells.get("box"):
            box = register.box(cells["box"])
            if box is None:
                refuse("No box has the code %(code)s: create the box first.", code=cells["box"])
            elif not register.may_fill_boxes:
                refuse("Only the archive puts documents into boxes: leave the box column empty.")
            elif cells.get("shelf") and cells["shelf"] != box.shelf:
                refuse("Box %(code)s stands on shelf %(shelf)s, not %(value)s.", code=box.code, shelf=box.shelf,
                       value=cells["shelf"])
        sha256 = ""
        path = _inside(folder, cells.get("path", "")) if cells.get("path") else None
        if cells.get("path"):
            if path is None:
                refuse("The path %(path)s leaves the import folder.", path=cells["path"])
            elif not path.is_file():
                refuse("No file %(path)s in the import folder.", path=cells["path"])
            else:
                try:
                    with path.open("rb") as stream:
                        check_file(path.name, stream, max_bytes)
                    sha256 = file_sha256(path)
                except ValidationError as exc:
                    problems.append(exc)
                except OSError:
                    refuse("The file %(path)s cannot be read.", path=cells["path"])
        if sha256:
            if sha256 in first_row_of:
                refuse("The file %(path)s is the same as the one in row %(row)s.", path=cells["path"],
                       row=first_row_of[sha256])
            else:
                first_row_of[sha256] = number
        if problems:
            result.problems.extend(Problem(number, p) for p in problems)
            continue
        meta = DocumentMetadata(
            category=category, title=cells["title"], doc_date=doc_date, department_id=department.id, level=level,
            responsible_party=cells.get("responsible_party") or department.name,
            doc_number=cells.get("doc_number", ""), page_count=pages, is_original=is_original,
            # A box holds paper: the scan is filed as the copy of a paper original kept there.
            carrier=Carrier.PAPER if box else Carrier.ELECTRONIC,
            location_shelf="" if box else cells.get("shelf", ""), remarks=cells.get("remarks", ""),
        )
        try:  # the filer's clearance and department, as filing itself checks them
            check_metadata(identity, meta)
        except ValidationError as exc:
            result.problems.append(Problem(number, exc))
            continue
        result.items.append(ImportItem(number, path, dossier.id, meta, box.id if box else None, sha256))
    return result

