"""Handover pages: batches and their steps, the receipt and its verification, deadlines and on-time rates."""
from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _, to_user_timezone
from flask_login import current_user, login_required

from ..core.errors import ValidationError
from ..core.forms import PeriodForm
from ..core.types import utcnow
from ..core.web import error_text, perform_step, send_private
from ..units import services as units
from . import deadlines, services
from .forms import CheckForm, LineForm, NewBatchForm, VerifyForm
from .models import HandoverStatus
from .receipt import parse_qr_payload

bp = Blueprint("handovers", __name__, url_prefix="/handovers")


@bp.get("/")
@login_required
def batches():
    status = request.args.get("status") or None
    if status not in {s.value for s in HandoverStatus}:
        status = None
    form = NewBatchForm(rules=services.assembly_rules(current_user))
    return render_template("handovers/list.html", handovers=services.list_handovers(current_user, status=status),
                           form=form, status=status, statuses=list(HandoverStatus))


@bp.post("/new")
@login_required
def new_batch():
    form = NewBatchForm(rules=services.assembly_rules(current_user))
    if not form.validate():
        flash(_("Choose the rule the batch fulfils."), "error")
        return redirect(url_for(".batches"))
    try:
        handover = services.create_batch(current_user, int(form.rule.data), form.note.data or "")
    except ValidationError as exc:
        flash(error_text(exc), "error")
        return redirect(url_for(".batches"))
    return redirect(url_for(".batch", handover_id=handover.id))


@bp.get("/<int:handover_id>")
@login_required
def batch(handover_id: int):
    return _batch_page(handover_id)


def _batch_page(handover_id: int, *, error: str | None = None, status: int = 200):
    handover = services.get_handover(current_user, handover_id)
    actions = services.actions(current_user, handover)
    project_id = request.args.get("project", type=int)
    candidates = services.candidates(current_user, handover.id, project_id) if "edit" in actions else []
    return render_template(
        "handovers/batch.html", handover=handover, actions=actions, candidates=candidates, error=error,
        projects=units.list_projects(current_user) if "edit" in actions else [], project_id=project_id,
        line_forms={item.id: _line_form(item) for item in handover.items} if "edit" in actions else {},
        check_forms={item.id: _check_form(item) for item in handover.items} if "check" in actions else {},
    ), status


def _line_form(item) -> LineForm:
    return LineForm(prefix=f"line-{item.id}", formdata=None, data={
        "carrier": item.carrier.value, "item_count": item.item_count, "pages": item.pages,
        "is_original": item.is_original, "condition": item.condition, "remarks": item.remarks,
    })


def _check_form(item) -> CheckForm:
    return CheckForm(prefix=f"check-{item.id}", formdata=None,
                     data={"counted_items": item.item_count, "counted_pages": item.pages})


def _step(handover_id: int, action, success: str) -> Response:
    return perform_step(action, success, done=url_for(".batch", handover_id=handover_id),
                        refused=lambda exc: _batch_page(handover_id, error=error_text(exc), status=exc.status_code))


@bp.post("/<int:handover_id>/documents")
@login_required
def add_documents(handover_id: int):
    ids = [int(v) for v in request.form.getlist("document_id") if v.isdigit()]
    return _step(handover_id, lambda: services.add_documents(current_user, handover_id, ids),
                 _("The documents are on the list."))


@bp.post("/<int:handover_id>/by-rule")
@login_required
def add_by_rule(handover_id: int):
    project_id = request.form.get("project", type=int)
    if project_id is None:
        return _batch_page(handover_id, error=_("Choose a project."), status=400)
    return _step(handover_id, lambda: services.add_by_rule(current_user, handover_id, project_id),
                 _("Every document of the project still waiting is on the list."))


@bp.post("/<int:handover_id>/items/<int:item_id>")
@login_required
def update_item(handover_id: int, item_id: int):
    form = LineForm(prefix=f"line-{item_id}")
    if not form.validate():
        return _batch_page(handover_id, error=form.first_error(), status=400)
    return _step(handover_id, lambda: services.update_item(current_user, item_id, **form.changes()),
                 _("The line is saved."))


@bp.post("/<int:handover_id>/items/<int:item_id>/remove")
@login_required
def remove_item(handover_id: int, item_id: int):
    return _step(handover_id, lambda: services.remove_item(current_user, item_id), _("The line is removed."))


@bp.post("/<int:handover_id>/items/<int:item_id>/check")
@login_required
def check_item(handover_id: int, item_id: int):
    form = CheckForm(prefix=f"check-{item_id}")
    if not form.validate():
        return _batch_page(handover_id, error=form.first_error(), status=400)
    return _step(handover_id, lambda: services.check_item(
        current_user, item_id, counted_items=form.counted_items.data, counted_pages=form.counted_pages.data,
        reason=form.reason.data or "",
    ), _("The item is checked."))


@bp.post("/<int:handover_id>/sign-off")
@login_required
def sign_off(handover_id: int):
    return _step(handover_id, lambda: services.sign_off(current_user, handover_id), _("The batch is signed off."))


@bp.post("/<int:handover_id>/send")
@login_required
def send(handover_id: int):
    return _step(handover_id, lambda: services.send(current_user, handover_id), _("The batch is sent."))


@bp.post("/<int:handover_id>/cancel")
@login_required
def cancel(handover_id: int):
    return _step(handover_id, lambda: services.cancel(current_user, handover_id, request.form.get("reason", "")),
                 _("The batch is cancelled."))


@bp.post("/<int:handover_id>/confirm-receipt")
@login_required
def confirm_receipt(handover_id: int):
    return _step(handover_id, lambda: services.confirm_receipt(current_user, handover_id),
                 _("You confirmed the receipt."))


@bp.post("/<int:handover_id>/witness")
@login_required
def witness(handover_id: int):
    return _step(handover_id, lambda: services.witness_confirm(current_user, handover_id),
                 _("You confirmed as witness."))


@bp.post("/<int:handover_id>/confirm-sending")
@login_required
def confirm_sending(handover_id: int):
    return _step(handover_id, lambda: services.confirm_sending(current_user, handover_id),
                 _("You confirmed the handover."))


@bp.get("/<int:handover_id>/receipt.pdf")
@login_required
def receipt(handover_id: int):
    to_send = services.open_receipt(current_user, handover_id)
    return send_private(to_send.stream, media_type=to_send.media_type, filename=to_send.filename)


@bp.route("/verify", methods=["GET", "POST"])
@login_required
def verify():
    """Does a printed receipt's code match the receipt the archive filed?"""
    form = VerifyForm()
    result = None
    if form.validate_on_submit():
        try:
            number, sha256 = parse_qr_payload(form.code.data)
        except ValidationError as exc:
            form.code.errors = [error_text(exc)]
        else:
            result = (number, services.verify_receipt(current_user, number, sha256))
    status = 400 if form.is_submitted() and result is None else 200
    return render_template("handovers/verify.html", form=form, result=result), status


@bp.get("/deadlines")
@login_required
def due():
    today = to_user_timezone(utcnow()).date()
    form = PeriodForm(formdata=request.args)
    form.validate()
    start = form.start.data or today.replace(month=1, day=1)
    end = form.end.data or today
    form.start.data, form.end.data = start, end
    return render_template(
        "handovers/deadlines.html", departments=deadlines.deadlines(current_user), form=form,
        rates=deadlines.on_time_rates(current_user, start=start, end=end),
    )
