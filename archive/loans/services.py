"""Borrowing (借阅): the basket, the request's state machine, its approval chain, issue and return, the sweep.

Every transition locks the loan row first and reads its state again under the lock, so two people acting at
the same moment get one consistent outcome: the second is told what happened instead of undoing it.
"""
from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Iterable

import sqlalchemy as sa
from flask_babel import LazyString

from ..audit import services as audit
from ..auth.models import Department, User, UserRole
from ..core.clock import archive_zone, local_today
from ..core.enums import LEVEL_LABELS, REGISTER_ROLES, Level, Role
from ..core.errors import AccessDenied, Conflict, NotFound, ValidationError
from ..core.keys import keyring
from ..core.permissions import policy
from ..core.types import utcnow
from ..core.uow import locked, unit_of_work
from ..core.workdays import nth_workday
from ..documents.models import Document
from ..documents.numbering import next_in_sequence
from ..documents.services import CATEGORY_ORDER, Upload, check_uploads, store_file
from ..extensions import db
from ..notifications.services import notify
from ..retention.guards import ensure_not_disposed
from ..units.models import Dossier
from ..units.services import mask, normalise_id_number
from .models import (
    LOAN_STATUS_LABELS,
    OPEN_STATUSES,
    AgencyKind,
    Consultation,
    Decision,
    ItemState,
    Loan,
    LoanItem,
    LoanStatus,
    LoanStep,
    LoanUse,
    StepKind,
    StepReason,
)
from .sealed import OFFICER_IDS_CONTEXT

MAX_DAYS = 14  # C and B: at most two weeks, calendar days, first and last day included
A_LEVEL_WORKDAYS = 5  # A: at most five Chinese working days
ELECTRONIC_USES = (LoanUse.VIEW, LoanUse.COPY)
PAPER_USES = (LoanUse.READING_ROOM, LoanUse.TAKE_OUT)
# Who may decide each kind of step (besides being active, cleared for the loan's level and not the borrower).
STEP_ROLES = {
    StepKind.ARCHIVE: REGISTER_ROLES,
    StepKind.DEPARTMENT_HEAD: frozenset({Role.DEPT_HEAD}),
    StepKind.ARCHIVE_HEAD: frozenset({Role.ARCHIVE_HEAD}),
}


def N_(message: str) -> str:
    """Marks a message stored untranslated (a notification) for extraction; it is translated when shown."""
    return message


# Time: loan periods are calendar days in the archive's time zone --------------------------------------


def _local_midnight(day: date) -> datetime:
    return datetime.combine(day, time(), archive_zone()).astimezone(timezone.utc)


def access_window(start_date: date, due_date: date) -> tuple[datetime, datetime]:
    """From the midnight starting the first day to the midnight ending the last one, in UTC."""
    return _local_midnight(start_date), _local_midnight(due_date + timedelta(days=1))


def latest_due_date(level: Level, start_date: date) -> date:
    """The last day a loan starting on start_date may run: 14 days, or 5 working days for A-level."""
    if level is Level.A:
        return nth_workday(start_date, A_LEVEL_WORKDAYS)
    return start_date + timedelta(days=MAX_DAYS - 1)


def _check_period(level: Level, start_date: date, due_date: date, today: date) -> None:
    if start_date < today:
        raise ValidationError("A loan cannot start in the past.")
    if due_date < start_date:
        raise ValidationError("The last day of the loan cannot be before its first day.")
    latest = latest_due_date(level, start_date)
    if due_date > latest:
        if level is Level.A:
            raise ValidationError(
                "A request with A-level documents may run at most %(days)s working days: until %(date)s at the "
                "latest.", days=A_LEVEL_WORKDAYS, date=latest.isoformat())
        raise ValidationError("A loan may run at most %(days)s days: until %(date)s at the latest.",
                              days=MAX_DAYS, date=latest.isoformat())


# Locking and reading ----------------------------------------------------------------------------------


def _require_visible(identity, loan: Loan) -> None:
    """A loan the identity may not see answers like a missing one (the refusal is a 404, and audited)."""
    policy.require(identity, "read", loan)


# A request can be withdrawn until it is issued; an issued loan is out until returned, overdue or not.
WITHDRAWABLE = (LoanStatus.SUBMITTED, LoanStatus.APPROVED)
OUT = (LoanStatus.ISSUED, LoanStatus.OVERDUE)


def actions(identity, loan: Loan) -> frozenset[str]:
    """The transitions the identity may take on the loan now, as the transitions below decide them: for the
    page's buttons. Names: cancel, issue, check_return, end_access, renew."""
    can = lambda action: policy.can(identity, action, loan)  # noqa: E731
    allowed = set()
    if loan.status in WITHDRAWABLE and can("cancel"):
        allowed.add("cancel")
    if loan.use.is_paper and loan.status is LoanStatus.APPROVED and can("issue"):
        allowed.add("issue")
    if loan.use.is_paper and _items_out(loan) and can("check_return"):
        allowed.add("check_return")
    if not loan.use.is_paper and loan.status is LoanStatus.ISSUED and can("end_access"):
        allowed.add("end_access")
    if loan.status in OUT and can("renew"):
        allowed.add("renew")
    return frozenset(allowed)


def _items_out(loan: Loan) -> bool:
    """Paper items are out until checked back, also when a classification change suspended their loan."""
    return loan.status in OUT or (loan.status is LoanStatus.SUSPENDED and loan.issued_at is not None)


def _require_status(loan: Loan, *allowed: LoanStatus) -> None:
    if loan.status not in allowed:
        raise Conflict("This loan was already %(status)s.", status=LOAN_STATUS_LABELS[loan.status])


