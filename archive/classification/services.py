"""Classification changes (定密变更): request, two approvals in either order, application, and declassification
when a dated period has ended.

A change takes effect in the transaction of its last approval: the document's level, period and knowledge scope
change, and loans that no longer fit are suspended. The search index follows right after the commit. Every
decision locks the request row first and reads it again under the lock, so two approvers acting at once get one
outcome.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

import sqlalchemy as sa

from ..audit import services as audit
from ..auth.models import Department, User, UserRole
from ..core.clock import local_today
from ..core.enums import LEVEL_LABELS, Level, LevelPeriod, Role
from ..core.errors import Conflict, ValidationError
from ..core.permissions import policy
from ..core.types import utcnow
from ..core.uow import UnitOfWork, locked, unit_of_work
from ..documents.models import Document, KnowledgeScope
from ..documents.numbering import next_in_sequence
from ..extensions import db
from ..loans.services import suspend_unfit_loans
from ..notifications.services import notify
from ..search.indexing import schedule_index
from .models import APPROVAL_STEP_LABELS, CHANGE_STATUS_LABELS, ApprovalStep, ChangeStatus, ClassificationChange

STEP_ROLES = {ApprovalStep.DEPARTMENT_HEAD: Role.DEPT_HEAD, ApprovalStep.ARCHIVE_HEAD: Role.ARCHIVE_HEAD}


def N_(message: str) -> str:
    """Marks a message stored untranslated (a notification) for extraction; it is translated when shown."""
    return message


# Reading -------------------------------------------------------------------------------------------------


def get_change(identity, change_id: int) -> ClassificationChange:
    return policy.fetch(identity, "read", ClassificationChange, change_id)


def open_change(identity, document: Document) -> ClassificationChange | None:
    """The document's request waiting for approval, when the identity may see it."""
    change = db.session.scalar(sa.select(ClassificationChange).where(
        ClassificationChange.document_id == document.id, ClassificationChange.status == ChangeStatus.PENDING))
    return change if change is not None and policy.can(identity, "read", change) else None


def scope_names(department_ids: list[int], user_ids: list[int]) -> list[str]:
    """The knowledge scope as people read it: department names, then people's names."""
    names = [d.name for d in db.session.scalars(
        sa.select(Department).where(Department.id.in_(department_ids)).order_by(Department.id))]
    return names + [u.display_name for u in db.session.scalars(
        sa.select(User).where(User.id.in_(user_ids)).order_by(User.display_name))]


def _scope_record(department_ids: list[int], user_ids: list[int]) -> dict[str, list[str]]:
    """The knowledge scope as the audit trail keeps it: department codes and logins."""
    return {
        "departments": list(db.session.scalars(
            sa.select(Department.code).where(Department.id.in_(department_ids)).order_by(Department.code))),
        "people": list(db.session.scalars(
            sa.select(User.username).where(User.id.in_(user_ids)).order_by(User.username))),
    }


def _classification(document: Document) -> dict:
    """What a change replaces or sets, for the audit trail: level, period, last day, knowledge scope."""
    return {
        "level": document.level.value,
        "period": document.level_period.value if document.level_period else None,
        "until": document.level_until.isoformat() if document.level_until else None,
        "scope": _scope_record([s.department_id for s in document.scope if s.department_id is not None],
                               [s.user_id for s in document.scope if s.user_id is not None]),
    }


# Requesting ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RequestChoices:
    """What the request form offers: the limits `request_change` enforces."""

    document: Document
    levels: list[Level]  # within the requester's clearance, never the current level
    departments: list[Department]  # for the knowledge scope; the document's own always knows
    people: list[User]
    scope_department_ids: list[int] = field(default_factory=list)  # the current scope, as the form's default
    scope_user_ids: list[int] = field(default_factory=list)


def _require_requester(identity, document: Document) -> None:
    policy.require(identity, "edit", document)


def request_choices(identity, document_id: int) -> RequestChoices:
    document = policy.fetch(identity, "read", Document, document_id)
    _require_requester(identity, document)
    departments = list(db.session.scalars(
        sa.select(Department).where(Department.id != document.department_id).order_by(Department.id)))
    people = list(db.session.scalars(
        sa.select(User).where(User.active.is_(True), User.department_id != document.department_id,
                              User.id.in_(sa.select(UserRole.user_id).where(UserRole.role != Role.ADMIN)))
        .order_by(User.display_name)))
    return RequestChoices(
        document, [lvl for lvl in identity.clearance.covered() if lvl is not document.level], departments, people,
        [s.department_id for s in document.scope if s.department_id is not None],
        [s.user_id for s in document.scope if s.user_id is not None],
    )


