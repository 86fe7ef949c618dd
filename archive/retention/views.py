"""Retention pages: the schedule, the expiry appraisal, legal holds, disposals and their registers."""
from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..core.enums import Category, Retention
from ..core.errors import ArchiveError
from ..core.web import error_text, perform_step, send_private
from . import services
from .forms import HoldForm, KeepForm, ProposeForm, ReasonForm, ScheduleForm

bp = Blueprint("retention", __name__, url_prefix="/retention")


@bp.app_context_processor
def retention_helpers():
    """The document page asks for its retention panel (expiry, holds, disposal) without its view knowing."""
    return {"retention_state": lambda document: services.retention_state(current_user, document)}


def _first_error(form) -> str:
    return next((f"{field.label.text}: {field.errors[0]}" for field in form if field.errors), "")


def _refused_to(endpoint: str, **values):
    def refused(exc: ArchiveError) -> Response:
        flash(error_text(exc), "error")
        return redirect(url_for(endpoint, **values))

    return refused


@bp.route("/schedule", methods=["GET", "POST"])
@login_required
def schedule():
    form = ScheduleForm()
    if request.method == "POST":
        if not form.validate():
            flash(_first_error(form), "error")
            return redirect(url_for(".schedule"))
        category, retention = Category(form.category.data), Retention(form.retention.data)
        return perform_step(lambda: services.set_schedule(current_user, category, retention),
                            _("The schedule is saved."), done=url_for(".schedule"),
                            refused=_refused_to(".schedule"))
    return render_template("retention/schedule.html", schedule=services.get_schedule(current_user), form=form)


@bp.get("/appraisal")
@login_required
def appraisal():
    year, due = services.appraisal_list(current_user, request.args.get("year", type=int))
    return render_template("retention/appraisal.html", year=year, due=due, keep_form=KeepForm(),
                           propose_form=ProposeForm())


def _chosen() -> list[int]:
    return [int(v) for v in request.form.getlist("document_id") if v.isdigit()]


@bp.post("/appraisal/keep")
@login_required
def keep():
    form = KeepForm()
    if not form.validate():
        flash(_first_error(form), "error")
        return redirect(url_for(".appraisal"))
    return perform_step(lambda: services.keep(current_user, _chosen(), years=form.years, reason=form.reason.data),
                        _("The documents are kept longer."), done=url_for(".appraisal"),
                        refused=_refused_to(".appraisal"))


@bp.post("/disposals/new")
@login_required
def propose():
    form = ProposeForm()
    if not form.validate():
        flash(_first_error(form), "error")
        return redirect(url_for(".appraisal"))
    try:
        disposal = services.propose_disposal(current_user, _chosen(), form.reason.data)
    except ArchiveError as exc:
        flash(error_text(exc), "error")
        return redirect(url_for(".appraisal"))
    flash(_("Disposal %(number)s is proposed; an archive head approves it.", number=disposal.number), "success")
    return redirect(url_for(".disposal", disposal_id=disposal.id))


@bp.get("/disposals")
@login_required
def disposals():
    return render_template("retention/disposals.html", disposals=services.list_disposals(current_user))


@bp.get("/disposals/<int:disposal_id>")
@login_required
def disposal(disposal_id: int):
    return _disposal_page(disposal_id)


def _disposal_page(disposal_id: int, *, error: str | None = None, status: int = 200):
    disposal = services.get_disposal(current_user, disposal_id)
    return render_template("retention/disposal.html", disposal=disposal, error=error,
                           actions=services.actions(current_user, disposal), cancel_form=ReasonForm()), status


def _step(disposal_id: int, action, success: str) -> Response:
    return perform_step(action, success, done=url_for(".disposal", disposal_id=disposal_id),
                        refused=lambda exc: _disposal_page(disposal_id, error=error_text(exc), status=exc.status_code))


@bp.post("/disposals/<int:disposal_id>/approve")
@login_required
def approve(disposal_id: int):
    return _step(disposal_id, lambda: services.approve_disposal(current_user, disposal_id),
                 _("You approved the disposal; two witnesses confirm it next."))


@bp.post("/disposals/<int:disposal_id>/witness")
@login_required
def witness(disposal_id: int):
    return _step(disposal_id, lambda: services.confirm_witness(current_user, disposal_id),
                 _("You confirmed as a witness."))


@bp.post("/disposals/<int:disposal_id>/cancel")
@login_required
def cancel(disposal_id: int):
    form = ReasonForm()
    if not form.validate():
        return _disposal_page(disposal_id, error=_first_error(form), status=400)
    return _step(disposal_id, lambda: services.cancel_disposal(current_user, disposal_id, form.reason.data),
                 _("The disposal is cancelled."))


@bp.get("/disposals/<int:disposal_id>/register.pdf")
@login_required
def register(disposal_id: int):
    to_send = services.open_register(current_user, disposal_id)
    return send_private(to_send.stream, media_type=to_send.media_type, filename=to_send.filename)


@bp.route("/holds", methods=["GET", "POST"])
@login_required
def holds():
    form = HoldForm()
    if request.method == "POST":
        if not form.validate():
            flash(_first_error(form), "error")
            return redirect(url_for(".holds"))
        return perform_step(lambda: services.place_hold(current_user, form.archive_number.data, form.reason.data),
                            _("The document is on hold."), done=url_for(".holds"), refused=_refused_to(".holds"))
    return render_template("retention/holds.html", held=services.held_documents(current_user), form=form,
                           lift_form=ReasonForm())


@bp.post("/holds/<int:hold_id>/lift")
@login_required
def lift(hold_id: int):
    form = ReasonForm()
    if not form.validate():
        flash(_first_error(form), "error")
        return redirect(url_for(".holds"))
    return perform_step(lambda: services.lift_hold(current_user, hold_id, form.reason.data),
                        _("The hold is lifted."), done=url_for(".holds"), refused=_refused_to(".holds"))
