"""What a loan shows: the watermarked rendition a borrower reads, the slip, and what a page may offer."""
from __future__ import annotations

import os

from flask_babel import to_user_timezone

from ..core.keys import blob_store
from ..core.errors import NotFound
from ..core.permissions import policy
from ..core.types import utcnow
from ..documents.models import Document
from ..documents.services import FileToSend
from ..retention.guards import ensure_not_disposed
from ..units.models import Dossier
from . import services
from .models import Loan
from .rendition import watermarked_rendition
from .slip import loan_slip_pdf


def watermark_lines(loan: Loan, viewer, when) -> list[str]:
    """Who is reading, under which loan, when: on every page, so a leaked copy names its source."""
    local = to_user_timezone(when).strftime("%Y-%m-%d %H:%M")
    return [
        f"{viewer.display_name} · {viewer.department.name}",
        f"借阅 {loan.number} · {local}",
    ]


def watermarked_view(identity, loan_id: int, document_id: int) -> FileToSend:
    """The document as a PDF with the watermark on every page; only under the viewer's own running loan."""
    document = policy.fetch(identity, "view_rendition", Document, document_id)
    ensure_not_disposed(document)
    loan = next((l for l in services.active_loans_for(identity, document) if l.id == loan_id), None)
    version = document.current_version
    if loan is None or version is None:
        raise NotFound("Not found.")
    with blob_store().open(version.blob_id, version.key_id, version.wrapped_key) as plain:
        rendition = watermarked_rendition(plain, version.media_type, watermark_lines(loan, identity, utcnow()))
    services.record_view(identity, loan, document)
    size = rendition.seek(0, os.SEEK_END)
    rendition.seek(0)
    return FileToSend(
        document.id, version.version, f"{document.archive_number}-{loan.number}.pdf", "application/pdf", size,
        sha256="", stream=rendition,
    )


def viewable_documents(identity, loan: Loan) -> list[Document]:
    """The documents of this loan its reader may open as a watermarked rendition now."""
    if loan.borrower_id != identity.id or loan.use.is_paper:
        return []
    return [item.document for item in loan.items
            if any(l.id == loan.id for l in services.active_loans_for(identity, item.document))]


def catalogue(identity, dossier_id: int) -> tuple[Dossier, list[Document]]:
    dossier = policy.fetch(identity, "read", Dossier, dossier_id)
    return dossier, services.requestable_documents(identity, dossier.id)


def slip(identity, loan_id: int) -> bytes:
    return loan_slip_pdf(services.get_loan(identity, loan_id))
