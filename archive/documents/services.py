"""Filing, reading and correcting documents. Every function asks the one policy first."""
from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any, BinaryIO

import sqlalchemy as sa
from flask import current_app
from PIL import Image
from sqlalchemy.orm import joinedload

from ..audit import services as audit
from ..auth.models import Department, User
from ..core.enums import REGISTER_ROLES, Carrier, Category, Level, Retention
from ..core.errors import NotFound, ValidationError
from ..core.keys import blob_store
from ..core.permissions import policy
from ..core.uow import UnitOfWork, unit_of_work
from ..extensions import db
from ..handovers.transit import ensure_not_in_transit
from ..retention.guards import ensure_not_disposed
from ..search.indexing import schedule_index
from ..search.textstore import queue_extraction
from ..units.models import Dossier
from .ingest import PNG, TIFF, CheckedFile, check_file
from .models import Document, FileVersion, KnowledgeScope
from .numbering import document_number

CATEGORY_ORDER = sa.case({c.value: i for i, c in enumerate(Category)}, value=Document.category)

# Fields a metadata edit may change. Level, category, department and archive number are not among
# them: a level changes only by an approved classification change; the others define the number.
EDITABLE_FIELDS = (
    "title", "responsible_party", "doc_number", "doc_date", "page_count", "is_original", "carrier",
    "retention", "location_room", "location_box", "location_shelf", "remarks",
)


@dataclass
class DocumentMetadata:
    category: Category
    title: str
    responsible_party: str
    doc_date: date
    department_id: int
    level: Level = Level.C
    doc_number: str = ""
    page_count: int | None = None  # defaults to the pages found in the file
    is_original: bool = True
    carrier: Carrier = Carrier.ELECTRONIC
    retention: Retention | None = None  # defaults to the category's schedule
    location_room: str = ""
    location_box: str = ""
    location_shelf: str = ""
    remarks: str = ""
    scope_department_ids: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class Upload:
    filename: str
    stream: BinaryIO


def _max_bytes() -> int:
    return current_app.config["MAX_UPLOAD_MB"] * 1024 * 1024


def may_file_for(identity, department_id: int) -> bool:
    """Documents are managed by department (5.1.6): filers outside the archive file for their own only."""
    return department_id == identity.department_id or identity.has_role(*REGISTER_ROLES)


def check_metadata(identity, meta: DocumentMetadata) -> None:
    """What filing requires of the metadata and of the filer (a bulk import asks the same before it files)."""
    if not meta.title.strip() or not meta.responsible_party.strip():
        raise ValidationError("Title and responsible party are required.")
    if meta.level.rank > identity.clearance.rank:
        raise ValidationError("You cannot file a document above your own clearance.")
    if db.session.get(Department, meta.department_id) is None:
        raise ValidationError("Choose the responsible department.")
    if not may_file_for(identity, meta.department_id):
        raise ValidationError("You can file documents only for your own department.")
    if meta.page_count is not None and meta.page_count < 0:
        raise ValidationError("The page count cannot be negative.")
    from ..retention.rules import minimum_retention, shorter  # the retention package builds on this module

    if meta.retention is not None and shorter(meta.retention, minimum_retention(meta.category)):
        raise ValidationError("The retention period cannot be shorter than the schedule for this category.")


def retention_years(retention: Retention) -> int:
    return {Retention.PERMANENT: 10_000, Retention.YEARS_30: 30, Retention.YEARS_10: 10}[retention]


@dataclass(frozen=True)
class FilingChoices:
    """What the filing form may offer: the same limits `check_metadata` enforces."""

    dossier: Dossier
    departments: list[Department]  # responsible departments this identity may file for
    scope_departments: list[Department]
    levels: list[Level]


def filing_choices(identity, dossier_id: int) -> FilingChoices:
    dossier = policy.fetch(identity, "file_into", Dossier, dossier_id)
    departments = list(db.session.scalars(sa.select(Department).order_by(Department.id)))
    responsible = [d for d in departments if may_file_for(identity, d.id)]
    return FilingChoices(dossier, responsible, departments, identity.clearance.covered())


def check_uploads(uploads: list[Upload]) -> list[CheckedFile]:
    """Check every file before storing any: one bad file rejects the batch and names each problem."""
    if not uploads:
        raise ValidationError("Choose at least one file.")
    checked, problems = [], []
    for upload in uploads:
        try:
            checked.append(check_file(upload.filename, upload.stream, _max_bytes()))
        except ValidationError as exc:
            problems.append(exc)
    if problems:
        if len(problems) == 1:
            raise problems[0]
        raise ValidationError("%(count)s files were refused, nothing was filed.",
                              count=len(problems), problems=problems)
    return checked


