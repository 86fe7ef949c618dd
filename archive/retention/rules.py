"""The rules of retention as SQL and checks: the schedule's minimum, each document's expiry year, legal holds.

Filing and metadata edits (archive/documents/services.py) ask `minimum_retention` and `ensure_may_shorten`;
the appraisal list and disposal ask `expiry_year_clause` and `held_clause`. Expiry and holds are SQL clauses
so that a list of thousands of documents is one query, and one document's page asks the same clause.
"""
from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from ..core.clock import local_today
from ..core.enums import DEFAULT_RETENTION, Category, DossierKind, LinkReason, Retention
from ..core.errors import ValidationError
from ..documents.models import Document
from ..documents.services import retention_years
from ..extensions import db
from ..units.models import Dossier, DossierLink
from .models import LegalHold, RetentionSchedule

PERMANENT_YEARS = retention_years(Retention.PERMANENT)


# The schedule ----------------------------------------------------------------------------------------------

def schedule() -> dict[Category, Retention]:
    """The period of every category: the company's row, else the default of DOMAIN.md."""
    rows = dict(db.session.execute(sa.select(RetentionSchedule.category, RetentionSchedule.retention)).all())
    return {category: rows.get(category, DEFAULT_RETENTION[category]) for category in Category}


def minimum_retention(category: Category) -> Retention:
    """What filing may not go below, and the period a filing without a choice gets."""
    row = db.session.get(RetentionSchedule, category)
    return row.retention if row is not None else DEFAULT_RETENTION[category]


def shorter(new: Retention, old: Retention) -> bool:
    return retention_years(new) < retention_years(old)


# Expiry ----------------------------------------------------------------------------------------------------

def _years(value) -> sa.Case:
    return sa.case({r.value: retention_years(r) for r in Retention}, value=value)


def _greater(a, b) -> sa.Case:
    return sa.case((a >= b, a), else_=b)


def expiry_year_clause() -> sa.ColumnElement[int]:
    """The last year a document is kept: its year plus the longer of its own period and the schedule's for its
    category (counted from the year after the document's), or the year a keep decision set, if later.
    A 2015 document kept 10 years expires at the end of 2025 and is due for appraisal in 2026. A permanent
    document's year lies PERMANENT_YEARS ahead: it never comes due."""
    scheduled = sa.select(RetentionSchedule.retention).where(
        RetentionSchedule.category == Document.category).scalar_subquery()
    default = sa.case({c.value: retention_years(DEFAULT_RETENTION[c]) for c in Category}, value=Document.category)
    period = _greater(_years(Document.retention), sa.func.coalesce(_years(scheduled), default))
    counted = sa.cast(sa.extract("year", Document.doc_date), sa.Integer) + period
    return sa.case((Document.keep_until_year > counted, Document.keep_until_year), else_=counted)


def readable_expiry(document_year: int, expiry_year: int) -> int | None:
    """The expiry year as people read it: None for a permanent document."""
    return None if expiry_year - document_year >= PERMANENT_YEARS else expiry_year


def expiry_years(document_ids: list[int]) -> dict[int, int | None]:
    """document id -> the last year it is kept (None: permanent)."""
    if not document_ids:
        return {}
    rows = db.session.execute(
        sa.select(Document.id, Document.doc_date, expiry_year_clause()).where(Document.id.in_(document_ids)))
    return {doc_id: readable_expiry(doc_date.year, year) for doc_id, doc_date, year in rows}


def due_clause(year: int) -> sa.ColumnElement[bool]:
    """Documents due for appraisal in `year` or earlier: their last year kept is before it."""
    return sa.and_(expiry_year_clause() < year, Document.disposed_at.is_(None))


# Legal holds -----------------------------------------------------------------------------------------------

def _litigation_of(litigation) -> sa.ColumnElement[bool]:
    """`litigation` is an open litigation file that is the document's dossier or cross-referenced with it."""
    linked = sa.exists().where(
        DossierLink.reason == LinkReason.LITIGATION,
        sa.or_(sa.and_(DossierLink.from_dossier_id == Document.dossier_id, DossierLink.to_dossier_id == litigation.id),
               sa.and_(DossierLink.to_dossier_id == Document.dossier_id, DossierLink.from_dossier_id == litigation.id)),
    )
    return sa.and_(litigation.kind == DossierKind.LITIGATION, litigation.closed_on.is_(None),
                   sa.or_(litigation.id == Document.dossier_id, linked))


def held_clause() -> sa.ColumnElement[bool]:
    """Documents under legal hold: a hold an archive head placed, or an open litigation file of their unit."""
    litigation = aliased(Dossier)
    return sa.or_(
        sa.exists().where(LegalHold.document_id == Document.id, LegalHold.lifted_at.is_(None)),
        sa.exists().select_from(litigation).where(_litigation_of(litigation)),
    )


@dataclass(frozen=True)
class Hold:
    """Why a document is held, for the pages and refusals."""

    document_id: int
    manual: LegalHold | None = None
    litigation_number: str | None = None  # the open litigation file's archive number


def holds_of(document_ids: list[int]) -> dict[int, list[Hold]]:
    """document id -> its holds (an empty list: not held), in two queries."""
    holds: dict[int, list[Hold]] = {doc_id: [] for doc_id in document_ids}
    if not document_ids:
        return holds
    for hold in db.session.scalars(sa.select(LegalHold).where(
            LegalHold.document_id.in_(document_ids), LegalHold.lifted_at.is_(None)).order_by(LegalHold.placed_at)):
        holds[hold.document_id].append(Hold(hold.document_id, manual=hold))
    litigation = aliased(Dossier)
    rows = db.session.execute(
        sa.select(Document.id, litigation.archive_number).join(litigation, _litigation_of(litigation))
        .where(Document.id.in_(document_ids)).order_by(litigation.archive_number))
    for doc_id, number in rows:
        holds[doc_id].append(Hold(doc_id, litigation_number=number))
    return holds


def hold_refusal(document: Document, holds: list[Hold], *, shortening: bool = False) -> ValidationError:
    """The refusal naming the document's first hold."""
    first, number = holds[0], document.archive_number
    if first.manual is not None and shortening:
        return ValidationError("%(number)s is under legal hold (%(reason)s): its retention cannot be shortened until "
                               "the hold is lifted.", number=number, reason=first.manual.reason)
    if first.manual is not None:
        return ValidationError("%(number)s is under legal hold (%(reason)s) and cannot be disposed of until the hold "
                               "is lifted.", number=number, reason=first.manual.reason)
    if shortening:
        return ValidationError("%(number)s is under legal hold while litigation file %(file)s is open: its retention "
                               "cannot be shortened.", number=number, file=first.litigation_number)
    return ValidationError("%(number)s is under legal hold while litigation file %(file)s is open and cannot be "
                           "disposed of.", number=number, file=first.litigation_number)


def ensure_may_shorten(document: Document, old: Retention, new: Retention) -> None:
    """A document's retention may be shortened only down to the schedule, and never while it is held."""
    if not shorter(new, old):
        return
    if shorter(new, minimum_retention(document.category)):
        raise ValidationError("The retention period cannot be shorter than the schedule for this category.")
    holds = holds_of([document.id])[document.id]
    if holds:
        raise hold_refusal(document, holds, shortening=True)


def this_year() -> int:
    return local_today().year