def request_change(identity, document_id: int, *, new_level: Level, period: LevelPeriod | None,
                   until: date | None, reason: str, scope_department_ids: list[int] = (),
                   scope_user_ids: list[int] = ()) -> ClassificationChange:
    """Ask to raise or lower a document's level, with its period and knowledge scope; both heads then approve."""
    new_level, reason = Level(new_level), reason.strip()
    with unit_of_work():
        # The document row locked: one open request per document, and none while a change is being applied.
        document = policy.fetch(identity, "read", Document, document_id)
        document = locked(Document, document.id)
        _require_requester(identity, document)
        if new_level is document.level:
            raise ValidationError("The document is already at level %(level)s: choose another level.",
                                  level=LEVEL_LABELS[new_level])
        higher = max(new_level, document.level, key=lambda lvl: lvl.rank)
        if identity.clearance.rank < higher.rank:
            raise ValidationError("Your clearance does not reach level %(level)s: you cannot request this change.",
                                  level=LEVEL_LABELS[higher])
        if not reason:
            raise ValidationError("Give the reason for the change.")
        period, until = _checked_period(new_level, period, until)
        department_ids, user_ids = _checked_scope(document, new_level, scope_department_ids, scope_user_ids)
        pending = db.session.scalar(sa.select(ClassificationChange.number).where(
            ClassificationChange.document_id == document.id, ClassificationChange.status == ChangeStatus.PENDING))
        if pending:
            raise Conflict("Request %(number)s for this document is still waiting for approval: it must be decided "
                           "or cancelled first.", number=pending)
        _check_staffed(document, higher, identity.id)
        year = local_today().year
        change = ClassificationChange(
            number=f"DM-{year}-{next_in_sequence(f'classification:{year}'):04d}", document_id=document.id,
            old_level=document.level, new_level=new_level, period=period, period_until=until,
            scope_department_ids=department_ids, scope_user_ids=user_ids, reason=reason[:2000],
            requested_by_id=identity.id, status=ChangeStatus.PENDING,
        )
        db.session.add(change)
        db.session.flush()
        audit.record(
            "classification.request", actor=identity, obj=change, number=change.number,
            archive_number=document.archive_number, reason=change.reason, old=_classification(document),
            new=_proposed(change),
        )
    return change


def _proposed(change: ClassificationChange) -> dict:
    return {
        "level": change.new_level.value,
        "period": change.period.value if change.period else None,
        "until": change.period_until.isoformat() if change.period_until else None,
        "scope": _scope_record(change.scope_department_ids, change.scope_user_ids),
    }


def _checked_period(level: Level, period: LevelPeriod | None, until: date | None):
    """C (内部) has no period; B and A need one, and a dated period ends after today."""
    if level is Level.C:
        return None, None
    if not period:
        raise ValidationError("Choose the period of the level: a date, long-term or until published.")
    period = LevelPeriod(period)
    if period is not LevelPeriod.DATE:
        return period, None
    if until is None:
        raise ValidationError("Give the last day of the period.")
    if until <= local_today():
        raise ValidationError("The period must end after today.")
    return period, until


def _checked_scope(document: Document, level: Level, department_ids, user_ids) -> tuple[list[int], list[int]]:
    """Departments and people who may know beyond the document's own department, which always knows."""
    department_ids = sorted({int(i) for i in department_ids} - {document.department_id})
    user_ids = sorted({int(i) for i in user_ids})
    if len(db.session.scalars(sa.select(Department.id).where(Department.id.in_(department_ids))).all()) != len(
            department_ids):
        raise ValidationError("Choose the departments of the knowledge scope from the list.")
    people = db.session.scalars(sa.select(User).where(User.id.in_(user_ids), User.active.is_(True))).all()
    if len(people) != len(user_ids):
        raise ValidationError("Choose the people of the knowledge scope from the list.")
    for person in people:
        if person.clearance.rank < level.rank:
            raise ValidationError("%(name)s's clearance does not reach level %(level)s: they cannot be in the "
                                  "knowledge scope.", name=person.display_name, level=LEVEL_LABELS[level])
    return department_ids, [p.id for p in people if p.department_id != document.department_id]