def store_file(uow: UnitOfWork, checked: CheckedFile) -> dict[str, Any]:
    """Encrypt the file into the blob store; the blob is removed again if the transaction fails."""
    sealed = blob_store().put(checked.stream, max_size=_max_bytes())
    uow.on_rollback(lambda: blob_store().delete(sealed.blob_id))
    return dict(
        filename=checked.filename[:255], media_type=checked.media_type, page_count=checked.page_count,
        blob_id=sealed.blob_id, key_id=sealed.key_id, wrapped_key=sealed.wrapped_key,
        plain_size=sealed.plain_size, plain_sha256=sealed.plain_sha256,
        cipher_size=sealed.cipher_size, cipher_sha256=sealed.cipher_sha256,
    )


def file_documents(identity, dossier_id: int, meta: DocumentMetadata, uploads: list[Upload]) -> list[Document]:
    """File one document per uploaded file into a dossier, all or nothing."""
    dossier = policy.fetch(identity, "file_into", Dossier, dossier_id)
    check_metadata(identity, meta)
    checked = check_uploads(uploads)
    from ..retention.rules import minimum_retention

    retention = meta.retention or minimum_retention(meta.category)
    documents = []
    with unit_of_work() as uow:
        for item in checked:
            title = meta.title.strip()
            if len(checked) > 1:
                title = f"{title} — {item.filename.rsplit('.', 1)[0]}" if title else item.filename
            number, seq = document_number(dossier.archive_number, meta.category.value)
            doc = Document(
                dossier_id=dossier.id, archive_number=number, seq=seq, category=meta.category, title=title[:300],
                responsible_party=meta.responsible_party.strip(), doc_number=meta.doc_number.strip(),
                doc_date=meta.doc_date, department_id=meta.department_id, level=meta.level,
                page_count=meta.page_count if meta.page_count is not None else item.page_count,
                is_original=meta.is_original, carrier=meta.carrier,
                retention=retention,
                location_room=meta.location_room.strip(), location_box=meta.location_box.strip(),
                location_shelf=meta.location_shelf.strip(), remarks=meta.remarks.strip(),
                created_by_id=identity.id,
            )
            doc.scope = [KnowledgeScope(department_id=d) for d in sorted(set(meta.scope_department_ids))]
            db.session.add(doc)
            db.session.flush()
            version = FileVersion(document_id=doc.id, version=1, uploaded_by_id=identity.id, **store_file(uow, item))
            db.session.add(version)
            db.session.flush()
            queue_extraction(uow, version)
            audit.record(
                "document.upload", actor=identity, obj=doc, archive_number=number, filename=version.filename,
                media_type=version.media_type, size=version.plain_size, sha256=version.plain_sha256,
                level=doc.level.value,
            )
            documents.append(doc)
    return documents


def add_version(identity, document_id: int, upload: Upload, note: str) -> FileVersion:
    """A correction is a new version; the filed original stays as it was, listed below it."""
    doc = policy.fetch(identity, "read", Document, document_id)
    policy.require(identity, "edit", doc)
    ensure_not_disposed(doc)
    ensure_not_in_transit(doc.id)
    if not note.strip():
        raise ValidationError("Say why the file is corrected.")
    (checked,) = check_uploads([upload])
    with unit_of_work() as uow:
        last = db.session.scalar(sa.select(sa.func.max(FileVersion.version)).where(FileVersion.document_id == doc.id))
        version = FileVersion(
            document_id=doc.id, version=(last or 0) + 1, note=note.strip()[:500], uploaded_by_id=identity.id,
            **store_file(uow, checked),
        )
        db.session.add(version)
        db.session.flush()
        queue_extraction(uow, version)
        audit.record(
            "document.version", actor=identity, obj=doc, version=version.version, filename=version.filename,
            sha256=version.plain_sha256, note=version.note,
        )
    return version


def update_metadata(identity, document_id: int, changes: dict[str, Any]) -> Document:
    doc = policy.fetch(identity, "read", Document, document_id)
    policy.require(identity, "edit", doc)
    ensure_not_disposed(doc)
    ensure_not_in_transit(doc.id)
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationError("These fields cannot be edited here: %(fields)s", fields=", ".join(sorted(unknown)))
    with unit_of_work() as uow:
        diff = {}
        for name, new in changes.items():
            old = getattr(doc, name)
            if isinstance(new, str):
                new = new.strip()
            if old != new:
                diff[name] = [_plain(old), _plain(new)]
                setattr(doc, name, new)
        if "title" in diff and not doc.title:
            raise ValidationError("Title and responsible party are required.")
        if "retention" in diff:
            from ..retention.rules import ensure_may_shorten

            ensure_may_shorten(doc, Retention(diff["retention"][0]), doc.retention)
        if diff:
            audit.record("document.update", actor=identity, obj=doc, changes=diff)
            uow.after_commit(lambda: schedule_index(document_id))
    return doc


def _plain(value: Any) -> Any:
    return value.value if hasattr(value, "value") else value.isoformat() if isinstance(value, date) else value


