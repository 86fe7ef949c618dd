"""Who may see a loan and act on it; who may see consultations (DOMAIN.md: Borrowing)."""
from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from ..core.enums import READING_ROLES, REGISTER_ROLES, Role
from ..core.permissions import Generator, OwnDepartment, Related, RoleIn, all_of, any_of, policy
from ..documents.models import Document
from .models import Consultation, Loan, LoanStep, StepKind, consultation_documents

DEPT_HEADS = frozenset({Role.DEPT_HEAD})
OVERSEERS = REGISTER_ROLES | {Role.COMPLIANCE}


@dataclass(frozen=True)
class Borrower(Generator):
    def allows(self, identity, obj):
        return obj.borrower_id == identity.id

    def where(self, identity):
        return Loan.borrower_id == identity.id


@dataclass(frozen=True)
class LoanLevelCovered(Generator):
    """The identity's clearance reaches the loan's highest level. A draft has no level yet: nobody else sees it."""

    def allows(self, identity, obj):
        return obj.level is not None and obj.level.rank <= identity.clearance.rank

    def where(self, identity):
        return Loan.level.in_([lvl.value for lvl in identity.clearance.covered()])


def _decided_or_heads_a_step(identity):
    """Someone who decided one of the loan's steps, or heads a department whose step it has."""
    reasons = [LoanStep.decided_by_id == identity.id]
    if identity.has_role(*DEPT_HEADS):
        reasons.append(sa.and_(LoanStep.kind == StepKind.DEPARTMENT_HEAD,
                               LoanStep.department_id == identity.department_id))
    return sa.exists().where(LoanStep.loan_id == Loan.id, sa.or_(*reasons))


def _every_document_readable(identity):
    """A consultation shows the documents consulted: visible only to those who may read all of them."""
    readable = policy.where(identity, "read", Document)
    return ~sa.exists().where(
        consultation_documents.c.consultation_id == Consultation.id,
        consultation_documents.c.document_id.not_in(sa.select(Document.id).where(readable)),
    )


borrower = Borrower()
level_covered = LoanLevelCovered()
archive_staff = all_of(RoleIn(REGISTER_ROLES), level_covered)

loan_read_rule = any_of(
    borrower,
    all_of(
        level_covered,
        any_of(
            RoleIn(OVERSEERS),
            all_of(RoleIn(DEPT_HEADS), OwnDepartment(Loan.department_id)),  # the borrower's own head
            Related(Loan, _decided_or_heads_a_step),
        ),
    ),
)


def register() -> None:
    policy.register(Loan, "read", loan_read_rule)
    policy.register(Loan, "cancel", borrower)
    policy.register(Loan, "renew", borrower)
    policy.register(Loan, "issue", archive_staff)
    policy.register(Loan, "check_return", archive_staff)
    policy.register(Loan, "end_access", any_of(borrower, archive_staff))
    policy.register(None, "borrow", RoleIn(READING_ROLES))
    policy.register(None, "approve_loans", RoleIn(REGISTER_ROLES | DEPT_HEADS))  # has an inbox of steps
    policy.register(None, "loan_desk", RoleIn(REGISTER_ROLES))
    policy.register(None, "loan_statistics", RoleIn(OVERSEERS))
    policy.register(None, "register_consultation", RoleIn(REGISTER_ROLES))
    policy.register(Consultation, "read", all_of(RoleIn(OVERSEERS), Related(Consultation, _every_document_readable)))