def _eligible_ids(step: ApprovalStep, document: Document, level: Level, requester_id: int) -> set[int]:
    """Everyone who could decide the step: active, in the role (and the document's department), cleared."""
    stmt = sa.select(User.id).where(
        User.active.is_(True), User.id != requester_id,
        User.clearance.in_([lvl.value for lvl in Level if lvl.rank >= level.rank]),
        User.id.in_(sa.select(UserRole.user_id).where(UserRole.role == STEP_ROLES[step])),
    )
    if step is ApprovalStep.DEPARTMENT_HEAD:
        stmt = stmt.where(User.department_id == document.department_id)
    return set(db.session.scalars(stmt))


def _check_staffed(document: Document, level: Level, requester_id: int) -> None:
    """Refuse a request nobody could approve: each step needs someone, and two different people in all."""
    heads = _eligible_ids(ApprovalStep.DEPARTMENT_HEAD, document, level, requester_id)
    archive_heads = _eligible_ids(ApprovalStep.ARCHIVE_HEAD, document, level, requester_id)
    for step, people in ((ApprovalStep.DEPARTMENT_HEAD, heads), (ApprovalStep.ARCHIVE_HEAD, archive_heads)):
        if not people:
            raise ValidationError("Nobody can approve this request as %(step)s: no active person in that role has "
                                  "clearance %(level)s or higher (and nobody approves their own request).",
                                  step=APPROVAL_STEP_LABELS[step], level=level.value)
    if len(heads | archive_heads) < 2:
        raise ValidationError("Two different people must approve this request, and only one person could.")


# Deciding --------------------------------------------------------------------------------------------------


def _refusal(identity, change: ClassificationChange, step: ApprovalStep) -> ValidationError | None:
    """Why the identity may not decide this step of the request, or None."""
    document = change.document
    if identity.id == change.requested_by_id:
        return ValidationError("Nobody decides their own request.")
    if not identity.has_role(STEP_ROLES[step]):
        return ValidationError("Only %(step)s decides this step.", step=APPROVAL_STEP_LABELS[step])
    if step is ApprovalStep.DEPARTMENT_HEAD and identity.department_id != document.department_id:
        return ValidationError("Only the head of %(department)s, the document's department, decides this step.",
                               department=document.department.name)
    if identity.clearance.rank < change.higher_level.rank:
        return ValidationError("Your clearance does not reach level %(level)s: you cannot decide this request.",
                               level=LEVEL_LABELS[change.higher_level])
    if identity.id in (change.department_head_id, change.archive_head_id):
        return ValidationError("You already approved this request: another person must decide the other step.")
    return None


def decidable_steps(identity, change: ClassificationChange) -> list[ApprovalStep]:
    """The steps the identity may decide now: the rules `decide` enforces."""
    if change.status is not ChangeStatus.PENDING:
        return []
    return [step for step in ApprovalStep
            if change.approver_id(step) is None and _refusal(identity, change, step) is None]


def decide(identity, change_id: int, step: ApprovalStep, approve: bool, comment: str = "") -> ClassificationChange:
    """Approve or reject one step. A rejection ends the request; the second approval applies the change."""
    step, comment = ApprovalStep(step), comment.strip()
    if not approve and not comment:
        raise ValidationError("Give the reason for the rejection.")
    with unit_of_work() as uow:
        change = locked(ClassificationChange, change_id)
        policy.require(identity, "read", change)
        _require_pending(change)
        refusal = _refusal(identity, change, step)
        if refusal is not None:
            raise refusal
        if change.approver_id(step) is not None:
            raise Conflict("This step was already decided.")
        now = utcnow()
        if not approve:
            change.status, change.closed_at, change.closed_by_id = ChangeStatus.REJECTED, now, identity.id
            change.rejection_reason = comment[:1000]
            audit.record("classification.reject", actor=identity, obj=change, number=change.number,
                         step=step.value, reason=change.rejection_reason,
                         old={"level": change.old_level.value}, new={"level": change.new_level.value})
            notify([change.requested_by], "classification.rejected",
                   N_("Classification change %(number)s of %(document)s was rejected: %(reason)s"),
                   f"/classification/{change.id}", number=change.number,
                   document=change.document.archive_number, reason=change.rejection_reason)
            return change
        if step is ApprovalStep.DEPARTMENT_HEAD:
            change.department_head_id, change.department_head_at = identity.id, now
        else:
            change.archive_head_id, change.archive_head_at = identity.id, now
        audit.record("classification.approve_step", actor=identity, obj=change, number=change.number,
                     step=step.value, comment=comment[:1000])
        if change.department_head_id is not None and change.archive_head_id is not None:
            _apply(identity, change, now, uow)
    return change


