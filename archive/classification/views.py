"""Classification pages: the change request from a document, the requests waiting for a decision, one request."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..core.enums import Level, LevelPeriod
from ..core.errors import ArchiveError
from ..core.permissions import policy
from ..core.web import error_text, perform_step
from . import services
from .forms import APPROVE, DecideForm, RequestForm

bp = Blueprint("classification", __name__)


@bp.route("/documents/<int:document_id>/classification", methods=["GET", "POST"])
@login_required
def request_change(document_id: int):
    choices = services.request_choices(current_user, document_id)
    form = RequestForm(choices)
    error = None
    if form.validate_on_submit():
        try:
            change = services.request_change(
                current_user, document_id, new_level=Level(form.new_level.data),
                period=LevelPeriod(form.period.data) if form.period.data else None, until=form.until.data,
                reason=form.reason.data, scope_department_ids=form.scope_department_ids.data or [],
                scope_user_ids=form.scope_user_ids.data or [],
            )
        except ArchiveError as exc:
            error = error_text(exc)
        else:
            flash(_("Classification change %(number)s is sent for approval.", number=change.number), "success")
            return redirect(url_for(".change", change_id=change.id))
    status = 400 if form.is_submitted() else 200
    return render_template("classification/request.html", form=form, doc=choices.document, error=error,
                           pending=services.open_change(current_user, choices.document)), status


@bp.get("/classification/")
@login_required
def inbox():
    policy.require(current_user, "approve_classification")
    return render_template("classification/inbox.html", changes=services.waiting_for(current_user))


@bp.get("/classification/<int:change_id>")
@login_required
def change(change_id: int):
    return _change_page(change_id)


def _change_page(change_id: int, *, error: str | None = None, status: int = 200,
                 decide_form: DecideForm | None = None):
    change = services.get_change(current_user, change_id)
    return render_template(
        "classification/change.html", change=change, error=error,
        steps=services.decidable_steps(current_user, change),
        decide_form=decide_form or DecideForm(formdata=None),
        scope=services.scope_names(change.scope_department_ids, change.scope_user_ids),
    ), status


def _refused(change_id: int, **page):
    return lambda exc: _change_page(change_id, error=error_text(exc), status=exc.status_code, **page)


@bp.post("/classification/<int:change_id>/decide")
@login_required
def decide(change_id: int):
    form = DecideForm()
    step = form.chosen_step()
    if not form.validate() or step is None:
        return _change_page(change_id, decide_form=form, status=400)
    approve = form.decision.data == APPROVE
    message = _("You approved this request.") if approve else _("You rejected this request.")
    return perform_step(
        lambda: services.decide(current_user, change_id, step, approve, form.comment.data or ""), message,
        done=url_for(".change", change_id=change_id), refused=_refused(change_id, decide_form=form),
    )


@bp.post("/classification/<int:change_id>/cancel")
@login_required
def cancel(change_id: int):
    return perform_step(lambda: services.cancel(current_user, change_id), _("The request is cancelled."),
                        done=url_for(".change", change_id=change_id), refused=_refused(change_id))
