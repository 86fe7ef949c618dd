"""Submitting, deciding and cancelling a loan request: each transition, each refusal, each audit event."""
from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from archive.audit.models import AuditEvent
from archive.core.enums import Level, Role
from archive.core.errors import AccessDenied, Conflict, NotFound, ValidationError
from archive.extensions import db
from archive.loans import services
from archive.loans.models import Decision, LoanStatus, LoanUse
from tests.loans.conftest import approve_all, audit_actions, local, request_loan


def submit(borrower, documents, start: date, due: date, use=LoanUse.VIEW):
    draft = services.add_documents(borrower, [d.id for d in documents])
    return services.submit(borrower, draft.id, purpose="办理房产证复核", use=use, start_date=start, due_date=due)


def test_submitting_numbers_the_request_and_records_it(clock, factory, staff, borrower):
    dossier = factory.dossier()
    documents = [factory.document(dossier, title="认购书"), factory.document(dossier, category="QY", title="买卖合同")]

    first = request_loan(borrower, documents[:1], use=LoanUse.READING_ROOM, days=5)
    second = request_loan(borrower, documents[1:])

    assert (first.number, second.number) == ("JY-2026-00001", "JY-2026-00002")
    assert first.status is LoanStatus.SUBMITTED and first.submitted_at is not None
    assert (first.start_date, first.due_date) == (date(2026, 9, 28), date(2026, 10, 2))
    assert first.use is LoanUse.READING_ROOM and first.level is Level.C
    assert first.department.code == "CSC" and first.purpose == "核对业主押金退还情况"
    assert first.starts_at is None  # the access window is set on approval
    event = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "loan.submit")
                               .order_by(AuditEvent.seq)).first()
    details = json.loads(event.details)
    assert event.actor_id == borrower.id and event.object_id == str(first.id)
    assert details["number"] == "JY-2026-00001" and details["documents"] == [documents[0].archive_number]
    assert details["steps"] == ["archive", "department_head:SALES"]
    assert [l.id for l in services.my_loans(borrower)] == [second.id, first.id]


def test_a_request_needs_a_purpose(clock, factory, staff, borrower):
    draft = services.add_documents(borrower, [factory.document(factory.dossier()).id])
    today = services.local_today()
    with pytest.raises(ValidationError, match="needed for"):
        services.submit(borrower, draft.id, purpose="  ", use=LoanUse.VIEW, start_date=today, due_date=today)


def test_only_the_borrower_submits_their_basket(clock, factory, staff, borrower):
    draft = services.add_documents(borrower, [factory.document(factory.dossier()).id])
    today = services.local_today()
    with pytest.raises(AccessDenied):
        services.submit(staff.archivist, draft.id, purpose="代办", use=LoanUse.VIEW, start_date=today, due_date=today)


def test_a_request_is_submitted_once(clock, factory, staff, borrower):
    loan = request_loan(borrower, [factory.document(factory.dossier())])
    today = services.local_today()
    with pytest.raises(Conflict, match="This loan was already"):
        services.submit(borrower, loan.id, purpose="再次", use=LoanUse.VIEW, start_date=today, due_date=today)


# Periods ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("level", [Level.C, Level.B])
def test_c_and_b_loans_run_at_most_fourteen_days(clock, factory, staff, borrower, level):
    start = date(2026, 9, 30)  # across the National Day holiday: calendar days count, holidays or not
    document = factory.document(factory.dossier(), level=level)

    with pytest.raises(ValidationError) as refused:
        submit(borrower, [document], start, start + timedelta(days=14))
    assert refused.value.details == {"days": 14, "date": "2026-10-13"}

    loan = services.submit(borrower, services.basket(borrower).id, purpose="查阅", use=LoanUse.VIEW,
                           start_date=start, due_date=date(2026, 10, 13))
    assert loan.status is LoanStatus.SUBMITTED


def test_a_level_loans_run_five_chinese_working_days_across_national_day(clock, factory, staff, factory_a_borrower):
    """From Wednesday 30 September 2026: the 30th, then 8, 9, 10 (a Saturday worked in lieu) and 12 October.
    Counting weekdays only would have ended on 6 October, in the middle of the holiday."""
    document = factory.document(factory.dossier(), level=Level.A, department="SALES")
    start = date(2026, 9, 30)

    with pytest.raises(ValidationError) as refused:
        submit(factory_a_borrower, [document], start, date(2026, 10, 13))
    assert refused.value.message.startswith("A request with A-level documents may run at most")
    assert refused.value.details == {"days": 5, "date": "2026-10-12"}

    loan = services.submit(factory_a_borrower, services.basket(factory_a_borrower).id, purpose="核查底价审批",
                           use=LoanUse.READING_ROOM, start_date=start, due_date=date(2026, 10, 12))
    assert loan.status is LoanStatus.SUBMITTED and loan.level is Level.A