def get_loan(identity, loan_id: int) -> Loan:
    return policy.fetch(identity, "read", Loan, loan_id)


def my_loans(identity) -> list[Loan]:
    """The identity's requests and loans, newest first; the basket is not one of them."""
    return list(db.session.scalars(
        sa.select(Loan).where(Loan.borrower_id == identity.id, Loan.submitted_at.is_not(None))
        .order_by(Loan.submitted_at.desc(), Loan.id.desc())
    ))


# The basket: the borrower's draft -----------------------------------------------------------------------


def basket(identity) -> Loan | None:
    return db.session.scalars(
        sa.select(Loan).where(Loan.borrower_id == identity.id, Loan.status == LoanStatus.DRAFT)
        .order_by(Loan.id).limit(1)
    ).first()


def _draft_for(identity) -> Loan:
    """The borrower's draft, locked; created when there is none (one per borrower)."""
    policy.require(identity, "borrow")
    # Locking the borrower's row serialises two first additions that would each create a draft.
    db.session.execute(sa.select(User.id).where(User.id == identity.id).with_for_update())
    draft = basket(identity)
    if draft is not None:
        return locked(Loan, draft.id)
    draft = Loan(borrower_id=identity.id, department_id=identity.department_id, status=LoanStatus.DRAFT,
                 start_date=local_today(), due_date=local_today())
    db.session.add(draft)
    db.session.flush()
    return draft


def _requestable(identity, document: Document) -> None:
    """Asking for a document above one's clearance is refused at once, with the reason: a loan never lifts it."""
    if not policy.can(identity, "borrow"):
        raise AccessDenied("request", document)
    ensure_not_disposed(document)
    if not policy.can(identity, "request", document):
        raise ValidationError(
            "Your clearance does not reach level %(level)s, so %(number)s cannot be requested: a loan grants "
            "the need to know, never a clearance.", level=LEVEL_LABELS[document.level],
            number=document.archive_number)


def add_documents(identity, document_ids: list[int]) -> Loan:
    if not document_ids:
        raise ValidationError("Choose at least one document.")
    documents = []
    for document_id in dict.fromkeys(document_ids):
        document = db.session.get(Document, document_id)
        if document is None:
            raise NotFound("Not found.")
        _requestable(identity, document)
        documents.append(document)
    with unit_of_work():
        draft = _draft_for(identity)
        _add_items(draft, documents)
    return draft


def add_dossier(identity, dossier_id: int) -> Loan:
    """Adds the dossier's documents within the borrower's clearance; the others stay out, unmentioned."""
    policy.require(identity, "borrow")
    documents = requestable_documents(identity, dossier_id)
    if not documents:
        raise ValidationError("This dossier holds no document you may request.")
    with unit_of_work():
        draft = _draft_for(identity)
        _add_items(draft, documents, via_dossier_id=dossier_id)
    return draft


def _add_items(draft: Loan, documents: Iterable[Document], via_dossier_id: int | None = None) -> None:
    present = {item.document_id for item in draft.items}
    for document in documents:
        if document.id not in present:
            draft.items.append(LoanItem(document_id=document.id, via_dossier_id=via_dossier_id))
            present.add(document.id)
    db.session.flush()


def remove_item(identity, item_id: int) -> Loan:
    with unit_of_work():
        item = db.session.get(LoanItem, item_id)
        if item is None:
            raise NotFound("Not found.")
        draft = locked(Loan, item.loan_id)
        if draft.borrower_id != identity.id or draft.status is not LoanStatus.DRAFT:
            raise AccessDenied("remove_item", draft)
        draft.items = [i for i in draft.items if i.id != item_id]
    return draft


def requestable_documents(identity, dossier_id: int) -> list[Document]:
    """A dossier's catalogue this identity may ask to borrow: every document within its clearance."""
    dossier = policy.fetch(identity, "read", Dossier, dossier_id)
    return list(db.session.scalars(
        sa.select(Document)
        .where(Document.dossier_id == dossier.id, policy.where(identity, "request", Document),
               Document.disposed_at.is_(None))
        .order_by(CATEGORY_ORDER, Document.doc_date.desc(), Document.seq.desc())
    ))


# The approval chain ------------------------------------------------------------------------------------


def highest_level(documents: Iterable[Document]) -> Level:
    return max((d.level for d in documents), key=lambda lvl: lvl.rank)


def _chain(borrower_department_id: int, documents: list[Document]) -> list[LoanStep]:
    """The archive always; each owning department's head when it is not the borrower's own, or for B and A;
    the archive head for A (DOMAIN.md, Borrowing)."""
    level = highest_level(documents)
    steps = [LoanStep(kind=StepKind.ARCHIVE, reason=StepReason.EVERY_LOAN)]
    for department_id in sorted({d.department_id for d in documents}):
        if department_id != borrower_department_id:
            reason = StepReason.CROSS_DEPARTMENT
        elif level.rank >= Level.B.rank:
            reason = StepReason.LEVEL_B
        else:
            continue
        steps.append(LoanStep(kind=StepKind.DEPARTMENT_HEAD, department_id=department_id, reason=reason,
                              department=db.session.get(Department, department_id)))
    if level is Level.A:
        steps.append(LoanStep(kind=StepKind.ARCHIVE_HEAD, reason=StepReason.LEVEL_A))
    return steps


