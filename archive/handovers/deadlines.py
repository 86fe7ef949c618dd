"""When documents must be handed over, what is due or overdue per department, and how often it was on time.

Deadlines are counted in Chinese working days (archive/core/workdays.py): a year the installed calendar does not
cover raises CalendarNotCovered instead of a guessed date.
"""
from __future__ import annotations

import calendar
from collections import defaultdict
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from ..auth.models import Department
from ..core.clock import local_today
from ..core.enums import Category
from ..core.errors import AccessDenied, ValidationError
from ..core.permissions import policy
from ..core.uow import unit_of_work
from ..core.workdays import add_workdays, is_workday, workdays_between
from ..documents.models import Document
from ..extensions import db
from .models import Handover, HandoverItem, HandoverRule, HandoverStatus, ItemCheck, Schedule

DUE_SOON_WORKDAYS = 3
OPEN_STATUSES = (HandoverStatus.DRAFT, HandoverStatus.SIGNED_OFF, HandoverStatus.SENT, HandoverStatus.CHECKED)

# DOMAIN.md, the table of categories: (category, from, to, schedule, working days).
DEFAULT_RULES = (
    (Category.XS, "SALES", "CA", Schedule.WORKDAYS_AFTER_DOCUMENT, 5),
    (Category.QY, "CA", "GMO", Schedule.AFTER_MOVE_IN_THEN_QUARTERLY, None),
    (Category.BZ, "CA", "GMO", Schedule.AFTER_MOVE_IN_THEN_QUARTERLY, None),
    (Category.RH, "CA", "GMO", Schedule.AFTER_MOVE_IN_THEN_QUARTERLY, None),
    (Category.WX, "CSC", "GMO", Schedule.HALF_YEARLY, None),
    (Category.PF, "CSC", "GMO", Schedule.HALF_YEARLY, None),
    (Category.SS, "LEGAL", "GMO", Schedule.WORKDAYS_AFTER_CASE_CLOSED, 10),
    (Category.ZL, "COM", "GMO", Schedule.QUARTERLY, None),
)


def ensure_default_rules() -> None:
    """Add the default rules that are missing (by category and handing department); edited ones are kept."""
    with unit_of_work():
        departments = {d.code: d.id for d in db.session.scalars(sa.select(Department))}
        existing = set(db.session.execute(sa.select(HandoverRule.category, HandoverRule.from_department_id)))
        for category, from_code, to_code, schedule, workdays in DEFAULT_RULES:
            if from_code not in departments or to_code not in departments:
                continue
            if (category, departments[from_code]) not in existing:
                db.session.add(HandoverRule(
                    category=category, from_department_id=departments[from_code],
                    to_department_id=departments[to_code], schedule=schedule, workdays=workdays,
                ))