def test_an_a_level_loan_starting_on_a_holiday_counts_from_the_next_working_day(clock, factory, staff,
                                                                                factory_a_borrower):
    document = factory.document(factory.dossier(), level=Level.A, department="SALES")
    with pytest.raises(ValidationError) as refused:
        submit(factory_a_borrower, [document], date(2026, 10, 3), date(2026, 10, 14))
    assert refused.value.details["date"] == "2026-10-13"  # 8, 9, 10, 12, 13 October


def test_a_loan_cannot_start_in_the_past_or_end_before_it_starts(clock, factory, staff, borrower):
    document = factory.document(factory.dossier())
    today = date(2026, 9, 28)
    with pytest.raises(ValidationError, match="cannot start in the past"):
        submit(borrower, [document], today - timedelta(days=1), today)
    with pytest.raises(ValidationError, match="cannot be before its first day"):
        services.submit(borrower, services.basket(borrower).id, purpose="查阅", use=LoanUse.VIEW,
                        start_date=today + timedelta(days=2), due_date=today + timedelta(days=1))


def test_today_is_the_archives_local_day(clock, factory, staff, borrower):
    """At 23:30 UTC on 28 September it is already 29 September in Shanghai: the 28th is in the past."""
    clock.move_to(local(2026, 9, 29, 7, 30))
    document = factory.document(factory.dossier())
    with pytest.raises(ValidationError, match="cannot start in the past"):
        submit(borrower, [document], date(2026, 9, 28), date(2026, 9, 30))


@pytest.fixture
def factory_a_borrower(factory):
    return factory.user("ca-zhou", roles=(Role.CLERK,), department="CA", clearance=Level.A)


# Decisions --------------------------------------------------------------------------------------------


def test_a_rejection_needs_a_reason_and_ends_the_request(clock, factory, staff, borrower):
    loan = request_loan(borrower, [factory.document(factory.dossier(), level=Level.B)])
    archive_step, sales_step = loan.steps

    with pytest.raises(ValidationError, match="reason for the rejection"):
        services.decide(staff.heads["SALES"], sales_step.id, Decision.REJECTED, "   ")
    assert services.get_loan(borrower, loan.id).status is LoanStatus.SUBMITTED

    loan = services.decide(staff.heads["SALES"], sales_step.id, Decision.REJECTED, "用途与本部门资料无关")

    assert loan.status is LoanStatus.REJECTED and loan.decided_at is not None
    assert sales_step.comment == "用途与本部门资料无关" and sales_step.decided_by_id == staff.heads["SALES"].id
    assert archive_step.decision is None  # the other steps stay undecided
    with pytest.raises(Conflict, match="This loan was already"):
        services.decide(staff.archivist, archive_step.id, Decision.APPROVED)
    assert audit_actions() == ["loan.submit", "loan.reject"]


def test_approval_opens_electronic_access_for_the_loan_period(clock, factory, staff, borrower):
    loan = request_loan(borrower, [factory.document(factory.dossier())], days=3)
    loan = approve_all(loan, staff)

    assert loan.status is LoanStatus.ISSUED and loan.issued_by_id is None
    assert loan.starts_at == local(2026, 9, 28) and loan.ends_at == local(2026, 10, 1)
    assert audit_actions() == ["loan.submit", "loan.approve_step", "loan.approve_step", "loan.approve", "loan.issue"]


def test_a_paper_loan_waits_for_the_archive_to_issue_it(clock, factory, staff, borrower):
    loan = approve_all(request_loan(borrower, [factory.document(factory.dossier())], use=LoanUse.TAKE_OUT), staff)
    assert loan.status is LoanStatus.APPROVED and loan.issued_at is None
    assert loan.ends_at == local(2026, 10, 1)


