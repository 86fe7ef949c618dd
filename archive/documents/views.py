"""Filing into a dossier, the document page, downloads and previews; the old metadata search address."""
from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _, ngettext
from flask_login import current_user, login_required

from ..core.errors import ValidationError
from ..core.permissions import policy
from ..core.web import error_text, send_private
from ..loans import services as loans
from ..search import textstore
from . import services
from .forms import EditForm, UploadForm, VersionForm

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
        text=textstore.text_state(current_user, page.document),
        reading_loans=loans.active_loans_for(current_user, page.document),
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


@bp.post("/documents/<int:document_id>/text/requeue")
@login_required
def requeue_text(document_id: int):
    textstore.requeue_document(current_user, document_id)
    flash(_("The text of this document will be read again."), "success")
    return redirect(url_for(".document", document_id=document_id))


def _send(to_send: services.FileToSend, *, as_attachment: bool) -> Response:
    return send_private(to_send.stream, media_type=to_send.media_type, filename=to_send.filename,
                        size=to_send.size, as_attachment=as_attachment)


@bp.get("/documents/<int:document_id>/download")
@login_required
def download(document_id: int):
    version = request.args.get("version", type=int)
    return _send(services.open_file(current_user, document_id, version, purpose="download"), as_attachment=True)


@bp.get("/documents/<int:document_id>/preview")
@login_required
def preview(document_id: int):
    version = request.args.get("version", type=int)
    return _send(services.preview_file(current_user, document_id, version), as_attachment=False)


@bp.get("/search")
@login_required
def search():
    """The metadata search is the search page's advanced form now: old links and bookmarks lead there, with
    their criteria (the parameters have the same names)."""
    policy.require(current_user, "browse_dossiers")
    return redirect(url_for("search.find", **request.args.to_dict(flat=False)), 301)
