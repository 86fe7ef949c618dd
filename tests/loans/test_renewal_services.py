"""Renewal is a new approval: a new request for what is still out; the loan runs on until it is approved."""
from __future__ import annotations

from datetime import date

import pytest

from archive.core.enums import Level, Role
from archive.core.errors import AccessDenied, Conflict, ValidationError
from archive.core.permissions import policy
from archive.documents.models import Document
from archive.extensions import db
from archive.loans import services
from archive.loans.models import Decision, ItemState, LoanStatus, LoanUse
from archive.loans.services import ItemCheck
from tests.factories import make_pdf
from tests.loans.conftest import approve_all, audit_actions, local, request_loan


@pytest.fixture
def out_on_paper(clock, factory, staff, borrower):
    """A take-out loan of two documents, issued, then one of them brought back."""
    dossier = factory.dossier()
    kept = factory.document(dossier, category="QY", title="房地产买卖合同", content=make_pdf("合同", pages=4))
    back = factory.document(dossier, category="BZ", title="契税收据", content=make_pdf("收据", pages=1))
    loan = approve_all(request_loan(borrower, [kept, back], use=LoanUse.TAKE_OUT, days=3), staff)
    loan = services.issue(staff.archivist, loan.id, {i.id: i.document.page_count for i in loan.items})
    returned = next(i for i in loan.items if i.document_id == back.id)
    return services.check_return(staff.archivist, loan.id, {returned.id: ItemCheck(ItemState.RETURNED, 1)})


def test_a_renewal_is_a_new_request_for_what_is_still_out(out_on_paper, staff, borrower):
    clock_day = services.local_today()

    renewal = services.request_renewal(borrower, out_on_paper.id, due_date=date(2026, 10, 9), purpose="案件尚未结束")

    assert renewal.id != out_on_paper.id and renewal.renews_id == out_on_paper.id
    assert renewal.status is LoanStatus.SUBMITTED and renewal.number == "JY-2026-00002"
    assert (renewal.start_date, renewal.due_date, renewal.use) == (clock_day, date(2026, 10, 9), LoanUse.TAKE_OUT)
    assert [i.document.title for i in renewal.items] == ["房地产买卖合同"]
    assert [(s.kind.value, s.reason.value) for s in renewal.steps] == [
        ("archive", "every_loan"), ("department_head", "cross_department")]
    assert services.get_loan(borrower, out_on_paper.id).status is LoanStatus.ISSUED  # runs on meanwhile
    assert audit_actions()[-1] == "loan.renew_request"
    with pytest.raises(Conflict, match="already waiting for approval"):
        services.request_renewal(borrower, out_on_paper.id, due_date=date(2026, 10, 8), purpose="再次续借")


def test_an_approved_renewal_takes_over_the_items_out(out_on_paper, staff, borrower):
    renewal = services.request_renewal(borrower, out_on_paper.id, due_date=date(2026, 10, 9), purpose="案件尚未结束")

    renewal = approve_all(renewal, staff)

    old = services.get_loan(borrower, out_on_paper.id)
    assert old.status is LoanStatus.RENEWED and old.closed_at is not None
    assert renewal.status is LoanStatus.ISSUED and renewal.issued_at is not None
    (item,) = renewal.items
    assert (item.state, item.pages_issued) == (ItemState.OUT, 4)
    assert renewal.ends_at == local(2026, 10, 10)
    assert audit_actions()[-3:] == ["loan.approve", "loan.renew", "loan.issue"]
    # The renewal is checked back like the loan it replaced.
    renewal = services.check_return(staff.archivist, renewal.id, {item.id: ItemCheck(ItemState.RETURNED, 4)})
    assert renewal.status is LoanStatus.RETURNED


def test_a_rejected_renewal_leaves_the_loan_as_it_was(out_on_paper, staff, borrower):
    renewal = services.request_renewal(borrower, out_on_paper.id, due_date=date(2026, 10, 9), purpose="案件尚未结束")
    services.decide(staff.archivist, renewal.steps[0].id, Decision.REJECTED, "请先归还再申请")

    old = services.get_loan(borrower, out_on_paper.id)
    assert old.status is LoanStatus.ISSUED and old.due_date == date(2026, 9, 30)
    # Rejected, so another renewal may be asked for.
    again = services.request_renewal(borrower, out_on_paper.id, due_date=date(2026, 10, 5), purpose="补充说明")
    assert again.status is LoanStatus.SUBMITTED


