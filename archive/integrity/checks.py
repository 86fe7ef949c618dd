"""The four-property checks (四性检测, DA/T 70-2018) of a document's stored file, as one service.

Run at filing, at handover and periodically. Each run is kept as an IntegrityCheck row and audited.
Findings are stored untranslated, as {"message": English text with %(name)s placeholders, "params": {...}},
and translated when shown. The decrypted content stays in memory (bounded by the upload limit); it never
touches the disk: pdftoppm and the virus scanner read it on their standard input.
"""
from __future__ import annotations

import io
import os
import shutil
import subprocess
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext
from PIL import Image

from ..audit import services as audit
from ..auth.services import SYSTEM
from ..core.enums import Carrier
from ..core.errors import ValidationError
from ..core.keys import blob_store
from ..core.types import utcnow
from ..core.uow import UnitOfWork, unit_of_work
from ..documents.ingest import ALLOWED_TYPES, JPEG, PDF, PNG, TIFF, check_file, sniff
from ..documents.models import Document, FileVersion, NumberSequence
from ..documents.numbering import document_sequence_key, format_document_number
from ..extensions import db
from ..storage.envelope import VerifyResult, VerifyStatus
from ..storage.errors import BlobIntegrityError, BlobNotFound
from .models import CheckContext, IntegrityCheck

PROPERTIES = ("authenticity", "integrity", "usability", "security")
RENDER_TIMEOUT = 60  # seconds for pdftoppm to draw a first page at 20 dpi
SCAN_TIMEOUT = 600  # seconds; clamscan loads its signatures on every run
SCANNERS = ("clamdscan", "clamscan")  # the daemon's client first: it is fast when clamd runs
MAX_LISTED_GAPS = 20
EXTENSION_TYPES = {".pdf": PDF, ".jpg": JPEG, ".jpeg": JPEG, ".png": PNG, ".tif": TIFF, ".tiff": TIFF}


def N_(message: str) -> str:
    """Marks a finding's message for extraction; it is stored untranslated and translated when shown."""
    return message


def _finding(message: str, **params: Any) -> dict[str, Any]:
    return {"message": message, "params": params}


def finding_text(finding: dict[str, Any]) -> str:
    """A stored finding in the language in force."""
    message = finding["message"]
    return gettext(message, **finding["params"])


FIXITY_FINDINGS = {
    VerifyStatus.MISSING: N_("The stored file of version %(version)s is missing."),
    VerifyStatus.CIPHER_MISMATCH: N_(
        "The stored file of version %(version)s does not match the checksum recorded at filing "
        "(SHA-256 %(recorded)s)."
    ),
    VerifyStatus.DECRYPT_FAILED: N_(
        "The stored file of version %(version)s cannot be decrypted: it was altered, truncated or sealed with "
        "another key."
    ),
    VerifyStatus.PLAIN_MISMATCH: N_(
        "The decrypted content of version %(version)s does not match the checksum recorded at filing "
        "(SHA-256 %(recorded)s)."
    ),
}
# Required metadata (DOMAIN.md: "no required field is empty"): the attribute and the finding when it is empty.
REQUIRED_FIELDS = (
    ("title", N_("The title is missing.")),
    ("responsible_party", N_("The responsible party is missing.")),
    ("doc_date", N_("The date is missing.")),
    ("category", N_("The category is missing.")),
    ("department_id", N_("The responsible department is missing.")),
    ("level", N_("The classification level is missing.")),
    ("retention", N_("The retention period is missing.")),
)


@dataclass(frozen=True)
class CheckOutcome:
    ok: bool
    # {"authenticity": {"ok": bool, "findings": [...], "notes": [...]}, "integrity": ..., "usability": ...,
    #  "security": ...}; each finding and note is {"message": ..., "params": {...}}. JSON-able as it is.
    results: dict[str, dict[str, Any]]
    check_id: int  # the IntegrityCheck row that keeps this run

    @property
    def failures(self) -> list[tuple[str, dict[str, Any]]]:
        """(property, finding) for every finding of every failing property, in the order of PROPERTIES."""
        return [(name, finding) for name in PROPERTIES for finding in self.results[name]["findings"]]