def _step_name(step: LoanStep) -> LazyString:
    """The step as the approver list shows it, translated when the message is shown (a CLI has no request)."""
    department = step.department.name if step.kind is StepKind.DEPARTMENT_HEAD else None
    return LazyString(_describe_step, step.kind, department)


def _describe_step(kind: StepKind, department: str | None) -> str:
    return f"{kind.label} ({department})" if department else kind.label


def _eligible_user_ids(step: LoanStep, level: Level, borrower_id: int) -> set[int]:
    """Everyone who could decide this step: right role (and department), active, cleared, not the borrower."""
    stmt = sa.select(User.id).where(
        User.active.is_(True),
        User.id != borrower_id,
        User.clearance.in_([lvl.value for lvl in Level if lvl.rank >= level.rank]),
        User.id.in_(sa.select(UserRole.user_id).where(UserRole.role.in_(STEP_ROLES[step.kind]))),
    )
    if step.kind is StepKind.DEPARTMENT_HEAD:
        stmt = stmt.where(User.department_id == step.department_id)
    return set(db.session.scalars(stmt))


def _unstaffed_step(steps: list[LoanStep], level: Level, borrower_id: int, excluded: set[int]) -> LoanStep | None:
    """A step that cannot get its own decider when each person decides at most one step, else None.

    A bipartite matching of steps to eligible people (augmenting paths; a chain has a handful of steps).
    """
    candidates = [_eligible_user_ids(step, level, borrower_id) - excluded for step in steps]
    assigned: dict[int, int] = {}  # user id -> index of the step they would decide

    def place(index: int, seen: set[int]) -> bool:
        for user_id in candidates[index]:
            if user_id in seen:
                continue
            seen.add(user_id)
            if user_id not in assigned or place(assigned[user_id], seen):
                assigned[user_id] = index
                return True
        return False

    for index, step in enumerate(steps):
        if not place(index, set()):
            return step
    return None


def _check_staffed(steps: list[LoanStep], level: Level, borrower_id: int) -> None:
    """Refuse a request that nobody could ever approve, naming the step that lacks an approver."""
    for step in steps:
        if not _eligible_user_ids(step, level, borrower_id):
            raise ValidationError(
                "Nobody can approve this request as %(step)s: no active person in that role has clearance "
                "%(level)s or higher (and nobody approves their own request).",
                step=_step_name(step), level=level.value)
    missing = _unstaffed_step(steps, level, borrower_id, excluded=set())
    if missing is not None:
        raise ValidationError(
            "Nobody is left to approve this request as %(step)s: one person decides at most one step of a "
            "loan, and the same people would have to decide several.", step=_step_name(missing))


def approval_chain_preview(identity, loan_id: int) -> list[LoanStep]:
    """The steps submitting the basket would create (unsaved), each with its reason."""
    draft = db.session.get(Loan, loan_id)
    if draft is None:
        raise NotFound("Not found.")
    if draft.borrower_id != identity.id or draft.status is not LoanStatus.DRAFT:
        raise AccessDenied("submit", draft)
    if not draft.items:
        return []
    return _chain(identity.department_id, [item.document for item in draft.items])


def _eligible(identity, step: LoanStep, loan: Loan) -> bool:
    if not (getattr(identity, "is_active", False) and identity.id is not None and identity.id != loan.borrower_id):
        return False
    if loan.level is None or identity.clearance.rank < loan.level.rank:
        return False
    if not identity.has_role(*STEP_ROLES[step.kind]):
        return False
    return step.kind is not StepKind.DEPARTMENT_HEAD or identity.department_id == step.department_id


def may_decide(identity, step: LoanStep) -> bool:
    """Whether the identity may decide this step now: the rules `decide` enforces."""
    loan = step.loan
    return (
        step.decision is None
        and loan.status is LoanStatus.SUBMITTED
        and _eligible(identity, step, loan)
        and not any(s.decided_by_id == identity.id for s in loan.steps)
    )


def inbox(identity) -> list[LoanStep]:
    """The undecided steps of submitted loans this identity may decide, oldest request first."""
    kinds = [kind for kind, roles in STEP_ROLES.items() if identity.has_role(*roles)]
    if not kinds:
        return []
    steps = db.session.scalars(
        sa.select(LoanStep).join(Loan, LoanStep.loan_id == Loan.id)
        .where(
            LoanStep.decision.is_(None),
            LoanStep.kind.in_(kinds),
            Loan.status == LoanStatus.SUBMITTED,
            Loan.borrower_id != identity.id,
            Loan.level.in_([lvl.value for lvl in identity.clearance.covered()]),
        )
        .order_by(Loan.submitted_at, LoanStep.id)
    )
    return [step for step in steps if may_decide(identity, step)]


# Transitions ------------------------------------------------------------------------------------------


def _loan_number(today: date) -> str:
    return f"JY-{today.year}-{next_in_sequence(f'loan:{today.year}'):05d}"


def _documents_requestable(identity, documents: list[Document]) -> None:
    """Checked again when sent: the borrower's clearance may have changed since the basket was filled."""
    for document in documents:
        _requestable(identity, document)


