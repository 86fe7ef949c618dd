"""The archivist's desk (to issue, due back today, overdue, out) and the loan statistics."""
from __future__ import annotations

from datetime import date

import pytest

from archive.core.enums import Level, Role
from archive.core.errors import AccessDenied, ValidationError
from archive.core.permissions import policy
from archive.loans import services
from archive.loans.models import Decision, LoanUse
from tests.loans.conftest import approve_all, local, request_loan


def ids(loans) -> list[int]:
    return [loan.id for loan in loans]


def test_the_desk_shows_paper_loans_to_issue_due_today_and_overdue(clock, factory, staff, borrower):
    dossier = factory.dossier()
    docs = [factory.document(dossier, category=c) for c in ("XS", "QY", "BZ", "RH")]
    due_today = services.issue(staff.archivist, approve_all(
        request_loan(borrower, docs[:1], use=LoanUse.READING_ROOM, days=1), staff).id)
    out = services.issue(staff.archivist, approve_all(
        request_loan(borrower, docs[1:2], use=LoanUse.TAKE_OUT, days=3), staff).id)
    to_issue = approve_all(request_loan(borrower, docs[2:3], use=LoanUse.READING_ROOM, days=3), staff)
    approve_all(request_loan(borrower, docs[3:4], use=LoanUse.VIEW), staff)  # electronic: not for the desk
    request_loan(borrower, docs[3:4], use=LoanUse.READING_ROOM)  # still waiting for approval

    desk = services.desk(staff.archivist)
    assert ids(desk.to_issue) == [to_issue.id]
    assert ids(desk.due_today) == [due_today.id]
    assert desk.overdue == []
    assert ids(desk.out) == [due_today.id, out.id]

    clock.move_to(local(2026, 9, 29, 9, 0))  # the first loan ran out at midnight; the sweep has not run
    desk = services.desk(staff.archivist)
    assert ids(desk.overdue) == [due_today.id] and desk.due_today == []
    services.sweep()
    assert ids(services.desk(staff.archivist).overdue) == [due_today.id]


def test_the_desk_is_the_archives_and_within_clearance(clock, factory, staff, borrower):
    loan = approve_all(request_loan(borrower, [factory.document(factory.dossier(), level=Level.B)],
                                    use=LoanUse.READING_ROOM), staff)
    c_archivist = factory.user("gmo-c4", roles=(Role.ARCHIVIST,), department="GMO", clearance=Level.C)
    assert ids(services.desk(staff.archive_head).to_issue) == [loan.id]
    assert services.desk(c_archivist).to_issue == []
    with pytest.raises(AccessDenied):
        services.desk(staff.heads["CSC"])


def row(stats, department, level):
    (found,) = [r for r in stats.rows if r.department.code == department and r.level is level]
    return (found.requested, found.approved, found.rejected, found.overdue, found.hours_to_decision,
            found.hours_to_issue)


def test_statistics_per_department_and_level_with_turnaround_and_overdue(clock, factory, staff, borrower):
    sales_clerk = factory.user("sales-stat", roles=(Role.CLERK,), department="SALES", clearance=Level.A)
    dossier = factory.dossier()
    viewed = request_loan(borrower, [factory.document(dossier, title="认购书")], days=3)
    refused = request_loan(borrower, [factory.document(dossier, level=Level.B, category="QY")])
    paper = request_loan(borrower, [factory.document(dossier, category="BZ")], use=LoanUse.READING_ROOM, days=1)
    secret = request_loan(sales_clerk, [factory.document(dossier, level=Level.A, category="QT")], days=2)

    clock.move_to(local(2026, 9, 28, 11, 0))  # two hours later
    approve_all(viewed, staff)
    services.decide(staff.archivist, refused.steps[0].id, Decision.REJECTED, "与业务无关")
    approve_all(paper, staff)
    clock.move_to(local(2026, 9, 28, 13, 0))  # four hours after the requests
    services.issue(staff.archivist, paper.id)
    approve_all(secret, staff)
    clock.move_to(local(2026, 9, 29, 9, 0))
    services.sweep()  # the paper loan is overdue

    stats = services.statistics(staff.archive_head, date(2026, 9, 28), date(2026, 9, 28))

    assert [(r.department.code, r.level) for r in stats.rows] == [("CSC", Level.C), ("CSC", Level.B),
                                                                    ("SALES", Level.A)]
    # requested, approved, rejected, overdue, hours to the decision, hours to issue
    assert row(stats, "CSC", Level.C) == (2, 2, 0, 1, 2.0, 3.0)
    assert row(stats, "CSC", Level.B) == (1, 0, 1, 0, 2.0, None)
    assert row(stats, "SALES", Level.A) == (1, 1, 0, 0, 4.0, 4.0)
    total = stats.total
    assert (total.requested, total.approved, total.rejected, total.overdue) == (4, 3, 1, 1)
    assert (total.hours_to_decision, total.hours_to_issue) == (2.5, 3.3)
    assert stats.overdue_now == 1

    # A compliance officer cleared for B does not count the A-level loan; another period counts nothing.
    b_compliance = factory.user("audit-stat", roles=(Role.COMPLIANCE,), department="GMO", clearance=Level.B)
    limited = services.statistics(b_compliance, date(2026, 9, 28), date(2026, 9, 28))
    assert [(r.department.code, r.level) for r in limited.rows] == [("CSC", Level.C), ("CSC", Level.B)]
    assert limited.total.requested == 3
    assert services.statistics(staff.archive_head, date(2026, 9, 29), date(2026, 9, 30)).rows == []


def test_statistics_are_for_the_archive_and_compliance(clock, factory, staff):
    with pytest.raises(AccessDenied):
        services.statistics(staff.heads["SALES"], date(2026, 9, 1), date(2026, 9, 30))
    with pytest.raises(ValidationError, match="ends before it starts"):
        services.statistics(staff.archivist, date(2026, 9, 30), date(2026, 9, 1))


LOAN_ACTIONS = ("borrow", "approve_loans", "loan_desk", "loan_statistics", "register_consultation")
ARCHIVE_ACTIONS = set(LOAN_ACTIONS)


@pytest.mark.parametrize("role,allowed", [
    (Role.CLERK, {"borrow"}),
    (Role.DEPT_HEAD, {"borrow", "approve_loans"}),
    (Role.ARCHIVIST, ARCHIVE_ACTIONS),
    (Role.ARCHIVE_HEAD, ARCHIVE_ACTIONS),
    (Role.COMPLIANCE, {"borrow", "loan_statistics"}),
    (Role.ADMIN, set()),  # 三员分立: the administrator neither borrows nor approves
], ids=lambda v: getattr(v, "value", ""))
def test_what_each_role_may_do_with_loans(factory, role, allowed):
    user = factory.user(f"role-{role.value.replace('_', '-')}", roles=(role,), department="GMO", clearance=Level.A)
    assert {action for action in LOAN_ACTIONS if policy.can(user, action)} == allowed