@dataclass(frozen=True)
class _Plaintext:
    size: int | None  # bytes decrypted; None when the content could not be decrypted to the end
    data: bytes | None  # the content, when it decrypted and fits within the upload limit


def four_property_check(
    document: Document,
    *,
    context: CheckContext,
    actor: Any = None,
    version: FileVersion | None = None,
    uow: UnitOfWork | None = None,
) -> CheckOutcome:
    """Check a document's file (the current version unless one is given) for the four properties.

    The caller has decided that `actor` may have the document checked (the handover and filing services ask
    the policy); this function only checks. The run is stored and audited inside the caller's unit of work
    when `uow` is given, else in a unit of work of its own. `actor` None means the system (periodic runs).
    """
    version = version or document.current_version
    if version is None:
        raise ValidationError("Document %(number)s has no stored file to check.", number=document.archive_number)
    fixity = blob_store().verify(
        version.blob_id, version.key_id, version.wrapped_key, version.plain_sha256, version.cipher_sha256
    )
    plaintext = _decrypt(version, _upload_limit())
    results = {
        "authenticity": _result(_authenticity(document, version, fixity, plaintext)),
        "integrity": _result(_integrity(document)),
        "usability": _result(_usability(version, plaintext)),
        "security": _result(*_security(version, plaintext)),
    }
    ok = all(result["ok"] for result in results.values())

    def keep() -> IntegrityCheck:
        now = utcnow()
        version.last_fixity_at, version.last_fixity_ok = now, fixity.ok
        check = IntegrityCheck(
            document_id=document.id, file_version_id=version.id, context=context, ok=ok, results=results,
            checked_at=now, checked_by_id=getattr(actor, "id", None),
        )
        db.session.add(check)
        db.session.flush()
        audit.record(
            "integrity.check", actor=actor if actor is not None else SYSTEM, obj=document,
            archive_number=document.archive_number, version=version.version, context=context.value, ok=ok,
            failed=[name for name in PROPERTIES if not results[name]["ok"]], check=check.id,
        )
        return check

    if uow is not None:
        check = keep()
    else:
        with unit_of_work():
            check = keep()
    return CheckOutcome(ok, results, check.id)


def _result(findings: list[dict[str, Any]], notes: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"ok": not findings, "findings": findings, "notes": notes or []}


def _upload_limit() -> int:
    return current_app.config["MAX_UPLOAD_MB"] * 1024 * 1024


def _decrypt(version: FileVersion, limit: int) -> _Plaintext:
    """Decrypt into memory, keeping at most `limit` bytes (every filed file passed that limit at upload)."""
    kept, size = bytearray(), 0
    try:
        for chunk in blob_store().iter_plaintext(version.blob_id, version.key_id, version.wrapped_key):
            size += len(chunk)
            if size <= limit:
                kept += chunk
    except (BlobIntegrityError, BlobNotFound):
        return _Plaintext(None, None)
    return _Plaintext(size, bytes(kept) if size <= limit else None)


# Authenticity 真实性 -------------------------------------------------------------------------------------


def _authenticity(
    document: Document, version: FileVersion, fixity: VerifyResult, plaintext: _Plaintext
) -> list[dict[str, Any]]:
    findings = []
    if not fixity.ok:
        recorded = version.plain_sha256 if fixity.status is VerifyStatus.PLAIN_MISMATCH else version.cipher_sha256
        findings.append(_finding(FIXITY_FINDINGS[fixity.status], version=version.version, recorded=recorded))
    if plaintext.size is not None and plaintext.size != version.plain_size:
        findings.append(_finding(
            N_("Version %(version)s has %(size)s bytes, but %(recorded)s bytes were recorded at filing."),
            version=version.version, size=plaintext.size, recorded=version.plain_size,
        ))
    if plaintext.data is not None:
        found = sniff(plaintext.data[:16])
        if found is None:
            findings.append(_finding(
                N_("Version %(version)s is recorded as %(recorded)s, but its content is of no known type."),
                version=version.version, recorded=version.media_type,
            ))
        elif found != version.media_type:
            findings.append(_finding(
                N_("Version %(version)s is recorded as %(recorded)s, but its content is %(found)s."),
                version=version.version, recorded=version.media_type, found=found,
            ))
        named = EXTENSION_TYPES.get(os.path.splitext(version.filename)[1].lower())
        if found is not None and named is not None and named != found:
            findings.append(_finding(
                N_("The file name %(filename)s does not fit its content (%(found)s)."),
                filename=version.filename, found=found,
            ))
    findings += _archive_number_findings(document)
    return findings