def submit(identity, loan_id: int, *, purpose: str, use: LoanUse, start_date: date, due_date: date) -> Loan:
    purpose = purpose.strip()
    with unit_of_work():
        loan = locked(Loan, loan_id)
        if loan.borrower_id != identity.id:
            raise AccessDenied("submit", loan)
        _require_status(loan, LoanStatus.DRAFT)
        if not loan.items:
            raise ValidationError("The request holds no document: add documents or a dossier first.")
        if not purpose:
            raise ValidationError("Say what the documents are needed for.")
        documents = [item.document for item in loan.items]
        _documents_requestable(identity, documents)
        level = highest_level(documents)
        today = local_today()
        _check_period(level, start_date, due_date, today)
        steps = _chain(identity.department_id, documents)
        _check_staffed(steps, level, identity.id)
        now = utcnow()
        loan.number = _loan_number(today)
        loan.department_id = identity.department_id
        loan.purpose, loan.use, loan.level = purpose[:2000], LoanUse(use), level
        loan.start_date, loan.due_date = start_date, due_date
        loan.status, loan.submitted_at = LoanStatus.SUBMITTED, now
        loan.steps = steps
        db.session.flush()
        audit.record(
            "loan.submit", actor=identity, obj=loan, number=loan.number, use=loan.use.value, level=level.value,
            start=start_date.isoformat(), due=due_date.isoformat(),
            documents=[d.archive_number for d in documents], steps=[_step_record(s) for s in steps],
        )
    return loan


def _step_record(step: LoanStep) -> str:
    return f"{step.kind.value}:{step.department.code}" if step.department_id else step.kind.value


def decide(identity, step_id: int, decision: Decision, comment: str = "") -> Loan:
    """Approve or reject one step. The loan is approved when every step approves, rejected at the first no."""
    decision, comment = Decision(decision), comment.strip()
    if decision is Decision.REJECTED and not comment:
        raise ValidationError("Give the reason for the rejection.")
    with unit_of_work():
        found = db.session.get(LoanStep, step_id)
        if found is None:
            raise NotFound("Not found.")
        loan = locked(Loan, found.loan_id)
        _require_visible(identity, loan)
        _require_status(loan, LoanStatus.SUBMITTED)
        step = next(s for s in loan.steps if s.id == step_id)
        if identity.id == loan.borrower_id:
            raise ValidationError("Nobody approves their own request.")
        if not _eligible(identity, step, loan):
            raise AccessDenied("decide", loan)
        if step.decision is not None:
            raise Conflict("This step was already decided.")
        deciders = {s.decided_by_id for s in loan.steps if s.decided_by_id is not None}
        if identity.id in deciders:
            raise ValidationError("You already decided a step of this loan: another person must decide this one.")
        now = utcnow()
        if decision is Decision.APPROVED:
            if local_today(now) > loan.due_date:
                raise ValidationError("The period of this request is over; it can no longer be approved.")
            undecided = [s for s in loan.steps if s.decision is None and s.id != step.id]
            stranded = _unstaffed_step(undecided, loan.level, loan.borrower_id, deciders | {identity.id})
            if stranded is not None:
                raise ValidationError(
                    "If you approve this step, nobody is left to approve it as %(step)s: one person decides at "
                    "most one step of a loan. Leave this step to another approver.", step=_step_name(stranded))
        # Only an undecided step is decided: a second decision of the same step changes nothing.
        done = db.session.execute(
            sa.update(LoanStep).where(LoanStep.id == step.id, LoanStep.decision.is_(None))
            .values(decision=decision, decided_by_id=identity.id, decided_at=now, comment=comment[:1000])
            .execution_options(synchronize_session="fetch")
        )
        if done.rowcount != 1:
            raise Conflict("This step was already decided.")
        details = dict(number=loan.number, step=_step_record(step), comment=comment)
        if decision is Decision.REJECTED:
            loan.status, loan.decided_at = LoanStatus.REJECTED, now
            audit.record("loan.reject", actor=identity, obj=loan, **details)
        else:
            audit.record("loan.approve_step", actor=identity, obj=loan, **details)
            if all(s.decision is Decision.APPROVED for s in loan.steps):
                _approve(identity, loan, now)
    return loan


def _approve(identity, loan: Loan, now: datetime) -> None:
    """Every step approved: the period becomes an access window; electronic access opens at once, a renewal
    takes over what its loan still has out."""
    loan.status, loan.decided_at = LoanStatus.APPROVED, now
    loan.starts_at, loan.ends_at = access_window(loan.start_date, loan.due_date)
    audit.record("loan.approve", actor=identity, obj=loan, number=loan.number,
                 starts_at=loan.starts_at.isoformat(), ends_at=loan.ends_at.isoformat())
    renewed = locked(Loan, loan.renews_id) if loan.renews_id else None
    if renewed is not None and renewed.status in (LoanStatus.ISSUED, LoanStatus.OVERDUE):
        _take_over(identity, loan, renewed, now)
    elif loan.use in ELECTRONIC_USES:
        loan.status, loan.issued_at = LoanStatus.ISSUED, now
        audit.record("loan.issue", actor=identity, obj=loan, number=loan.number, electronic=True)


def _take_over(identity, loan: Loan, renewed: Loan, now: datetime) -> None:
    """The approved renewal closes the loan it renews and is issued at once with the items still out there."""
    previous = {item.document_id: item for item in renewed.items}
    carried, dropped = [], []
    for item in list(loan.items):
        old = previous.get(item.document_id)
        if loan.use.is_paper and (old is None or old.state is ItemState.RETURNED):
            loan.items.remove(item)  # came back while the renewal waited: nothing to carry on
            dropped.append(item.document.archive_number)
            continue
        if loan.use.is_paper:
            item.state, item.pages_issued, item.issued_at, item.note = old.state, old.pages_issued, now, old.note
        carried.append(item.document.archive_number)
    if renewed.note:
        loan.note = renewed.note
    renewed.status, renewed.closed_at = LoanStatus.RENEWED, now
    loan.status, loan.issued_at = LoanStatus.ISSUED, now
    audit.record("loan.renew", actor=identity, obj=renewed, number=renewed.number, renewal=loan.number)
    audit.record("loan.issue", actor=identity, obj=loan, number=loan.number, renews=renewed.number,
                 carried=carried, dropped=dropped)