def test_a_step_is_decided_once(clock, factory, staff, borrower):
    loan = request_loan(borrower, [factory.document(factory.dossier())])
    second_archivist = factory.user("gmo-qian", roles=(Role.ARCHIVIST,), department="GMO", clearance=Level.B)
    services.decide(staff.archivist, loan.steps[0].id, Decision.APPROVED)
    with pytest.raises(Conflict, match="This step was already decided"):
        services.decide(second_archivist, loan.steps[0].id, Decision.REJECTED, "不同意")
    assert services.get_loan(borrower, loan.id).steps[0].decided_by_id == staff.archivist.id


def test_a_request_whose_period_passed_can_no_longer_be_approved(clock, factory, staff, borrower):
    loan = request_loan(borrower, [factory.document(factory.dossier())], days=2)
    clock.move_to(local(2026, 9, 30, 8, 0))
    with pytest.raises(ValidationError, match="period of this request is over"):
        services.decide(staff.archivist, loan.steps[0].id, Decision.APPROVED)
    rejected = services.decide(staff.archivist, loan.steps[0].id, Decision.REJECTED, "已过期")
    assert rejected.status is LoanStatus.REJECTED


def test_deciding_an_unknown_step_finds_nothing(clock, staff):
    with pytest.raises(NotFound):
        services.decide(staff.archivist, 424242, Decision.APPROVED)


# Cancelling -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("approved", [False, True], ids=["submitted", "approved"])
def test_the_borrower_cancels_a_request_not_yet_issued(clock, factory, staff, borrower, approved):
    loan = request_loan(borrower, [factory.document(factory.dossier())], use=LoanUse.READING_ROOM)
    if approved:
        loan = approve_all(loan, staff)
    loan = services.cancel(borrower, loan.id)
    assert loan.status is LoanStatus.CANCELLED and loan.closed_by_id == borrower.id and loan.closed_at
    assert audit_actions()[-1] == "loan.cancel"
    with pytest.raises(Conflict):
        services.issue(staff.archivist, loan.id)


def test_a_cancelled_request_cannot_be_decided(clock, factory, staff, borrower):
    loan = request_loan(borrower, [factory.document(factory.dossier())])
    services.cancel(borrower, loan.id)
    with pytest.raises(Conflict, match="This loan was already"):
        services.decide(staff.archivist, loan.steps[0].id, Decision.APPROVED)


def test_an_issued_loan_cannot_be_cancelled(clock, factory, staff, borrower):
    loan = approve_all(request_loan(borrower, [factory.document(factory.dossier())]), staff)
    with pytest.raises(Conflict, match="This loan was already"):
        services.cancel(borrower, loan.id)


def test_only_the_borrower_cancels(clock, factory, staff, borrower):
    loan = request_loan(borrower, [factory.document(factory.dossier())])
    with pytest.raises(AccessDenied):
        services.cancel(staff.archivist, loan.id)  # sees the loan, may not withdraw it
    stranger = factory.user("fin-qin", roles=(Role.CLERK,), department="FIN")
    with pytest.raises(AccessDenied):
        services.cancel(stranger, loan.id)
    assert services.get_loan(borrower, loan.id).status is LoanStatus.SUBMITTED


# Who sees a loan --------------------------------------------------------------------------------------


def test_who_sees_a_loan(clock, factory, staff, borrower):
    loan = request_loan(borrower, [factory.document(factory.dossier(), level=Level.B, department="SALES")])
    compliance = factory.user("audit-he", roles=(Role.COMPLIANCE,), department="GMO", clearance=Level.B)
    low_compliance = factory.user("audit-lu", roles=(Role.COMPLIANCE,), department="GMO", clearance=Level.C)
    c_archivist = factory.user("gmo-c", roles=(Role.ARCHIVIST,), department="GMO", clearance=Level.C)
    colleague = factory.user("csc-li", roles=(Role.CLERK,), department="CSC", clearance=Level.A)
    admin = factory.user("admin-z", roles=(Role.ADMIN,), department="GMO", clearance=Level.A)

    visible = [borrower, staff.archivist, staff.archive_head, staff.heads["CSC"], staff.heads["SALES"], compliance]
    for user in visible:
        assert services.get_loan(user, loan.id).id == loan.id, user.username
    for user in (staff.heads["FIN"], colleague, low_compliance, c_archivist, admin):
        with pytest.raises(AccessDenied):  # shown as "not found", like a loan that does not exist
            services.get_loan(user, loan.id)
    with pytest.raises(NotFound):
        services.get_loan(borrower, loan.id + 1000)