def _archive_number_findings(document: Document) -> list[dict[str, Any]]:
    findings = []
    expected = format_document_number(document.dossier.archive_number, document.category.value, document.seq)
    if document.archive_number != expected:
        findings.append(_finding(
            N_("The archive number %(number)s does not follow the numbering rule: its dossier, category and "
               "sequence number give %(expected)s."),
            number=document.archive_number, expected=expected,
        ))
    # The database keeps numbers unique as written; a copy differing only in case or spaces is still a duplicate.
    normalised = sa.func.lower(sa.func.trim(Document.archive_number))
    same = db.session.scalar(
        sa.select(sa.func.count()).where(
            Document.id != document.id, normalised == document.archive_number.strip().lower()
        )
    )
    if same:
        findings.append(_finding(
            N_("The archive number %(number)s is not unique: %(count)s other document(s) have the same number."),
            number=document.archive_number, count=same,
        ))
    return findings


# Integrity 完整性 -----------------------------------------------------------------------------------------


def _integrity(document: Document) -> list[dict[str, Any]]:
    findings = []
    for attribute, message in REQUIRED_FIELDS:
        value = getattr(document, attribute)
        if value is None or (isinstance(value, str) and not value.strip()):
            findings.append(_finding(message))
    if document.carrier is Carrier.ELECTRONIC and not document.page_count:
        findings.append(_finding(N_("The page count of an electronic document must be more than 0.")))
    missing = _sequence_gaps(document)
    if missing:
        listed = ", ".join(str(seq) for seq in missing[:MAX_LISTED_GAPS])
        if len(missing) > MAX_LISTED_GAPS:
            listed += ", …"
        findings.append(_finding(
            N_("The %(category)s sequence of dossier %(dossier)s has gaps: number(s) %(missing)s are missing."),
            category=document.category.value, dossier=document.dossier.archive_number, missing=listed,
        ))
    return findings


def _sequence_gaps(document: Document) -> list[int]:
    """Numbers 1..last of the document's dossier and category that no document holds.

    Duplicates cannot exist: the table's unique constraint on (dossier, category, seq) forbids them. The last
    number is the sequence's counter too, so a missing last document counts as a gap.
    """
    held = set(db.session.scalars(
        sa.select(Document.seq).where(Document.dossier_id == document.dossier_id,
                                      Document.category == document.category)
    ))
    key = document_sequence_key(document.dossier.archive_number, document.category.value)
    counter = db.session.scalar(sa.select(NumberSequence.last_value).where(NumberSequence.key == key)) or 0
    return [seq for seq in range(1, max([counter, *held]) + 1) if seq not in held]


# Usability 可用性 -----------------------------------------------------------------------------------------