def cancel(identity, loan_id: int) -> Loan:
    """The borrower withdraws a request not yet issued (or empties the basket)."""
    with unit_of_work():
        loan = locked(Loan, loan_id)
        policy.require(identity, "cancel", loan)
        _require_status(loan, LoanStatus.DRAFT, *WITHDRAWABLE)
        was = loan.status
        loan.status, loan.closed_at, loan.closed_by_id = LoanStatus.CANCELLED, utcnow(), identity.id
        audit.record("loan.cancel", actor=identity, obj=loan, number=loan.number, was=was.value)
    return loan


def issue(identity, loan_id: int, pages: dict[int, int] | None = None) -> Loan:
    """The archivist hands out the paper items of an approved loan, counting the pages of each."""
    pages = pages or {}
    with unit_of_work():
        loan = locked(Loan, loan_id)
        _require_visible(identity, loan)
        policy.require(identity, "issue", loan)
        _require_status(loan, LoanStatus.APPROVED)
        if loan.use in ELECTRONIC_USES:
            raise ValidationError("Electronic access opens when the loan is approved: there is nothing to hand out.")
        now = utcnow()
        if now < loan.starts_at:
            raise ValidationError("This loan starts on %(date)s; it cannot be issued before.",
                                  date=loan.start_date.isoformat())
        if now >= loan.ends_at:
            raise ValidationError("The period of this loan ended on %(date)s; it can no longer be issued.",
                                  date=loan.due_date.isoformat())
        items = {item.id: item for item in loan.items}
        if set(pages) - set(items):
            raise ValidationError("These items are not part of this loan.")
        for item_id, count in pages.items():
            if count is None or count < 0:
                raise ValidationError("Page counts are whole numbers.")
        handed = {}
        for item in loan.items:
            item.state, item.issued_at = ItemState.OUT, now
            item.pages_issued = pages.get(item.id, item.document.page_count)
            handed[item.document.archive_number] = item.pages_issued
        loan.status, loan.issued_at, loan.issued_by_id = LoanStatus.ISSUED, now, identity.id
        audit.record("loan.issue", actor=identity, obj=loan, number=loan.number, pages=handed)
    return loan


@dataclass(frozen=True)
class ItemCheck:
    """What the archivist found for one item handed back: returned (with its page count), damaged or missing."""

    state: ItemState
    pages: int | None = None
    note: str = ""


def check_return(identity, loan_id: int, checks: dict[int, ItemCheck]) -> Loan:
    """Check paper items back one by one; the loan closes when every item is back in good order."""
    if not checks:
        raise ValidationError("Check at least one item.")
    with unit_of_work():
        loan = locked(Loan, loan_id)
        _require_visible(identity, loan)
        policy.require(identity, "check_return", loan)
        if not _items_out(loan):
            _require_status(loan, *OUT)
        if loan.use in ELECTRONIC_USES:
            raise ValidationError("An electronic loan has nothing to hand back: end its access instead.")
        items = {item.id: item for item in loan.items}
        if set(checks) - set(items):
            raise ValidationError("These items are not part of this loan.")
        for item_id, check in checks.items():
            _check_item(items[item_id], check)
        now = utcnow()
        for item_id, check in checks.items():
            item = items[item_id]
            item.state, item.pages_returned, item.note = check.state, check.pages, check.note.strip()[:500]
            item.checked_by_id = identity.id
            item.returned_at = None if check.state is ItemState.MISSING else now
            audit.record("loan.return_item", actor=identity, obj=loan, number=loan.number,
                         document=item.document.archive_number, state=check.state.value,
                         pages_issued=item.pages_issued, pages_returned=check.pages, note=item.note)
        open_items = [item for item in loan.items if item.state is not ItemState.RETURNED]
        loan.note = "\n".join(f"{item.document.archive_number} {item.state.value}: {item.note}"
                              for item in open_items if item.state in (ItemState.MISSING, ItemState.DAMAGED))
        if not open_items:
            loan.status, loan.closed_at, loan.closed_by_id = LoanStatus.RETURNED, now, identity.id
            audit.record("loan.return", actor=identity, obj=loan, number=loan.number)
    return loan


def _check_item(item: LoanItem, check: ItemCheck) -> None:
    number = item.document.archive_number
    if item.state in (ItemState.WAITING, ItemState.RETURNED):
        raise ValidationError("%(number)s is not out: it cannot be checked back.", number=number)
    if check.state is ItemState.RETURNED:
        if check.pages != item.pages_issued:
            raise ValidationError(
                "%(number)s: %(returned)s pages counted, %(issued)s were issued. Count again, or mark it damaged "
                "or missing with a note.", number=number, returned="—" if check.pages is None else check.pages,
                issued=item.pages_issued)
    elif check.state in (ItemState.DAMAGED, ItemState.MISSING):
        if not check.note.strip():
            raise ValidationError("%(number)s: say what is damaged or missing.", number=number)
        if check.pages is not None and check.pages < 0:
            raise ValidationError("Page counts are whole numbers.")
    else:
        raise ValidationError("Mark each item returned, damaged or missing.")


