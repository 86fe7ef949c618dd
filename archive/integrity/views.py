"""The integrity page (/integrity): open alerts, recent fixity runs, coverage; acknowledging an alert."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.validators import Length

from ..core.errors import ArchiveError
from ..core.web import error_text
from . import services

bp = Blueprint("integrity", __name__, url_prefix="/integrity")


class AcknowledgeForm(FlaskForm):
    note = TextAreaField(_l("What is done about it"), validators=[Length(max=500)])


@bp.get("/")
@login_required
def overview():
    return _overview_page()


def _overview_page(*, error: str | None = None, status: int = 200):
    page = services.integrity_page(current_user)
    return render_template("integrity/overview.html", page=page, form=AcknowledgeForm(), error=error), status


@bp.post("/alerts/<int:alert_id>/acknowledge")
@login_required
def acknowledge(alert_id: int):
    form = AcknowledgeForm()
    if not form.validate():
        return _overview_page(error=_("The form expired or was too long; send it again."), status=400)
    try:
        services.acknowledge(current_user, alert_id, form.note.data or "")
    except ArchiveError as exc:
        return _overview_page(error=error_text(exc), status=exc.status_code)
    flash(_("Alert acknowledged."), "success")
    return redirect(url_for(".overview"))
