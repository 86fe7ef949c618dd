"""The figures of the statistics page (DOMAIN.md, Reports): holdings by project, category and level; handovers on
time by department and month; loans and overdue by department; disposals by year.

Each figure is a Table: the page shows it, draws its chart and exports it as CSV from the same rows, so the three
never disagree. Each counts only what the viewer may see: holdings only documents the viewer may read, the
other figures through the services of the pages they come from.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Callable

import sqlalchemy as sa
from flask_babel import LazyString
from flask_babel import lazy_gettext as _l

from ..core.clock import local_today
from ..core.enums import CATEGORY_LABELS, LEVEL_LABELS, Category
from ..core.errors import NotFound
from ..core.permissions import policy
from ..documents.models import Document
from ..extensions import db
from ..handovers.deadlines import on_time_rates
from ..loans import services as loans
from ..retention.models import Disposal, DisposalItem, DisposalStatus
from ..units.models import Dossier, Project

Cell = str | int | float | None


@dataclass(frozen=True)
class Chart:
    """What to draw: one bar group (or line point) per x label, one series per name."""

    x_labels: list[str]
    series: list[tuple[str, list[float | None]]]
    line: bool = False  # a line over months rather than bars
    percent: bool = False


@dataclass(frozen=True)
class Table:
    name: str  # in the figure's addresses: /statistics/<name>.csv and .svg
    title: LazyString
    columns: list[LazyString]
    rows: list[list[Cell]]
    chart: Chart
    period: bool = False  # counted within the period chosen on the page
    note: LazyString | None = None
    total: list[Cell] | None = None  # the row under the table


@dataclass(frozen=True)
class Period:
    start: date
    end: date


# Holdings: documents the viewer may read, not disposed of ---------------------------------------------------


def _holdings(identity):
    return (Document.disposed_at.is_(None), policy.where(identity, "read", Document))


def holdings_by_project(identity, period: Period) -> Table:
    rows = db.session.execute(
        sa.select(Project.code, Project.name, sa.func.count(Document.id))
        .join(Dossier, Document.dossier_id == Dossier.id).join(Project, Dossier.project_id == Project.id)
        .where(*_holdings(identity)).group_by(Project.id, Project.code, Project.name).order_by(Project.code)
    ).all()
    return Table(
        "holdings-project", _l("Holdings by project"), [_l("Project code"), _l("Project"), _l("Documents")],
        [[code, name, count] for code, name, count in rows],
        Chart([name for _code, name, _count in rows], [(str(_l("Documents")), [count for *_, count in rows])]),
        total=["", str(_l("Total")), sum(count for *_, count in rows)],
    )


def holdings_by_category(identity, period: Period) -> Table:
    counts = dict(db.session.execute(
        sa.select(Document.category, sa.func.count(Document.id)).where(*_holdings(identity))
        .group_by(Document.category)
    ).all())
    present = [category for category in Category if counts.get(category)]  # in the order of DOMAIN.md
    return Table(
        "holdings-category", _l("Holdings by category"), [_l("Code"), _l("Category"), _l("Documents")],
        [[c.value, str(CATEGORY_LABELS[c]), counts[c]] for c in present],
        Chart([str(CATEGORY_LABELS[c]) for c in present], [(str(_l("Documents")), [counts[c] for c in present])]),
        total=["", str(_l("Total")), sum(counts.values())],
    )


def holdings_by_level(identity, period: Period) -> Table:
    counts = dict(db.session.execute(
        sa.select(Document.level, sa.func.count(Document.id)).where(*_holdings(identity)).group_by(Document.level)
    ).all())
    # Every level the viewer is cleared for is listed, with 0 where there is none; higher levels not at all.
    levels = identity.clearance.covered()
    return Table(
        "holdings-level", _l("Holdings by classification level"), [_l("Code"), _l("Classification level"),
                                                                   _l("Documents")],
        [[lvl.value, str(LEVEL_LABELS[lvl]), counts.get(lvl, 0)] for lvl in levels],
        Chart([str(LEVEL_LABELS[lvl]) for lvl in levels], [(str(_l("Documents")), [counts.get(lvl, 0)
                                                                                    for lvl in levels])]),
        total=["", str(_l("Total")), sum(counts.values())],
    )


# Handovers, loans, disposals: through the services of their own pages ---------------------------------------


def handovers_on_time(identity, period: Period) -> Table:
    rates = on_time_rates(identity, start=period.start, end=period.end)
    months = sorted({r.month for r in rates})
    by_department: dict[str, dict[date, float | None]] = defaultdict(dict)
    for r in rates:
        by_department[r.department.name][r.month] = round(r.rate * 100, 1) if r.rate is not None else None
    return Table(
        "handovers", _l("Handovers on time by department and month"),
        [_l("Department"), _l("Month"), _l("Fell due"), _l("On time"), _l("On-time rate (%)")],
        [[r.department.name, r.month.strftime("%Y-%m"), r.fell_due, r.on_time,
          round(r.rate * 100, 1) if r.rate is not None else None] for r in rates],
        Chart([m.strftime("%Y-%m") for m in months],
              [(name, [values.get(m) for m in months]) for name, values in by_department.items()],
              line=True, percent=True),
        period=True,
        note=_l("A document counts in the month it fell due; on time when its batch was sent by then."),
    )


def loans_by_department(identity, period: Period) -> Table:
    figures = loans.statistics(identity, period.start, period.end)
    merged: dict[str, list[int]] = {}
    for row in figures.rows:  # per department and level: added up per department
        counts = merged.setdefault(row.department.name, [0, 0, 0, 0])
        for i, value in enumerate((row.requested, row.approved, row.rejected, row.overdue)):
            counts[i] += value
    total = figures.total
    return Table(
        "loans", _l("Loans and overdue by department"),
        [_l("Department"), _l("Requested"), _l("Approved"), _l("Rejected"), _l("Overdue")],
        [[name, *counts] for name, counts in merged.items()],
        Chart(list(merged), [(str(_l("Requested")), [c[0] for c in merged.values()]),
                             (str(_l("Overdue")), [c[3] for c in merged.values()])]),
        period=True,
        note=_l("Requests submitted in the period, by the borrower's department; overdue: went overdue at some "
                "time. Out and overdue now: %(overdue)s.", overdue=figures.overdue_now),
        total=[str(_l("Total")), total.requested, total.approved, total.rejected, total.overdue],
    )


def disposals_by_year(identity, period: Period) -> Table:
    completed = db.session.execute(
        sa.select(Disposal.completed_at, sa.func.count(DisposalItem.id))
        .join(DisposalItem, DisposalItem.disposal_id == Disposal.id)
        .where(Disposal.status == DisposalStatus.COMPLETED, policy.where(identity, "read", Disposal))
        .group_by(Disposal.id, Disposal.completed_at)
    ).all()
    by_year: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for completed_at, documents in completed:
        year = local_today(completed_at).year
        by_year[year][0] += 1
        by_year[year][1] += documents
    years = sorted(by_year)
    return Table(
        "disposals", _l("Disposals by year"), [_l("Year"), _l("Disposals"), _l("Documents destroyed")],
        [[year, *by_year[year]] for year in years],
        Chart([str(year) for year in years], [(str(_l("Documents destroyed")), [by_year[y][1] for y in years])]),
        total=[str(_l("Total")), sum(v[0] for v in by_year.values()), sum(v[1] for v in by_year.values())],
    )


# The figures in page order, each with the permission it needs besides the page's own ----------------------

FIGURES: dict[str, tuple[str, Callable[..., Table]]] = {
    "holdings-project": ("statistics", holdings_by_project),
    "holdings-category": ("statistics", holdings_by_category),
    "holdings-level": ("statistics", holdings_by_level),
    "handovers": ("handover_deadlines", handovers_on_time),
    "loans": ("loan_statistics", loans_by_department),
    "disposals": ("view_retention", disposals_by_year),
}


def tables(identity, period: Period) -> list[Table]:
    """Every figure the identity may see."""
    policy.require(identity, "statistics")
    return [build(identity, period) for permission, build in FIGURES.values() if policy.can(identity, permission)]


def table(identity, name: str, period: Period) -> Table:
    """One figure, for its CSV and its chart; one the identity may not see is refused like the page."""
    if name not in FIGURES:
        raise NotFound("Not found.")
    permission, build = FIGURES[name]
    policy.require(identity, "statistics")
    policy.require(identity, permission)
    return build(identity, period)
