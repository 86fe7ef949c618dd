"""Documents: metadata, filing (multipart upload, streamed), download (streamed), versions."""
from __future__ import annotations

import sqlalchemy as sa
from flask_login import current_user
from werkzeug.datastructures import FileStorage

from ..auth.services import department_by_code
from ..core.errors import ValidationError
from ..core.permissions import policy
from ..core.web import send_private
from ..documents import services as documents
from ..documents.ingest import ALLOWED_TYPES
from ..documents.models import Document
from ..units.models import Dossier
from .framework import ROW_ID, ApiBlueprint
from .pagination import keyset_page
from .schemas import (CursorArgs, DocumentListSchema, DocumentPageSchema, DocumentSchema, DownloadArgs, UploadArgs,
                      VersionArgs, VersionListSchema, VersionSchema)

blp = ApiBlueprint("api_documents", __name__, description="Documents, their files and versions")

FILE_RESPONSE = {
    "description": "the file, decrypted and streamed; the download is audited",
    "content": {media_type: {"schema": {"type": "string", "format": "binary"}} for media_type in ALLOWED_TYPES},
}


def _upload(part) -> documents.Upload:
    """The file part as the filing service reads it: Werkzeug has spooled a large one to a temporary file,
    which the service reads in segments; the whole file is never read into memory here."""
    if not isinstance(part, FileStorage) or not part.filename:
        raise ValidationError("Send each file as a file part of the multipart body, with its file name.")
    return documents.Upload(part.filename, part.stream)


@blp.get(f"/dossiers/<{ROW_ID}:dossier_id>/documents")
@blp.arguments(CursorArgs, location="query")
@blp.response(200, DocumentPageSchema)
def list_documents(args, dossier_id: int):
    """The dossier's documents the caller may read (the others are not counted, not mentioned)."""
    dossier = policy.fetch(current_user, "read", Dossier, dossier_id)
    stmt = sa.select(Document).where(Document.dossier_id == dossier.id, policy.where(current_user, "read", Document))
    page = keyset_page(stmt, Document.id, args["cursor"], args["limit"])
    return {"items": page.items, "next_cursor": page.next_cursor, "next": page.next}


@blp.post(f"/dossiers/<{ROW_ID}:dossier_id>/documents")
@blp.arguments(UploadArgs, location="multipart")
@blp.response(201, DocumentListSchema)
def file_documents(args, dossier_id: int):
    """File one document per uploaded file, all or nothing, as the upload page does."""
    department = department_by_code(args["department"]) if args["department"] else current_user.department
    meta = documents.DocumentMetadata(
        category=args["category"], title=args["title"], responsible_party=args["responsible_party"],
        doc_date=args["doc_date"], department_id=department.id, level=args["level"], doc_number=args["doc_number"],
        page_count=args["page_count"], is_original=args["is_original"], carrier=args["carrier"],
        retention=args["retention"], location_room=args["location_room"], location_box=args["location_box"],
        location_shelf=args["location_shelf"], remarks=args["remarks"],
    )
    uploads = [_upload(part) for part in args["file"]]
    return {"items": documents.file_documents(current_user, dossier_id, meta, uploads)}


@blp.get(f"/documents/<{ROW_ID}:document_id>")
@blp.response(200, DocumentSchema)
def get_document(document_id: int):
    """A document's metadata; the view is audited."""
    return documents.get_document(current_user, document_id)


@blp.get(f"/documents/<{ROW_ID}:document_id>/file")
@blp.arguments(DownloadArgs, location="query")
@blp.doc(responses={"200": FILE_RESPONSE})
def download(args, document_id: int):
    """The file of the newest version, or of `version`: checked, audited and streamed like a download."""
    to_send = documents.open_file(current_user, document_id, args["version"], purpose="download")
    return send_private(to_send.stream, media_type=to_send.media_type, filename=to_send.filename,
                        size=to_send.size, as_attachment=True)


@blp.get(f"/documents/<{ROW_ID}:document_id>/versions")
@blp.response(200, VersionListSchema)
def list_versions(document_id: int):
    """Every version, newest first; the filed original is never altered."""
    return {"items": documents.document_page(current_user, document_id).versions}


@blp.post(f"/documents/<{ROW_ID}:document_id>/versions")
@blp.arguments(VersionArgs, location="multipart")
@blp.response(201, VersionSchema)
def add_version(args, document_id: int):
    """A correction: a new version with the reason for it."""
    return documents.add_version(current_user, document_id, _upload(args["file"]), args["note"])