def _require_pending(change: ClassificationChange) -> None:
    if change.status is not ChangeStatus.PENDING:
        raise Conflict("This request was already %(status)s.", status=CHANGE_STATUS_LABELS[change.status])


def _apply(identity, change: ClassificationChange, now: datetime, uow: UnitOfWork) -> None:
    """Both approved: the level, its period and the knowledge scope change now; unfit loans are suspended."""
    document = locked(Document, change.document_id)
    if document.level is not change.old_level:
        raise Conflict("The document's level changed to %(level)s since this request was made: cancel it and "
                       "request again.", level=LEVEL_LABELS[document.level])
    old = _classification(document)
    document.level, document.level_period = change.new_level, change.period
    document.level_until = change.period_until
    document.scope = [KnowledgeScope(department_id=i) for i in change.scope_department_ids] + [
        KnowledgeScope(user_id=i) for i in change.scope_user_ids]
    change.status, change.closed_at, change.closed_by_id = ChangeStatus.APPROVED, now, identity.id
    suspended = suspend_unfit_loans(identity, document)
    audit.record(
        "classification.apply", actor=identity, obj=document, number=change.number,
        archive_number=document.archive_number, old=old, new=_classification(document),
        loans_suspended=[loan.number for loan in suspended],
    )
    notify([change.requested_by], "classification.applied",
           N_("Classification change %(number)s is approved: %(document)s is now at level %(level)s."),
           f"/classification/{change.id}", number=change.number, document=document.archive_number,
           level=change.new_level.value)
    document_id = document.id
    uow.after_commit(lambda: schedule_index(document_id))


def cancel(identity, change_id: int) -> ClassificationChange:
    """The requester withdraws a request still waiting for approval."""
    with unit_of_work():
        change = locked(ClassificationChange, change_id)
        policy.require(identity, "cancel", change)
        _require_pending(change)
        change.status, change.closed_at, change.closed_by_id = ChangeStatus.CANCELLED, utcnow(), identity.id
        audit.record("classification.cancel", actor=identity, obj=change, number=change.number,
                     old={"level": change.old_level.value}, new={"level": change.new_level.value})
    return change


def waiting_for(identity) -> list[ClassificationChange]:
    """Requests waiting for a step the identity may decide, oldest first."""
    if not policy.can(identity, "approve_classification"):
        return []
    changes = db.session.scalars(
        sa.select(ClassificationChange).where(
            ClassificationChange.status == ChangeStatus.PENDING,
            ClassificationChange.requested_by_id != identity.id,
            policy.where(identity, "read", ClassificationChange),
        ).order_by(ClassificationChange.requested_at, ClassificationChange.id)
    )
    return [change for change in changes if decidable_steps(identity, change)]


def history(identity, document: Document) -> list[ClassificationChange]:
    """The document's requests the identity may see, newest first."""
    return list(db.session.scalars(
        sa.select(ClassificationChange).where(
            ClassificationChange.document_id == document.id, policy.where(identity, "read", ClassificationChange))
        .order_by(ClassificationChange.requested_at.desc(), ClassificationChange.id.desc())
    ))


# Declassification when a dated period has ended --------------------------------------------------------------


def declassify_expired(now: datetime | None = None) -> list[str]:
    """Lower to C (解密) every document whose dated period ended before today, each in a transaction of its
    own, audited as the system with the old and new values. Returns their archive numbers. Safe to run again."""
    today = local_today(now)
    ended = (Document.level_period == LevelPeriod.DATE) & (Document.level_until < today)
    document_ids = db.session.scalars(sa.select(Document.id).where(ended).order_by(Document.id)).all()
    db.session.commit()
    declassified = []
    for document_id in document_ids:
        with unit_of_work() as uow:
            document = locked(Document, document_id)
            if document.level_period is not LevelPeriod.DATE or document.level_until >= today:
                continue  # changed since it was listed
            old = _classification(document)
            document.level, document.level_period, document.level_until = Level.C, None, None
            audit.record("classification.declassify", obj=document, archive_number=document.archive_number,
                         old=old, new=_classification(document))
            uow.after_commit(lambda document_id=document_id: schedule_index(document_id))
            declassified.append(document.archive_number)
    return declassified