def _usability(version: FileVersion, plaintext: _Plaintext) -> list[dict[str, Any]]:
    findings = []
    if version.media_type not in ALLOWED_TYPES:
        findings.append(_finding(
            N_("The format %(media_type)s is not in the allowed list: PDF, JPEG, PNG or TIFF "
               "(OFD is not accepted at upload here)."),
            media_type=version.media_type,
        ))
    if plaintext.size is None:
        findings.append(_finding(
            N_("Version %(version)s cannot be opened: its stored content cannot be decrypted."),
            version=version.version,
        ))
    elif plaintext.data is None:
        findings.append(_finding(
            N_("Version %(version)s is larger than the upload limit of %(limit)s MB, so it was not opened."),
            version=version.version, limit=current_app.config["MAX_UPLOAD_MB"],
        ))
    else:
        try:
            # Opens it as at upload: the type by content, readable, not password-protected, has pages.
            checked = check_file(version.filename, io.BytesIO(plaintext.data), _upload_limit())
        except ValidationError as exc:
            findings.append(_finding(exc.message, **exc.details))
        else:
            problem = _render_first_page(checked.media_type, plaintext.data)
            if problem is not None:
                findings.append(problem)
    return findings


def _render_first_page(media_type: str, data: bytes) -> dict[str, Any] | None:
    """Draw the first page at low resolution: a file that opens may still fail to show."""
    if media_type == PDF:
        command = ["pdftoppm", "-f", "1", "-l", "1", "-r", "20", "-png", "-"]
        try:
            done = subprocess.run(command, input=data, capture_output=True, timeout=RENDER_TIMEOUT)
        except FileNotFoundError:
            return _finding(N_("pdftoppm is not installed, so the first page could not be rendered "
                               "(install poppler-utils)."))
        except subprocess.TimeoutExpired:
            return _finding(N_("The first page took longer than %(seconds)s seconds to render."),
                            seconds=RENDER_TIMEOUT)
        if done.returncode != 0 or not done.stdout:
            return _finding(N_("The first page could not be rendered."))
        return None
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.seek(0)
            image.load()
    except Exception:  # Pillow raises many types for an image that does not decode
        return _finding(N_("The first page could not be rendered."))
    return None


# Security 安全性 ------------------------------------------------------------------------------------------


def _security(version: FileVersion, plaintext: _Plaintext) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    findings: list[dict[str, Any]] = []
    notes = [
        _finding(N_("Access is controlled: the file is stored encrypted and opens only for the people the "
                    "permission policy allows; every opening is audited.")),
        _finding(N_("This check run is recorded and audited.")),
    ]
    scanners = [path for path in map(shutil.which, SCANNERS) if path]
    if not scanners:
        notes.insert(0, _finding(N_("No virus scanner (clamscan or clamdscan) is installed; the file was not "
                                    "scanned.")))
    elif plaintext.data is None:
        findings.append(_finding(
            N_("Version %(version)s could not be scanned for viruses: its content could not be read."),
            version=version.version,
        ))
    else:
        failed, said = _scan(scanners, plaintext.data)
        if failed:
            findings.append(said)
        else:
            notes.insert(0, said)
    return findings, notes


def _scan(scanners: list[str], data: bytes) -> tuple[bool, dict[str, Any]]:
    """(failed, what to say): scanned by the first scanner that works (clamdscan fails without its daemon)."""
    error = ""
    for path in scanners:
        name = os.path.basename(path)
        try:
            done = subprocess.run([path, "--no-summary", "--stdout", "-"], input=data, capture_output=True,
                                  timeout=SCAN_TIMEOUT)
        except subprocess.TimeoutExpired:
            error = f"{name}: timed out after {SCAN_TIMEOUT} s"
            continue
        if done.returncode == 0:
            return False, _finding(N_("Scanned for viruses by %(scanner)s: nothing found."), scanner=name)
        output = done.stdout.decode("utf-8", "replace").splitlines()
        if done.returncode == 1:  # clamscan's "stdin: <signature> FOUND"
            signatures = [line.rsplit(":", 1)[-1].removesuffix("FOUND").strip()
                          for line in output if line.endswith("FOUND")]
            return True, _finding(N_("The virus scanner %(scanner)s found %(signature)s."),
                                  scanner=name, signature=", ".join(signatures))
        said = done.stderr.decode("utf-8", "replace").splitlines() or output
        error = f"{name}: {said[-1].strip() if said else f'exit status {done.returncode}'}"
    return True, _finding(N_("The virus scan failed: %(error)s"), error=error)