def end_access(identity, loan_id: int) -> Loan:
    """An electronic loan ended before its time, by the borrower or the archive."""
    with unit_of_work():
        loan = locked(Loan, loan_id)
        _require_visible(identity, loan)
        policy.require(identity, "end_access", loan)
        _require_status(loan, LoanStatus.ISSUED)
        if loan.use.is_paper:
            raise ValidationError("Paper items are checked back by the archive.")
        loan.status, loan.closed_at, loan.closed_by_id = LoanStatus.RETURNED, utcnow(), identity.id
        audit.record("loan.return", actor=identity, obj=loan, number=loan.number, early=True)
    return loan


def request_renewal(identity, loan_id: int, *, due_date: date, purpose: str) -> Loan:
    """A renewal is a new request for what is still out, approved like any other; the loan runs on meanwhile."""
    purpose = purpose.strip()
    with unit_of_work():
        old = locked(Loan, loan_id)
        _require_visible(identity, old)
        policy.require(identity, "renew", old)
        _require_status(old, *OUT)
        if not purpose:
            raise ValidationError("Say why the loan must run longer.")
        pending = db.session.scalar(sa.select(Loan.number).where(
            Loan.renews_id == old.id, Loan.status.in_([LoanStatus.SUBMITTED, LoanStatus.APPROVED])))
        if pending:
            raise Conflict("Renewal %(number)s of this loan is already waiting for approval.", number=pending)
        if due_date <= old.due_date:
            raise ValidationError("A renewal must end after the current due date, %(date)s.",
                                  date=old.due_date.isoformat())
        items = [item for item in old.items if item.state is not ItemState.RETURNED]
        documents = [item.document for item in items]
        _documents_requestable(identity, documents)
        level = highest_level(documents)
        today = local_today()
        _check_period(level, today, due_date, today)
        steps = _chain(identity.department_id, documents)
        _check_staffed(steps, level, identity.id)
        renewal = Loan(
            number=_loan_number(today), borrower_id=identity.id, department_id=identity.department_id,
            purpose=purpose[:2000], use=old.use, start_date=today, due_date=due_date, level=level,
            renews_id=old.id, status=LoanStatus.SUBMITTED, submitted_at=utcnow(),
            items=[LoanItem(document_id=item.document_id, via_dossier_id=item.via_dossier_id) for item in items],
            steps=steps,
        )
        db.session.add(renewal)
        db.session.flush()
        audit.record("loan.renew_request", actor=identity, obj=renewal, number=renewal.number, renews=old.number,
                     due=due_date.isoformat(), steps=[_step_record(s) for s in steps])
    return renewal


# The sweep: periods that ran out --------------------------------------------------------------------------


@dataclass(frozen=True)
class SweepResult:
    expired: int = 0  # requests and approved loans whose period passed, electronic access that ran out
    overdue: int = 0  # paper loans newly overdue
    notified: int = 0  # overdue loans whose borrower and department head were told


def sweep(now: datetime | None = None) -> SweepResult:
    """Expire, mark overdue and escalate; each loan in a short transaction of its own. Safe to run again."""
    now = now or utcnow()
    today = local_today(now)
    candidates = db.session.scalars(sa.select(Loan.id).where(sa.or_(
        sa.and_(Loan.status == LoanStatus.SUBMITTED, Loan.due_date < today),
        sa.and_(Loan.status.in_([LoanStatus.APPROVED, LoanStatus.ISSUED]), Loan.ends_at <= now),
        sa.and_(Loan.status == LoanStatus.OVERDUE, Loan.overdue_notified_at.is_(None)),
    )).order_by(Loan.id)).all()
    db.session.commit()
    counts = defaultdict(int)
    for loan_id in candidates:
        with unit_of_work():
            for outcome in _sweep_one(locked(Loan, loan_id), now, today):
                counts[outcome] += 1
    return SweepResult(**counts)


def _sweep_one(loan: Loan, now: datetime, today: date) -> list[str]:
    """What the sweep does to one locked loan, read again under the lock."""
    ended = loan.ends_at is not None and loan.ends_at <= now
    if (loan.status is LoanStatus.SUBMITTED and loan.due_date < today) or (
            ended and (loan.status is LoanStatus.APPROVED
                       or (loan.status is LoanStatus.ISSUED and loan.use in ELECTRONIC_USES))):
        was = loan.status
        loan.status, loan.closed_at = LoanStatus.EXPIRED, now
        audit.record("loan.expire", obj=loan, number=loan.number, was=was.value)
        return ["expired"]
    outcomes = []
    if ended and loan.status is LoanStatus.ISSUED:
        loan.status = LoanStatus.OVERDUE
        audit.record("loan.overdue", obj=loan, number=loan.number, due=loan.due_date.isoformat())
        outcomes.append("overdue")
    if loan.status is LoanStatus.OVERDUE and loan.overdue_notified_at is None:
        _escalate(loan)
        loan.overdue_notified_at = now
        outcomes.append("notified")
    return outcomes


def _escalate(loan: Loan) -> None:
    """Tell the borrower, and every head of the borrower's department, once."""
    params = dict(number=loan.number, due=loan.due_date.isoformat(), borrower=loan.borrower.display_name)
    link = f"/loans/{loan.id}"
    notify([loan.borrower], "loan.overdue",
           N_("Your loan %(number)s is overdue: it was due back on %(due)s. Please return it."), link, **params)
    heads = [user for user in db.session.scalars(
        sa.select(User).where(User.department_id == loan.department_id, User.active.is_(True),
                              User.id.in_(sa.select(UserRole.user_id).where(UserRole.role == Role.DEPT_HEAD)))
        .order_by(User.id)) if user.id != loan.borrower_id]
    if heads:
        notify(heads, "loan.overdue",
               N_("Loan %(number)s of %(borrower)s is overdue: it was due back on %(due)s."), link, **params)


