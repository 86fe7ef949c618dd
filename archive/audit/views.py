"""The audit trail viewer, for compliance officers and the archive head (`read_audit`)."""
from __future__ import annotations

from datetime import date

from flask import Blueprint, Response, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..core.clock import local_today
from ..core.errors import ValidationError
from ..core.web import error_text
from ..reports.layout import person_name
from . import export, services
from .forms import OUTCOME_LABELS, EventFilterForm

bp = Blueprint("audit", __name__)


def _filter_form() -> EventFilterForm:
    return EventFilterForm(request.args, departments=services.department_choices())


@bp.get("/audit")
@login_required
def events():
    form = _filter_form()
    status, filters = 200, services.EventFilter()
    if form.validate():
        filters = form.to_filter()
    else:
        flash(_("The filters were not applied: correct the marked fields."), "error")
        status = 400
    page_number = request.args.get("page", 1, type=int)
    try:
        page = services.list_events(current_user, filters, page=page_number)
    except ValidationError as exc:
        flash(error_text(exc), "error")
        page, status = services.list_events(current_user, services.EventFilter(), page=page_number), 400
    departments = services.department_labels(page.items)
    rows = [(event, departments[event.seq], services.readable_details(event.details)) for event in page.items]
    query = {name: value for name, value in request.args.items() if name != "page" and value}
    return (
        render_template("audit/events.html", form=form, page=page, rows=rows, query=query,
                        outcome_labels=OUTCOME_LABELS, chain=services.chain_status(),
                        logins=services.known_logins()),
        status,
    )


def _export_filters() -> services.EventFilter:
    form = _filter_form()
    if not form.validate():
        raise ValidationError("The filters were not applied: correct the marked fields.")
    return form.to_filter()


def _stamp() -> str:
    return local_today().strftime("%Y%m%d")


@bp.get("/audit/export.csv")
@login_required
def export_csv():
    trail = services.export_events(current_user, _export_filters(), "csv")
    app = current_app._get_current_object()

    def stream():
        # The rows are sent after the request has ended, so they are read in an app context (and database
        # session) of their own. The header row comes first, before that context: the server may take the
        # first chunk while the request's own context is still being closed.
        yield export.CSV_HEADER
        with app.app_context():
            yield from export.csv_chunks(trail)

    response = Response(stream(), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="audit-{_stamp()}-{trail.up_to}.csv"'
    return response


@bp.get("/audit/export.pdf")
@login_required
def export_pdf():
    trail = services.export_events(current_user, _export_filters(), "pdf")
    pdf = export.trail_pdf(trail, services.chain_status(), person_name(current_user))
    response = Response(pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="audit-{_stamp()}-{trail.up_to}.pdf"'
    return response


@bp.post("/audit/verify")
@login_required
def verify():
    checked, broken = services.check_chain(current_user)
    if broken is None:
        flash(_("The audit trail is intact: %(count)s events checked, none altered or missing.", count=checked),
              "success")
    else:
        flash(_("The audit trail is broken at event %(seq)s (%(reason)s). Report this to the archive head.",
                seq=broken.seq, reason=broken.reason), "error")
    return redirect(url_for("audit.events"))


@bp.get("/audit/daily-hashes")
@login_required
def daily_hashes():
    try:
        before = date.fromisoformat(request.args["before"]) if request.args.get("before") else None
    except ValueError:
        raise ValidationError("Give the day as YYYY-MM-DD.") from None
    days, older = services.read_daily_hashes(current_user, before=before)
    return render_template("audit/daily_hashes.html", days=days, older=older, today=local_today(),
                           chain=services.chain_status())