def get_document(identity, document_id: int) -> Document:
    """Open a document's page (metadata and versions); the view is audited."""
    doc = policy.fetch(identity, "read", Document, document_id)
    with unit_of_work():
        audit.record("document.view", actor=identity, obj=doc, archive_number=doc.archive_number)
    return doc


@dataclass(frozen=True)
class DocumentPage:
    document: Document
    versions: list[FileVersion]  # newest first
    scope: list[str]  # names of the departments and people in the knowledge scope


def document_page(identity, document_id: int) -> DocumentPage:
    """Everything the document page shows, in a fixed number of queries; the view is audited."""
    doc = get_document(identity, document_id)
    versions = list(db.session.scalars(
        sa.select(FileVersion).where(FileVersion.document_id == doc.id)
        .options(joinedload(FileVersion.uploaded_by)).order_by(FileVersion.version.desc())
    ))
    department_ids = [s.department_id for s in doc.scope if s.department_id is not None]
    user_ids = [s.user_id for s in doc.scope if s.user_id is not None]
    names = [d.name for d in db.session.scalars(
        sa.select(Department).where(Department.id.in_(department_ids)).order_by(Department.id))]
    names += [u.display_name for u in db.session.scalars(
        sa.select(User).where(User.id.in_(user_ids)).order_by(User.display_name))]
    return DocumentPage(doc, versions, names)


def get_document_by_number(identity, archive_number: str) -> Document:
    doc_id = db.session.scalar(sa.select(Document.id).where(Document.archive_number == archive_number.strip()))
    if doc_id is None:
        raise NotFound("Not found.")
    return get_document(identity, doc_id)


@dataclass(frozen=True)
class FileToSend:
    document_id: int
    version: int
    filename: str
    media_type: str
    size: int
    sha256: str
    stream: BinaryIO  # the decrypted content, read lazily segment by segment


def open_file(identity, document_id: int, version_no: int | None = None, *, purpose: str = "download") -> FileToSend:
    """Check, audit and commit, then open the plaintext as a stream to send."""
    doc = policy.fetch(identity, "read_file", Document, document_id)
    ensure_not_disposed(doc)
    stmt = sa.select(FileVersion).where(FileVersion.document_id == doc.id)
    stmt = stmt.where(FileVersion.version == version_no) if version_no else stmt.order_by(FileVersion.version.desc())
    version = db.session.scalars(stmt.limit(1)).first()
    if version is None:
        raise NotFound("Not found.")
    sealed = (version.blob_id, version.key_id, version.wrapped_key)
    described = (doc.id, version.version, version.filename, version.media_type, version.plain_size,
                 version.plain_sha256)
    with unit_of_work():
        audit.record(
            f"document.{purpose}", actor=identity, obj=doc, archive_number=doc.archive_number, version=version.version
        )
    return FileToSend(*described, stream=blob_store().open(*sealed))


PREVIEW_MAX_SIDE = 2000  # pixels: enough to read a scanned page, small enough to send quickly


def preview_file(identity, document_id: int, version_no: int | None = None) -> FileToSend:
    """A file to show inline. Browsers do not show TIFF, so a TIFF comes as a PNG of its first page."""
    to_send = open_file(identity, document_id, version_no, purpose="preview")
    if to_send.media_type != TIFF:
        return to_send
    with to_send.stream:
        png = _first_page_png(to_send.stream)
    return replace(
        to_send, filename=to_send.filename.rsplit(".", 1)[0] + ".png", media_type=PNG, size=len(png),
        sha256=hashlib.sha256(png).hexdigest(), stream=io.BytesIO(png),
    )


def _first_page_png(stream: BinaryIO) -> bytes:
    # Pillow needs random access to a TIFF's page directory. The plaintext stays in memory (never on
    # disk), bounded by the upload limit the file passed when it was filed.
    tiff = io.BytesIO(stream.read())
    try:
        with Image.open(tiff) as image:
            image.seek(0)
            page = image.convert("RGB") if image.mode not in ("1", "L", "RGB", "RGBA", "P") else image.copy()
    except (OSError, ValueError):  # a compression Pillow cannot decode; the original is intact
        raise ValidationError("This TIFF cannot be shown in the browser; download it instead.") from None
    page.thumbnail((PREVIEW_MAX_SIDE, PREVIEW_MAX_SIDE))
    out = io.BytesIO()
    page.save(out, format="PNG")
    return out.getvalue()


def dossier_documents(identity, dossier_id: int, page: int = 1, per_page: int | None = None):
    """The documents of a dossier that the identity may read, grouped by category, newest first."""
    dossier = policy.fetch(identity, "read", Dossier, dossier_id)
    stmt = (
        sa.select(Document)
        .where(Document.dossier_id == dossier.id, policy.where(identity, "read", Document))
        .order_by(CATEGORY_ORDER, Document.doc_date.desc(), Document.seq.desc())
    )
    per_page = per_page or current_app.config["PAGE_SIZE"]
    return dossier, db.paginate(stmt, page=page, per_page=per_page, error_out=False, max_per_page=200)