# Classification changes: loans a new level no longer fits -------------------------------------------------


def suspend_unfit_loans(actor, document: Document) -> list[Loan]:
    """The document's level has just changed, in the caller's transaction: every loan in progress holding it
    that no longer fits is suspended with the reason and its borrower told. Electronic access stops at once
    (only issued loans open it); paper items out come back through the desk. A loan that still fits takes a
    raised level as its own."""
    db.session.flush()
    loan_ids = db.session.scalars(
        sa.select(Loan.id).join(LoanItem, LoanItem.loan_id == Loan.id)
        .where(LoanItem.document_id == document.id, Loan.status.in_(OPEN_STATUSES)).order_by(Loan.id)
    ).all()
    suspended = []
    for loan_id in loan_ids:
        loan = locked(Loan, loan_id)
        if loan.status not in OPEN_STATUSES:
            continue
        documents = [item.document for item in loan.items]
        level = highest_level(documents)
        reason = _unfit_reason(loan, documents, level)
        if reason is None:
            if level.rank > loan.level.rank:
                loan.level = level
            continue
        was = loan.status
        loan.status, loan.suspended_reason, loan.closed_at = LoanStatus.SUSPENDED, reason, utcnow()
        audit.record("loan.suspend", actor=actor, obj=loan, number=loan.number, was=was.value, reason=reason,
                     document=document.archive_number, level=document.level.value)
        notify([loan.borrower], "loan.suspended",
               N_("Your loan %(number)s is suspended: the classification of %(document)s changed. The loan page "
                  "gives the reason."), f"/loans/{loan.id}", number=loan.number, document=document.archive_number)
        suspended.append(loan)
    return suspended


def _unfit_reason(loan: Loan, documents: list[Document], level: Level) -> str | None:
    """Why the loan no longer fits its documents' levels (a message id, translated when shown), or None."""
    if loan.borrower.clearance.rank < level.rank:
        return N_("A document of this loan was raised above the borrower's clearance.")
    if level is Level.A and loan.due_date > latest_due_date(Level.A, loan.start_date):
        return N_("A document of this loan was raised to level A, and an A-level loan runs at most 5 working days.")
    needed = {(step.kind, step.department_id) for step in _chain(loan.department_id, documents)}
    if not needed <= {(step.kind, step.department_id) for step in loan.steps}:
        return N_("A document of this loan was raised to a level its approvals do not cover: request it again.")
    return None


# Using a loan ---------------------------------------------------------------------------------------------


def active_loans_for(identity, document: Document) -> list[Loan]:
    """The identity's own issued electronic loans covering the document, running now."""
    now = utcnow()
    return list(db.session.scalars(
        sa.select(Loan).join(LoanItem, LoanItem.loan_id == Loan.id)
        .where(LoanItem.document_id == document.id, Loan.borrower_id == identity.id,
               Loan.status == LoanStatus.ISSUED, Loan.use.in_(ELECTRONIC_USES),
               Loan.starts_at <= now, Loan.ends_at > now)
        .order_by(Loan.ends_at.desc())
    ))


def record_view(identity, loan: Loan, document: Document) -> None:
    with unit_of_work():
        audit.record("loan.view", actor=identity, obj=loan, number=loan.number, document=document.archive_number,
                     document_id=document.id)


# Work lists and figures -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Desk:
    """The archivist's desk: paper loans to hand out, due back today, overdue, and everything out."""

    to_issue: list[Loan]
    due_today: list[Loan]
    overdue: list[Loan]
    out: list[Loan]


def desk(identity) -> Desk:
    policy.require(identity, "loan_desk")
    now, today = utcnow(), local_today()
    paper = list(db.session.scalars(
        sa.select(Loan).where(
            Loan.use.in_(PAPER_USES),
            Loan.status.in_([LoanStatus.APPROVED, LoanStatus.ISSUED, LoanStatus.OVERDUE]),
            policy.where(identity, "issue", Loan),
        ).order_by(Loan.due_date, Loan.id)
    ))
    out = [loan for loan in paper if loan.status is not LoanStatus.APPROVED]
    return Desk(
        to_issue=[loan for loan in paper if loan.status is LoanStatus.APPROVED],
        due_today=[loan for loan in out if loan.status is LoanStatus.ISSUED and loan.due_date == today],
        # Overdue as soon as the period ended, even before the sweep has marked it.
        overdue=[loan for loan in out if loan.status is LoanStatus.OVERDUE or loan.ends_at <= now],
        out=out,
    )


@dataclass
class StatisticsRow:
    department: Department | None  # None: the total
    level: Level | None
    requested: int = 0
    approved: int = 0
    rejected: int = 0
    overdue: int = 0  # became overdue at some time
    _to_decision: list[float] = field(default_factory=list, repr=False)
    _to_issue: list[float] = field(default_factory=list, repr=False)

    @property
    def hours_to_decision(self) -> float | None:
        """Average hours from submission to the approval or rejection."""
        return _average(self._to_decision)

    @property
    def hours_to_issue(self) -> float | None:
        """Average hours from submission to the items handed out (or electronic access opened)."""
        return _average(self._to_issue)

    def count(self, loan) -> None:
        self.requested += 1
        if loan.decided_at is not None:
            if loan.status is LoanStatus.REJECTED:
                self.rejected += 1
            else:
                self.approved += 1
            self._to_decision.append((loan.decided_at - loan.submitted_at).total_seconds() / 3600)
        if loan.issued_at is not None:
            self._to_issue.append((loan.issued_at - loan.submitted_at).total_seconds() / 3600)
        if loan.overdue_notified_at is not None or loan.status is LoanStatus.OVERDUE:
            self.overdue += 1


