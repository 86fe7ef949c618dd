"""Box pages (list, new box, a box's contents, moving it, filling it) and the printed catalogues and labels."""
from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _, to_user_timezone
from flask_login import current_user, login_required

from ..core.errors import ArchiveError
from ..core.types import utcnow
from ..core.web import error_text
from . import services
from .forms import BoxForm, PlaceForm, PutForm, YearForm

bp = Blueprint("shelving", __name__)


def _pdf(data: bytes, filename: str) -> Response:
    response = Response(data, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


# Boxes ----------------------------------------------------------------------------------------------------


@bp.get("/boxes/")
@login_required
def boxes():
    year_form = YearForm(formdata=None, year=to_user_timezone(utcnow()).year)
    return render_template("shelving/boxes.html", rows=services.list_boxes(current_user), year_form=year_form)


@bp.route("/boxes/new", methods=["GET", "POST"])
@login_required
def new_box():
    services.ensure_may_create_box(current_user)
    form = BoxForm()
    error = None
    if form.validate_on_submit():
        try:
            box = services.create_box(current_user, form.code.data, form.title.data or "", form.place())
        except ArchiveError as exc:
            error = error_text(exc)
        else:
            flash(_("Box %(code)s is created.", code=box.code), "success")
            return redirect(url_for(".box", box_id=box.id))
    status = 400 if request.method == "POST" else 200
    return render_template("shelving/new_box.html", form=form, error=error), status


@bp.get("/boxes/<int:box_id>")
@login_required
def box(box_id: int):
    return _box_page(box_id)


def _box_page(box_id: int, *, error: str | None = None, status: int = 200, move_form: PlaceForm | None = None,
              put_form: PutForm | None = None):
    box, documents = services.box_documents(current_user, box_id)
    if move_form is None:
        move_form = PlaceForm(formdata=None, floor=box.floor, room=box.room, shelf=box.shelf)
    return render_template(
        "shelving/box.html", box=box, place=box.place, documents=documents, error=error,
        move_form=move_form, put_form=put_form or PutForm(formdata=None),
    ), status


@bp.post("/boxes/<int:box_id>/move")
@login_required
def move(box_id: int):
    form = PlaceForm()
    if not form.validate():
        return _box_page(box_id, move_form=form, status=400)
    try:
        box = services.move_box(current_user, box_id, form.place())
    except ArchiveError as exc:
        return _box_page(box_id, move_form=form, error=error_text(exc), status=exc.status_code)
    flash(_("Box %(code)s now stands at %(place)s.", code=box.code, place=box.place), "success")
    return redirect(url_for(".box", box_id=box_id))


@bp.post("/boxes/<int:box_id>/documents")
@login_required
def put(box_id: int):
    form = PutForm()
    if not form.validate():
        return _box_page(box_id, put_form=form, status=400)
    try:
        documents = services.put_documents(current_user, box_id, form.archive_numbers.data.split())
    except ArchiveError as exc:
        return _box_page(box_id, put_form=form, error=error_text(exc), status=exc.status_code)
    flash(_("%(count)s document(s) put into the box.", count=len(documents)), "success")
    return redirect(url_for(".box", box_id=box_id))


@bp.post("/boxes/<int:box_id>/documents/<int:document_id>/remove")
@login_required
def take_out(box_id: int, document_id: int):
    document = services.take_out(current_user, box_id, document_id)
    flash(_("%(number)s is taken out of the box.", number=document.archive_number), "success")
    return redirect(url_for(".box", box_id=box_id))


@bp.get("/boxes/<int:box_id>/label.pdf")
@login_required
def label(box_id: int):
    return _pdf(services.box_label(current_user, box_id), f"box-{box_id}-label.pdf")


# Catalogues -----------------------------------------------------------------------------------------------


@bp.get("/dossiers/<int:dossier_id>/catalogue.pdf")
@login_required
def catalogue(dossier_id: int):
    volume = request.args.get("volume", type=int)
    suffix = f"-volume-{volume}" if volume else ""
    return _pdf(services.dossier_catalogue(current_user, dossier_id, volume), f"catalogue-{dossier_id}{suffix}.pdf")


@bp.get("/catalogues/departed")
@login_required
def departed_form():
    """The year chosen on the boxes page; the catalogue itself has an address of its own per year."""
    form = YearForm(formdata=request.args)
    if not form.validate():
        flash(_("Give the year as four digits, e.g. 2025."), "error")
        return redirect(url_for(".boxes"))
    return redirect(url_for(".departed", year=form.year.data))


@bp.get("/catalogues/departed/<int:year>.pdf")
@login_required
def departed(year: int):
    return _pdf(services.departed_catalogue(current_user, year), f"departed-{year}.pdf")
