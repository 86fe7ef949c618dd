"""The statistics page, its charts (SVG) and its tables as CSV."""
from __future__ import annotations

from flask import Blueprint, Response, render_template, request
from flask_babel import gettext as _
from flask_babel import to_user_timezone
from flask_login import current_user, login_required

from ..core.forms import PeriodForm
from ..core.types import utcnow
from . import charts, services
from .export import table_csv

bp = Blueprint("statistics", __name__, url_prefix="/statistics")

# pygal styles its SVG with an inline <style>: allowed for the chart alone, which runs no script.
CHART_POLICY = "default-src 'none'; style-src 'unsafe-inline'"


def _period() -> tuple[PeriodForm, services.Period]:
    """The period from the query (default: this year until today), as on the loan statistics page."""
    form = PeriodForm(formdata=request.args)
    form.validate()
    today = to_user_timezone(utcnow()).date()
    start, end = form.start.data or today.replace(month=1, day=1), form.end.data or today
    form.start.data, form.end.data = start, end
    return form, services.Period(start, end)


@bp.get("/")
@login_required
def overview():
    form, period = _period()
    return render_template("statistics/overview.html", form=form, period=period,
                           tables=services.tables(current_user, period))


@bp.get("/<name>.csv")
@login_required
def table_as_csv(name: str):
    _form, period = _period()
    table = services.table(current_user, name, period)
    filename = f"{name}-{period.start:%Y%m%d}-{period.end:%Y%m%d}.csv" if table.period else f"{name}.csv"
    return Response(table_csv(table), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@bp.get("/<name>.svg")
@login_required
def chart(name: str):
    _form, period = _period()
    table = services.table(current_user, name, period)
    drawing = charts.svg(table.chart, str(table.title), _("Nothing to count yet."))
    return Response(drawing, mimetype="image/svg+xml", headers={"Content-Security-Policy": CHART_POLICY,
                                                                "Cache-Control": "private, no-store"})
