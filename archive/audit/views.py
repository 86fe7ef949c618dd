"""The audit trail viewer, for compliance officers and the archive head (`read_audit`)."""
from __future__ import annotations

import json

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from . import services
from .forms import OUTCOME_LABELS, EventFilterForm

bp = Blueprint("audit", __name__)


def _readable_details(details: str) -> list[tuple[str, str]]:
    """The event's JSON details as key/value pairs, nested values kept as (readable, non-ASCII) JSON."""
    pairs = sorted(json.loads(details or "{}").items())
    return [(key, value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)) for key, value in pairs]


@bp.get("/audit")
@login_required
def events():
    form = EventFilterForm(request.args)
    status = 200
    if form.validate():
        filters = form.to_filter()
    else:
        flash(_("The filters were not applied: correct the marked fields."), "error")
        filters, status = services.EventFilter(), 400
    page = services.list_events(current_user, filters, page=request.args.get("page", 1, type=int))
    rows = [(event, _readable_details(event.details)) for event in page.items]
    query = {name: value for name, value in request.args.items() if name != "page" and value}
    return (
        render_template("audit/events.html", form=form, page=page, rows=rows, query=query,
                        outcome_labels=OUTCOME_LABELS),
        status,
    )


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