def test_items_returned_while_the_renewal_waits_are_not_carried_on(clock, factory, staff, borrower):
    dossier = factory.dossier()
    docs = [factory.document(dossier, category="QY", content=make_pdf("甲", pages=2)),
            factory.document(dossier, category="BZ", content=make_pdf("乙", pages=3))]
    loan = approve_all(request_loan(borrower, docs, use=LoanUse.READING_ROOM), staff)
    loan = services.issue(staff.archivist, loan.id)
    renewal = services.request_renewal(borrower, loan.id, due_date=date(2026, 10, 9), purpose="仍需核对")
    first = next(i for i in loan.items if i.document_id == docs[0].id)
    services.check_return(staff.archivist, loan.id, {first.id: ItemCheck(ItemState.RETURNED, 2)})

    renewal = approve_all(renewal, staff)

    assert [(i.document_id, i.state, i.pages_issued) for i in renewal.items] == [(docs[1].id, ItemState.OUT, 3)]


def test_a_renewal_of_a_loan_already_back_waits_to_be_issued(clock, factory, staff, borrower):
    loan = approve_all(request_loan(borrower, [factory.document(factory.dossier(), content=make_pdf("丙", pages=2))],
                                    use=LoanUse.READING_ROOM), staff)
    loan = services.issue(staff.archivist, loan.id)
    renewal = services.request_renewal(borrower, loan.id, due_date=date(2026, 10, 9), purpose="仍需核对")
    services.check_return(staff.archivist, loan.id, {loan.items[0].id: ItemCheck(ItemState.RETURNED, 2)})

    renewal = approve_all(renewal, staff)

    assert services.get_loan(borrower, loan.id).status is LoanStatus.RETURNED
    assert renewal.status is LoanStatus.APPROVED and renewal.items[0].state is ItemState.WAITING


def test_an_electronic_renewal_keeps_access_open_past_the_old_end(clock, factory, staff, borrower):
    document = factory.document(factory.dossier())
    loan = approve_all(request_loan(borrower, [document], days=3), staff)
    renewal = approve_all(services.request_renewal(borrower, loan.id, due_date=date(2026, 10, 8),
                                                   purpose="继续核对"), staff)
    assert services.get_loan(borrower, loan.id).status is LoanStatus.RENEWED

    clock.move_to(local(2026, 10, 5, 10, 0))
    assert policy.can(borrower, "read", db.session.get(Document, document.id))
    assert [l.id for l in services.active_loans_for(borrower, document)] == [renewal.id]


def test_renewal_caps_count_from_today(clock, factory, staff, borrower):
    loan = approve_all(request_loan(borrower, [factory.document(factory.dossier())], days=3), staff)
    clock.move_to(local(2026, 9, 30, 9, 0))
    with pytest.raises(ValidationError) as refused:
        services.request_renewal(borrower, loan.id, due_date=date(2026, 10, 14), purpose="继续")
    assert refused.value.details["date"] == "2026-10-13"  # 14 days from 30 September
    assert services.request_renewal(borrower, loan.id, due_date=date(2026, 10, 13), purpose="继续").due_date == \
        date(2026, 10, 13)


def test_a_renewal_must_run_longer_and_say_why(out_on_paper, borrower):
    with pytest.raises(ValidationError, match="must end after the current due date"):
        services.request_renewal(borrower, out_on_paper.id, due_date=date(2026, 9, 30), purpose="继续")
    with pytest.raises(ValidationError, match="run longer"):
        services.request_renewal(borrower, out_on_paper.id, due_date=date(2026, 10, 5), purpose=" ")


def test_only_the_borrower_renews_and_only_a_loan_that_is_out(clock, factory, staff, borrower, out_on_paper):
    with pytest.raises(AccessDenied):
        services.request_renewal(staff.archivist, out_on_paper.id, due_date=date(2026, 10, 5), purpose="代为续借")
    waiting = request_loan(borrower, [factory.document(factory.dossier())], use=LoanUse.READING_ROOM)
    with pytest.raises(Conflict, match="This loan was already"):
        services.request_renewal(borrower, waiting.id, due_date=date(2026, 10, 5), purpose="续借")


def test_an_a_level_renewal_is_capped_at_five_working_days(clock, factory, staff):
    a_borrower = factory.user("ca-feng", roles=(Role.CLERK,), department="CA", clearance=Level.A)
    loan = request_loan(a_borrower, [factory.document(factory.dossier(), level=Level.A)], days=2)
    loan = approve_all(loan, staff)
    clock.move_to(local(2026, 9, 29, 9, 0))
    with pytest.raises(ValidationError) as refused:
        services.request_renewal(a_borrower, loan.id, due_date=date(2026, 10, 12), purpose="继续")
    # 29 and 30 September, 8, 9 and 10 October (a Saturday worked in lieu of the holiday)
    assert refused.value.details == {"days": 5, "date": "2026-10-10"}