# Due dates ---------------------------------------------------------------------------------------------


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _quarter_end(d: date) -> date:
    return _month_end(d.year, (d.month - 1) // 3 * 3 + 3)


def _half_year_end(d: date) -> date:
    return date(d.year, 6, 30) if d.month <= 6 else date(d.year, 12, 31)


def _one_month_after(d: date) -> date:
    year, month = (d.year + 1, 1) if d.month == 12 else (d.year, d.month + 1)
    return date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


def _on_a_workday(d: date) -> date:
    """A calendar deadline on a weekend or holiday moves to the next working day."""
    return d if is_workday(d) else add_workdays(d, 1)


def due_date(document: Document, rule: HandoverRule) -> date | None:
    """The day the document must be handed over by under the rule; None while its clock has not started
    (the project's collective move-in or the case's closing not yet recorded)."""
    schedule = rule.schedule
    if schedule is Schedule.WORKDAYS_AFTER_DOCUMENT:
        return add_workdays(document.doc_date, rule.workdays or 5)
    if schedule is Schedule.WORKDAYS_AFTER_CASE_CLOSED:
        closed_on = document.dossier.closed_on
        return add_workdays(closed_on, rule.workdays or 10) if closed_on else None
    if schedule is Schedule.AFTER_MOVE_IN_THEN_QUARTERLY:
        move_in = document.dossier.project.move_in_date
        if move_in is None:
            return None
        first = _one_month_after(move_in)
        # Papers that exist by the first deadline go then; later ones by the end of their quarter.
        return _on_a_workday(first if document.doc_date <= first else _quarter_end(document.doc_date))
    if schedule is Schedule.HALF_YEARLY:
        return _on_a_workday(_half_year_end(document.doc_date))
    if schedule is Schedule.QUARTERLY:
        return _on_a_workday(_quarter_end(document.doc_date))
    raise ValueError(f"unknown schedule {schedule}")


def rule_for(document: Document) -> HandoverRule | None:
    """The active rule the document's department hands its category over by, if any."""
    return db.session.scalars(
        sa.select(HandoverRule).where(HandoverRule.category == document.category,
                                      HandoverRule.from_department_id == document.department_id,
                                      HandoverRule.active.is_(True))
    ).first()


def handed_over_from(department_id: int):
    """SQL: the document was accepted in a completed handover from this department."""
    return sa.exists().where(
        HandoverItem.document_id == Document.id,
        HandoverItem.check == ItemCheck.ACCEPTED,
        HandoverItem.handover_id == Handover.id,
        Handover.status == HandoverStatus.COMPLETED,
        Handover.from_department_id == department_id,
    )


# What each department has due ------------------------------------------------------------------------


@dataclass(frozen=True)
class DueDocument:
    document: Document
    rule: HandoverRule
    due: date | None  # None: the clock has not started (move-in or case closing not recorded)
    workdays_left: int | None  # working days from today to the due date; negative once overdue
    open_handover: Handover | None  # a batch it is already on, not yet completed


@dataclass(frozen=True)
class DepartmentDeadlines:
    department: Department
    overdue: list[DueDocument]  # due before today
    due_soon: list[DueDocument]  # due today or within the next DUE_SOON_WORKDAYS working days
    due_later: list[DueDocument]
    waiting: list[DueDocument]  # no due date yet


def _visible_departments(identity, department_id: int | None) -> list[Department]:
    """The department asked for, or all (the archive and compliance) / one's own (everyone else)."""
    policy.require(identity, "handover_deadlines")
    sees_all = policy.can(identity, "all_handover_deadlines")
    if department_id is not None:
        if department_id != identity.department_id and not sees_all:
            raise AccessDenied("handover_deadlines")
        department = db.session.get(Department, department_id)
        if department is None:
            raise ValidationError("No such department.")
        return [department]
    if not sees_all:
        return [db.session.get(Department, identity.department_id)]
    return list(db.session.scalars(sa.select(Department).order_by(Department.id)))


def _active_rules(department_ids: list[int]) -> list[HandoverRule]:
    return list(db.session.scalars(
        sa.select(HandoverRule).where(HandoverRule.active.is_(True),
                                      HandoverRule.from_department_id.in_(department_ids))
        .order_by(HandoverRule.from_department_id, HandoverRule.category)
    ))


def _open_handovers(document_ids: list[int]) -> dict[int, Handover]:
    rows = db.session.execute(
        sa.select(HandoverItem.document_id, Handover).join(Handover, HandoverItem.handover_id == Handover.id)
        .where(HandoverItem.document_id.in_(document_ids), Handover.status.in_(OPEN_STATUSES),
               HandoverItem.check != ItemCheck.RETURNED)
    )
    return {document_id: handover for document_id, handover in rows}


def deadlines(identity, department_id: int | None = None, *, today: date | None = None) -> list[DepartmentDeadlines]:
    """Per department, its documents not yet handed over under its rules, by due date. Only documents the
    identity may read are listed."""
    today = today or local_today()
    soon = add_workdays(today, DUE_SOON_WORKDAYS)
    readable = policy.where(identity, "read", Document)
    result = []
    for department in _visible_departments(identity, department_id):
        rules = _active_rules([department.id])
        if not rules:
            continue
        pending = []
        for rule in rules:
            documents = db.session.scalars(
                sa.select(Document).where(
                    Document.department_id == department.id, Document.category == rule.category, readable,
                    ~handed_over_from(department.id),
                ).order_by(Document.archive_number)
            ).unique()
            pending += [(document, rule, due_date(document, rule)) for document in documents]
        in_batches = _open_handovers([document.id for document, _, _ in pending])
        groups: dict[str, list[DueDocument]] = defaultdict(list)
        for document, rule, due in sorted(pending, key=lambda p: (p[2] is None, p[2] or today,
                                                                  p[0].archive_number)):
            left = workdays_between(today, due) if due else None
            group = ("waiting" if due is None else "overdue" if due < today else "due_soon" if due <= soon
                     else "due_later")
            groups[group].append(DueDocument(document, rule, due, left, in_batches.get(document.id)))
        result.append(DepartmentDeadlines(department, groups["overdue"], groups["due_soon"], groups["due_later"],
                                          groups["waiting"]))
    return result


# On-time rates ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OnTimeRate:
    department: Department
    month: date  # the first day of the month the documents fell due in
    fell_due: int  # documents due that month, handed over or already past due
    on_time: int  # of them, sent in the batch that handed them over no later than the due date

    @property
    def rate(self) -> float | None:
        return round(self.on_time / self.fell_due, 3) if self.fell_due else None


def on_time_rates(identity, *, start: date, end: date, department_id: int | None = None,
                  today: date | None = None) -> list[OnTimeRate]:
    """Per handing department and month (start to end, by due date): handed over by the due date / fell due.

    A document counts in the month its due date falls in once that day has passed or it was handed over;
    it was on time when the batch that handed it over was sent by then. Documents above the identity's
    clearance are not counted.
    """
    if end < start:
        raise ValidationError("The period ends before it starts.")
    today = today or local_today()
    departments = _visible_departments(identity, department_id)
    covered = [lvl.value for lvl in identity.clearance.covered()]
    first_month, last_month = start.replace(day=1), end.replace(day=1)
    counts: dict[tuple[int, date], list[int]] = {}
    for rule in _active_rules([d.id for d in departments]):
        sent = (
            sa.select(Handover.sent_at)
            .join(HandoverItem, HandoverItem.handover_id == Handover.id)
            .where(HandoverItem.document_id == Document.id, HandoverItem.check == ItemCheck.ACCEPTED,
                   Handover.status == HandoverStatus.COMPLETED,
                   Handover.from_department_id == rule.from_department_id)
            .order_by(Handover.sent_at).limit(1).scalar_subquery()
        )
        rows = db.session.execute(
            sa.select(Document, sent.label("sent_at")).where(
                Document.category == rule.category, Document.level.in_(covered),
                sa.or_(Document.department_id == rule.from_department_id, handed_over_from(rule.from_department_id)),
            )
        ).unique()
        for document, sent_at in rows:
            due = due_date(document, rule)
            if due is None or not (first_month <= due.replace(day=1) <= last_month):
                continue
            if sent_at is None and due >= today:
                continue  # not handed over and not yet late: it has not fallen due
            tally = counts.setdefault((rule.from_department_id, due.replace(day=1)), [0, 0])
            tally[0] += 1
            tally[1] += sent_at is not None and local_today(sent_at) <= due
    by_id = {d.id: d for d in departments}
    return [OnTimeRate(by_id[dept_id], month, fell_due, on_time)
            for (dept_id, month), (fell_due, on_time) in sorted(counts.items(), key=lambda kv: (
                by_id[kv[0][0]].code, kv[0][1]))]

