"""Loan fixtures: the people who borrow and approve, a clock the tests control, and short-cuts that go
through the real services (a request is built in the basket and submitted, approvals are real decisions)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from archive.audit.models import AuditEvent
from archive.auth.models import User
from archive.core.enums import Level, Role
from archive.extensions import db
from archive.loans import services
from archive.loans.models import Decision, Loan, LoanStep, LoanUse, StepKind

SHANGHAI = timezone(timedelta(hours=8))
# A Monday in 2026 before the National Day holiday (1–7 October, with Sunday 20 September and Saturday
# 10 October worked instead), 09:00 in Shanghai.
MONDAY = datetime(2026, 9, 28, 9, 0, tzinfo=SHANGHAI)


def local(y: int, m: int, d: int, hh: int = 0, mm: int = 0, ss: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, ss, tzinfo=SHANGHAI)


@pytest.fixture
def clock(time_machine):
    """The clock of the archive (and of every thread): Monday 28 September 2026, 09:00 in Shanghai, running.
    `clock.move_to(when)` jumps; time only moves forward in these tests (session cookies refuse the past)."""
    time_machine.move_to(MONDAY, tick=True)
    return time_machine


@dataclass
class Staff:
    """Approvers with full clearance: the archive (GMO), its head, and a head for each borrowing department."""

    archivist: User
    archive_head: User
    heads: dict[str, User]

    def decider(self, step: LoanStep) -> User:
        if step.kind is StepKind.ARCHIVE:
            return self.archivist
        if step.kind is StepKind.ARCHIVE_HEAD:
            return self.archive_head
        return self.heads[step.department.code]


@pytest.fixture
def staff(factory) -> Staff:
    heads = {code: factory.user(f"head-{code.lower()}", roles=(Role.DEPT_HEAD,), department=code, clearance=Level.A)
             for code in ("SALES", "CSC", "FIN")}
    return Staff(
        archivist=factory.user("gmo-archivist", roles=(Role.ARCHIVIST,), department="GMO", clearance=Level.A),
        archive_head=factory.user("gmo-head", roles=(Role.ARCHIVE_HEAD,), department="GMO", clearance=Level.A),
        heads=heads,
    )


@pytest.fixture
def borrower(factory) -> User:
    """A customer-service clerk: reads CSC's documents only, so borrows the others."""
    user = factory.user("csc-wang", roles=(Role.CLERK,), department="CSC", clearance=Level.B)
    user.display_name = "王小明"
    db.session.commit()
    return user


def request_loan(borrower: User, documents, *, use: LoanUse = LoanUse.VIEW, start: date | None = None,
                 days: int = 3, purpose: str = "核对业主押金退还情况") -> Loan:
    """Fill the basket with the documents and send it."""
    draft = services.add_documents(borrower, [d.id for d in documents])
    start = start or services.local_today()
    return services.submit(borrower, draft.id, purpose=purpose, use=use, start_date=start,
                           due_date=start + timedelta(days=days - 1))


def approve_all(loan: Loan, staff: Staff) -> Loan:
    for step in list(loan.steps):
        if step.decision is None:
            loan = services.decide(staff.decider(step), step.id, Decision.APPROVED)
    return loan


def audit_actions(prefix: str = "loan.") -> list[str]:
    return list(db.session.scalars(
        sa.select(AuditEvent.action).where(AuditEvent.action.startswith(prefix)).order_by(AuditEvent.seq)))
