"""Two people acting on one loan at the same moment get one consistent outcome.

Each decision runs in a thread of its own, with its own app context and database connection, released
together by a barrier: real parallel transactions (on PostgreSQL, each waits for the other's row lock; on
SQLite, for the write lock). Every race is run several times.
"""
from __future__ import annotations

import threading
from collections import Counter

import pytest

from archive.auth.models import User
from archive.core.enums import Level, Role
from archive.core.errors import Conflict
from archive.extensions import db
from archive.loans import services
from archive.loans.models import Decision, Loan, LoanStatus, LoanUse
from tests.loans.conftest import approve_all, audit_actions, request_loan

ROUNDS = 8


def at_once(app, calls):
    """Run each (user id, function) in its own thread and transaction, all released at the same moment;
    returns what each returned, or the error it raised."""
    db.session.commit()  # SQLite: a transaction left open here would hold the write lock the threads need
    start = threading.Barrier(len(calls))
    results: list[object] = [None] * len(calls)

    def run(index: int, user_id: int, action) -> None:
        with app.app_context():
            try:
                user = db.session.get(User, user_id)
                db.session.commit()
                start.wait(timeout=30)
                results[index] = action(user)
            except Exception as exc:  # noqa: BLE001 — the outcome under test
                results[index] = exc
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i, user_id, action)) for i, (user_id, action) in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a decision hung"
    db.session.expire_all()
    return results


def decide(step_id: int, decision: Decision, comment: str = ""):
    return lambda user: services.decide(user, step_id, decision, comment)


@pytest.fixture
def a_level_request(clock, factory, staff):
    """A CA clerk's requests for an A-level SALES document: archive, SALES head and archive head decide."""
    borrower = factory.user("ca-race", roles=(Role.CLERK,), department="CA", clearance=Level.A)
    dossier = factory.dossier()

    def make(n: int) -> Loan:
        document = factory.document(dossier, level=Level.A, title=f"底价审批 {n}")
        loan = request_loan(borrower, [document], days=2)
        services.decide(staff.archivist, loan.steps[0].id, Decision.APPROVED)  # the last two steps remain
        return loan

    return make


def test_an_approval_and_a_rejection_of_the_last_two_steps_at_once(a_level_request, app, staff):
    outcomes = Counter()
    for n in range(ROUNDS):
        loan = a_level_request(n)
        _archive, sales_step, head_step = loan.steps
        approver, rejecter = at_once(app, [
            (staff.heads["SALES"].id, decide(sales_step.id, Decision.APPROVED)),
            (staff.archive_head.id, decide(head_step.id, Decision.REJECTED, "不同意外借核心商密")),
        ])

        loan = db.session.get(Loan, loan.id)
        decisions = [s.decision for s in loan.steps]
        # The rejection always lands: either first, or after an approval that did not finish the chain.
        assert isinstance(rejecter, Loan), rejecter
        assert loan.status is LoanStatus.REJECTED
        if isinstance(approver, Loan):  # the approval came first: one approval and one rejection
            assert decisions == [Decision.APPROVED, Decision.APPROVED, Decision.REJECTED]
            outcomes["approved, then rejected"] += 1
        else:  # the rejection came first: the approval is refused and its step stays undecided
            assert isinstance(approver, Conflict), approver
            assert decisions == [Decision.APPROVED, None, Decision.REJECTED]
            outcomes["rejected first"] += 1
        assert loan.issued_at is None and loan.starts_at is None
    assert sum(outcomes.values()) == ROUNDS
    assert audit_actions().count("loan.reject") == ROUNDS and "loan.approve" not in audit_actions()


def test_two_approvals_of_the_last_two_steps_at_once_approve_the_loan_once(a_level_request, app, staff):
    """Each transaction alone sees the other step still open: without the loan lock, neither would approve
    the loan and it would wait for ever with every step approved."""
    for n in range(ROUNDS):
        loan = a_level_request(n)
        _archive, sales_step, head_step = loan.steps
        results = at_once(app, [
            (staff.heads["SALES"].id, decide(sales_step.id, Decision.APPROVED)),
            (staff.archive_head.id, decide(head_step.id, Decision.APPROVED)),
        ])

        assert all(isinstance(r, Loan) for r in results), results
        loan = db.session.get(Loan, loan.id)
        assert [s.decision for s in loan.steps] == [Decision.APPROVED] * 3
        assert loan.status is LoanStatus.ISSUED and loan.issued_at is not None
    assert audit_actions().count("loan.approve") == ROUNDS and audit_actions().count("loan.issue") == ROUNDS


def test_an_approval_and_a_rejection_of_the_same_last_step_at_once(clock, app, factory, staff, borrower):
    """Two archivists on the archive's step, the other step approved: one decision wins, never both."""
    second_archivist = factory.user("gmo-race", roles=(Role.ARCHIVIST,), department="GMO", clearance=Level.A)
    dossier = factory.dossier()
    outcomes = Counter()
    for n in range(ROUNDS):
        loan = request_loan(borrower, [factory.document(dossier, title=f"认购书 {n}")])
        archive_step, sales_step = loan.steps
        services.decide(staff.heads["SALES"], sales_step.id, Decision.APPROVED)

        approver, rejecter = at_once(app, [
            (staff.archivist.id, decide(archive_step.id, Decision.APPROVED)),
            (second_archivist.id, decide(archive_step.id, Decision.REJECTED, "资料不全")),
        ])

        loan = db.session.get(Loan, loan.id)
        step = loan.steps[0]
        winners = [r for r in (approver, rejecter) if isinstance(r, Loan)]
        assert len(winners) == 1 and any(isinstance(r, Conflict) for r in (approver, rejecter))
        if isinstance(approver, Loan):
            assert (loan.status, step.decision, step.decided_by_id) == (
                LoanStatus.ISSUED, Decision.APPROVED, staff.archivist.id)
            outcomes["approved"] += 1
        else:
            assert (loan.status, step.decision, step.decided_by_id) == (
                LoanStatus.REJECTED, Decision.REJECTED, second_archivist.id)
            assert loan.issued_at is None
            outcomes["rejected"] += 1
    assert sum(outcomes.values()) == ROUNDS


def test_two_archivists_issuing_the_same_loan_at_once(clock, app, factory, staff, borrower):
    second_archivist = factory.user("gmo-desk", roles=(Role.ARCHIVIST,), department="GMO", clearance=Level.A)
    dossier = factory.dossier()
    for n in range(ROUNDS):
        loan = approve_all(request_loan(borrower, [factory.document(dossier, title=f"合同 {n}")],
                                        use=LoanUse.READING_ROOM), staff)
        results = at_once(app, [
            (staff.archivist.id, lambda user, loan_id=loan.id: services.issue(user, loan_id)),
            (second_archivist.id, lambda user, loan_id=loan.id: services.issue(user, loan_id)),
        ])

        issued = [r for r in results if isinstance(r, Loan)]
        refused = [r for r in results if isinstance(r, Conflict)]
        assert (len(issued), len(refused)) == (1, 1), results
        loan = db.session.get(Loan, loan.id)
        assert loan.status is LoanStatus.ISSUED
        assert loan.issued_by_id in (staff.archivist.id, second_archivist.id)
    assert audit_actions().count("loan.issue") == ROUNDS
