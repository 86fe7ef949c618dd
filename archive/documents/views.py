"""Filing into a dossier, the document page, downloads and previews, and the metadata search."""
from __future__ import annotations

import unicodedata
from urllib.parse import quote

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _, ngettext
from flask_login import current_user, login_required
from werkzeug.datastructures import Headers

from ..core.errors import ValidationError
from ..core.web import error_text
from . import services
from .forms import EditForm, SearchForm, UploadForm, VersionForm

bp = Blueprint("documents", __name__)


def _message(exc: ValidationError) -> str:
    return error_text(exc)


@bp.route("/dossiers/<int:dossier_id>/upload", methods=["GET", "POST"])
@login_required
def upload(dossier_id: int):
    choices = services.filing_choices(current_user, dossier_id)
    form = UploadForm(choices, current_user.department_id)
    error = None
    if form.validate_on_submit():
        uploads = [
            services.Upload(f.filename or "", f.stream)
            for f in request.files.getlist(form.files.name)
            if f.filename  # a file input left empty sends one nameless, empty part
        ]
        try:
            filed = services.file_documents(current_user, dossier_id, form.metadata(), uploads)
        except ValidationError as exc:
            error = _message(exc)
        else:
            numbers = ", ".join(doc.archive_number for doc in filed)
            flash(ngettext("Filed %(num)s document: %(numbers)s", "Filed %(num)s documents: %(numbers)s",
                           len(filed), numbers=numbers), "success")
            return redirect(url_for("units.dossier", dossier_id=dossier_id))
    status = 400 if form.is_submitted() else 200
    return render_template("documents/upload.html", form=form, dossier=choices.dossier, error=error), status


def _document_page(document_id: int, *, edit_form: EditForm | None = None,
                   version_form: VersionForm | None = None, error: str | None = None, status: int = 200):
    page = services.document_page(current_user, document_id)
    return render_template(
        "documents/document.html",
        page=page,
        doc=page.document,
        edit_form=edit_form or EditForm.for_document(page.document),
        version_form=version_form or VersionForm(formdata=None),
        error=error,
    ), status


@bp.get("/documents/<int:document_id>")
@login_required
def document(document_id: int):
    return _document_page(document_id)


@bp.post("/documents/<int:document_id>/edit")
@login_required
def edit(document_id: int):
    form = EditForm()
    error = None
    if form.validate():
        try:
            services.update_metadata(current_user, document_id, form.changes())
        except ValidationError as exc:
            error = _message(exc)
        else:
            flash(_("The metadata is saved."), "success")
            return redirect(url_for(".document", document_id=document_id))
    return _document_page(document_id, edit_form=form, error=error, status=400)


@bp.post("/documents/<int:document_id>/versions")
@login_required
def add_version(document_id: int):
    form = VersionForm()
    error = None
    if form.validate():
        upload = services.Upload(form.file.data.filename or "", form.file.data.stream)
        try:
            version = services.add_version(current_user, document_id, upload, form.note.data)
        except ValidationError as exc:
            error = _message(exc)
        else:
            flash(_("Version %(version)s is filed; the earlier versions are kept.", version=version.version),
                  "success")
            return redirect(url_for(".document", document_id=document_id))
    return _document_page(document_id, version_form=form, error=error, status=400)


def _filename_options(filename: str) -> dict[str, str]:
    """Content-Disposition options that keep a Chinese file name (RFC 6266 / RFC 5987), as send_file does."""
    try:
        filename.encode("ascii")
    except UnicodeEncodeError:
        fallback = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode("ascii")
        return {"filename": fallback or "download", "filename*": "UTF-8''" + quote(filename, safe="!#$&+-.^_`|~")}
    return {"filename": filename}


def _send(to_send: services.FileToSend, kind: str) -> Response:
    """Stream the decrypted chunks: a large scan never sits in memory, and no copy is cached."""
    headers = Headers()
    headers.set("Content-Disposition", kind, **_filename_options(to_send.filename))
    headers["Content-Length"] = str(to_send.size)
    headers["Cache-Control"] = "private, no-store"
    return Response(to_send.chunks, mimetype=to_send.media_type, headers=headers, direct_passthrough=True)


@bp.get("/documents/<int:document_id>/download")
@login_required
def download(document_id: int):
    version = request.args.get("version", type=int)
    return _send(services.open_file(current_user, document_id, version, purpose="download"), "attachment")


@bp.get("/documents/<int:document_id>/preview")
@login_required
def preview(document_id: int):
    version = request.args.get("version", type=int)
    return _send(services.preview_file(current_user, document_id, version), "inline")


@bp.get("/search")
@login_required
def search():
    form = SearchForm(formdata=request.args)
    results = None
    if form.validate():
        results = services.search_metadata(current_user, form.query(), page=request.args.get("page", 1, type=int))
    arguments = {name: request.args[name] for name in form.data if request.args.get(name)}
    return render_template("documents/search.html", form=form, results=results, arguments=arguments)