def _average(values: list[float]) -> float | None:
    return round(sum(values) / len(values), 1) if values else None


@dataclass(frozen=True)
class LoanStatistics:
    start: date
    end: date
    rows: list[StatisticsRow]  # per borrowing department and level, requests submitted in the period
    total: StatisticsRow
    overdue_now: int


def statistics(identity, start: date, end: date) -> LoanStatistics:
    """Loans requested between start and end (local days), per borrowing department and level. Loans above the
    identity's clearance are not counted."""
    policy.require(identity, "loan_statistics")
    if end < start:
        raise ValidationError("The period ends before it starts.")
    covered = [lvl.value for lvl in identity.clearance.covered()]
    loans = db.session.scalars(
        sa.select(Loan).where(
            Loan.submitted_at >= _local_midnight(start), Loan.submitted_at < _local_midnight(end + timedelta(days=1)),
            Loan.level.in_(covered),
        )
    )
    rows: dict[tuple[int, str], StatisticsRow] = {}
    total = StatisticsRow(None, None)
    for loan in loans:
        key = (loan.department_id, loan.level.rank)
        if key not in rows:
            rows[key] = StatisticsRow(loan.department, loan.level)
        rows[key].count(loan)
        total.count(loan)
    overdue_now = db.session.scalar(
        sa.select(sa.func.count()).select_from(Loan).where(Loan.status == LoanStatus.OVERDUE, Loan.level.in_(covered))
    )
    ordered = [rows[key] for key in sorted(rows, key=lambda k: (rows[k].department.code, k[1]))]
    return LoanStatistics(start, end, ordered, total, overdue_now)


# Outside parties: consultations --------------------------------------------------------------------------


def register_consultation(
    identity,
    *,
    agency_kind: AgencyKind | str,
    agency_name: str,
    letter_reference: str,
    officer_names: str,
    officer_ids: str,
    purpose: str,
    consulted_on: date,
    archive_numbers: list[str],
    letter: Upload | None = None,
) -> Consultation:
    """查阅登记: a court, the police or a procuratorate consults documents on a formal letter; they never borrow.

    The officers' ID numbers are sealed with the master key and kept masked; the letter scan is encrypted
    like every document.
    """
    policy.require(identity, "register_consultation")
    agency_name, letter_reference = agency_name.strip()[:200], letter_reference.strip()[:200]
    officer_names, purpose = officer_names.strip()[:300], purpose.strip()
    if not (agency_name and letter_reference and officer_names and purpose):
        raise ValidationError("Name the authority, its letter, the officers and the purpose.")
    ids = [normalise_id_number(part) for part in re.split(r"[,，;；、\s]+", officer_ids) if part.strip()]
    if not ids:
        raise ValidationError("Record the officers' ID numbers.")
    if consulted_on > local_today():
        raise ValidationError("A consultation cannot be registered for a day still to come.")
    documents = _consulted_documents(identity, archive_numbers)
    checked = check_uploads([letter])[0] if letter is not None else None
    ring = keyring()
    with unit_of_work() as uow:
        year = local_today().year
        consultation = Consultation(
            number=f"CY-{year}-{next_in_sequence(f'consultation:{year}'):04d}",
            agency_kind=AgencyKind(agency_kind), agency_name=agency_name, letter_reference=letter_reference,
            officer_names=officer_names, purpose=purpose, consulted_on=consulted_on, registered_by_id=identity.id,
            officer_ids_sealed=ring.seal_value(", ".join(ids), OFFICER_IDS_CONTEXT),
            officer_ids_masked=", ".join(mask(i, 4, 4) for i in ids)[:300], documents=documents,
        )
        if checked is not None:
            stored = store_file(uow, checked)
            consultation.letter_filename, consultation.letter_media_type = stored["filename"], stored["media_type"]
            consultation.letter_blob_id, consultation.letter_key_id = stored["blob_id"], stored["key_id"]
            consultation.letter_wrapped_key = stored["wrapped_key"]
            consultation.letter_plain_sha256 = stored["plain_sha256"]
            consultation.letter_cipher_sha256 = stored["cipher_sha256"]
        db.session.add(consultation)
        db.session.flush()
        audit.record("consultation.register", actor=identity, obj=consultation, number=consultation.number,
                     agency=consultation.agency_name, agency_kind=consultation.agency_kind.value,
                     letter=consultation.letter_reference, officers=consultation.officer_names,
                     documents=[d.archive_number for d in documents], letter_scan=bool(checked))
    return consultation


def _consulted_documents(identity, archive_numbers: list[str]) -> list[Document]:
    """Each document consulted, by archive number; the registering archivist must be able to read each."""
    numbers = list(dict.fromkeys(n.strip() for n in archive_numbers if n.strip()))
    if not numbers:
        raise ValidationError("List the archive numbers of the documents consulted.")
    documents = []
    for number in numbers:
        document = db.session.scalar(sa.select(Document).where(Document.archive_number == number))
        if document is None or not policy.can(identity, "read", document):
            raise ValidationError("%(number)s is not the archive number of a document you can read.", number=number)
        documents.append(document)
    return documents


def consultations(identity) -> list[Consultation]:
    return list(db.session.scalars(
        sa.select(Consultation).where(policy.where(identity, "read", Consultation))
        .order_by(Consultation.registered_at.desc(), Consultation.id.desc())
    ))

