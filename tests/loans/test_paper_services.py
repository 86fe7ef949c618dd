"""Paper loans: the archive issues each item with its page count and checks it back; a missing or damaged
item keeps the loan open. Electronic loans are ended, not handed back."""
from __future__ import annotations

import pytest

from archive.core.enums import Level, Role
from archive.core.errors import AccessDenied, Conflict, ValidationError
from archive.loans import services
from archive.loans.models import ItemState, LoanStatus, LoanUse
from archive.loans.services import ItemCheck
from tests.factories import make_pdf
from tests.loans.conftest import approve_all, audit_actions, local, request_loan


@pytest.fixture
def paper_loan(clock, factory, staff, borrower):
    """An approved reading-room loan of a 3-page contract and a 2-page receipt."""
    dossier = factory.dossier()
    contract = factory.document(dossier, category="QY", title="房地产买卖合同", content=make_pdf("买卖合同", pages=3))
    receipt = factory.document(dossier, category="BZ", title="契税收据", content=make_pdf("契税", pages=2))
    return approve_all(request_loan(borrower, [contract, receipt], use=LoanUse.READING_ROOM, days=5), staff)


def items_by_title(loan):
    return {item.document.title: item for item in loan.items}


def test_issuing_hands_out_every_item_with_its_page_count(paper_loan, staff):
    contract = items_by_title(paper_loan)["房地产买卖合同"]

    loan = services.issue(staff.archivist, paper_loan.id, {contract.id: 4})  # one page more than filed

    items = items_by_title(loan)
    assert loan.status is LoanStatus.ISSUED and loan.issued_by_id == staff.archivist.id and loan.issued_at
    assert {t: (i.state, i.pages_issued) for t, i in items.items()} == {
        "房地产买卖合同": (ItemState.OUT, 4), "契税收据": (ItemState.OUT, 2)}
    assert audit_actions()[-1] == "loan.issue"


def test_issuing_twice_is_refused(paper_loan, staff):
    services.issue(staff.archivist, paper_loan.id)
    with pytest.raises(Conflict, match="This loan was already"):
        services.issue(staff.archive_head, paper_loan.id)


def test_only_the_archive_issues_and_takes_back(paper_loan, staff, borrower, factory):
    with pytest.raises(AccessDenied):
        services.issue(borrower, paper_loan.id)
    with pytest.raises(AccessDenied):
        services.issue(staff.heads["SALES"], paper_loan.id)  # approved a step, still not the archive
    with pytest.raises(AccessDenied):
        services.issue(factory.user("fin-x", roles=(Role.CLERK,), department="FIN"), paper_loan.id)
    loan = services.issue(staff.archivist, paper_loan.id)
    checks = {i.id: ItemCheck(ItemState.RETURNED, i.pages_issued) for i in loan.items}
    with pytest.raises(AccessDenied):
        services.check_return(borrower, loan.id, checks)


def test_a_loan_is_not_issued_before_its_first_day_nor_after_its_last(clock, factory, staff, borrower):
    from datetime import date

    loan = request_loan(borrower, [factory.document(factory.dossier())], use=LoanUse.TAKE_OUT,
                        start=date(2026, 9, 30), days=1)
    loan = approve_all(loan, staff)
    with pytest.raises(ValidationError, match="cannot be issued before"):
        services.issue(staff.archivist, loan.id)
    clock.move_to(local(2026, 10, 1, 0, 0, 1))
    with pytest.raises(ValidationError, match="can no longer be issued"):
        services.issue(staff.archivist, loan.id)


def test_page_counts_must_be_for_items_of_the_loan_and_not_negative(paper_loan, staff):
    item = paper_loan.items[0]
    with pytest.raises(ValidationError, match="not part of this loan"):
        services.issue(staff.archivist, paper_loan.id, {999999: 3})
    with pytest.raises(ValidationError, match="whole numbers"):
        services.issue(staff.archivist, paper_loan.id, {item.id: -1})


def test_an_electronic_loan_has_nothing_to_issue_or_check_back(clock, factory, staff, borrower):
    loan = approve_all(request_loan(borrower, [factory.document(factory.dossier())]), staff)
    with pytest.raises(Conflict):
        services.issue(staff.archivist, loan.id)  # already issued when approved
    with pytest.raises(ValidationError, match="nothing to hand back"):
        services.check_return(staff.archivist, loan.id, {loan.items[0].id: ItemCheck(ItemState.RETURNED, 1)})


def test_a_complete_return_closes_the_loan(paper_loan, staff):
    loan = services.issue(staff.archivist, paper_loan.id)
    checks = {i.id: ItemCheck(ItemState.RETURNED, i.pages_issued) for i in loan.items}

    loan = services.check_return(staff.archive_head, loan.id, checks)

    assert loan.status is LoanStatus.RETURNED and loan.closed_by_id == staff.archive_head.id and loan.closed_at
    assert all(i.state is ItemState.RETURNED and i.pages_returned == i.pages_issued and i.returned_at
               and i.checked_by_id == staff.archive_head.id for i in loan.items)
    assert audit_actions()[-3:] == ["loan.return_item", "loan.return_item", "loan.return"]
    with pytest.raises(Conflict):
        services.check_return(staff.archive_head, loan.id, checks)


def test_a_page_count_that_does_not_match_is_refused(paper_loan, staff):
    loan = services.issue(staff.archivist, paper_loan.id)
    contract = items_by_title(loan)["房地产买卖合同"]

    with pytest.raises(ValidationError) as refused:
        services.check_return(staff.archivist, loan.id, {contract.id: ItemCheck(ItemState.RETURNED, 2)})
    assert refused.value.details["returned"] == 2 and refused.value.details["issued"] == 3
    with pytest.raises(ValidationError):
        services.check_return(staff.archivist, loan.id, {contract.id: ItemCheck(ItemState.RETURNED, None)})
    assert items_by_title(services.get_loan(staff.archivist, loan.id))["房地产买卖合同"].state is ItemState.OUT


def test_missing_and_damaged_items_need_a_note_and_keep_the_loan_open(paper_loan, staff):
    loan = services.issue(staff.archivist, paper_loan.id)
    items = items_by_title(loan)
    contract, receipt = items["房地产买卖合同"], items["契税收据"]

    with pytest.raises(ValidationError, match="say what is damaged or missing"):
        services.check_return(staff.archivist, loan.id, {receipt.id: ItemCheck(ItemState.MISSING)})
    with pytest.raises(ValidationError, match="returned, damaged or missing"):
        services.check_return(staff.archivist, loan.id, {receipt.id: ItemCheck(ItemState.OUT, 2)})

    loan = services.check_return(staff.archivist, loan.id, {
        contract.id: ItemCheck(ItemState.DAMAGED, 3, "第2页撕裂"),
        receipt.id: ItemCheck(ItemState.MISSING, None, "借阅人称遗失，正在查找"),
    })

    assert loan.status is LoanStatus.ISSUED and loan.closed_at is None
    assert contract.state is ItemState.DAMAGED and contract.pages_returned == 3 and contract.returned_at
    assert receipt.state is ItemState.MISSING and receipt.returned_at is None
    assert "第2页撕裂" in loan.note and "借阅人称遗失，正在查找" in loan.note
    assert "missing" in loan.note and receipt.document.archive_number in loan.note

    # The receipt turns up, the damaged contract is accepted back as it is: the loan closes.
    loan = services.check_return(staff.archivist, loan.id, {
        receipt.id: ItemCheck(ItemState.RETURNED, 2), contract.id: ItemCheck(ItemState.RETURNED, 3, "已修补")})
    assert loan.status is LoanStatus.RETURNED and loan.note == ""


def test_a_return_checks_at_least_one_item_of_this_loan(paper_loan, staff):
    loan = services.issue(staff.archivist, paper_loan.id)
    with pytest.raises(ValidationError, match="at least one item"):
        services.check_return(staff.archivist, loan.id, {})
    with pytest.raises(ValidationError, match="not part of this loan"):
        services.check_return(staff.archivist, loan.id, {123456: ItemCheck(ItemState.RETURNED, 1)})


def test_checking_back_before_issue_is_refused(paper_loan, staff):
    item = paper_loan.items[0]
    with pytest.raises(Conflict, match="This loan was already"):
        services.check_return(staff.archivist, paper_loan.id, {item.id: ItemCheck(ItemState.RETURNED, 3)})


def test_a_returned_item_is_not_checked_again(paper_loan, staff):
    loan = services.issue(staff.archivist, paper_loan.id)
    contract = items_by_title(loan)["房地产买卖合同"]
    services.check_return(staff.archivist, loan.id, {contract.id: ItemCheck(ItemState.RETURNED, 3)})
    with pytest.raises(ValidationError, match="is not out"):
        services.check_return(staff.archivist, loan.id, {contract.id: ItemCheck(ItemState.MISSING, None, "?")})


def test_the_borrower_or_the_archive_ends_electronic_access_early(clock, factory, staff, borrower):
    dossier = factory.dossier()
    own = approve_all(request_loan(borrower, [factory.document(dossier)]), staff)
    archive = approve_all(request_loan(borrower, [factory.document(dossier, category="QY")]), staff)

    own = services.end_access(borrower, own.id)
    archive = services.end_access(staff.archivist, archive.id)

    assert (own.status, own.closed_by_id) == (LoanStatus.RETURNED, borrower.id)
    assert (archive.status, archive.closed_by_id) == (LoanStatus.RETURNED, staff.archivist.id)
    with pytest.raises(Conflict):
        services.end_access(borrower, own.id)


def test_ending_access_is_for_electronic_loans_and_their_people(paper_loan, staff, borrower):
    loan = services.issue(staff.archivist, paper_loan.id)
    with pytest.raises(ValidationError, match="checked back by the archive"):
        services.end_access(borrower, loan.id)
    with pytest.raises(AccessDenied):
        services.end_access(staff.heads["CSC"], loan.id)  # the borrower's head sees it, may not end it


def test_clearance_c_archivist_does_not_issue_a_b_level_loan(clock, factory, staff, borrower):
    loan = approve_all(request_loan(borrower, [factory.document(factory.dossier(), level=Level.B)],
                                    use=LoanUse.READING_ROOM), staff)
    c_archivist = factory.user("gmo-c2", roles=(Role.ARCHIVIST,), department="GMO", clearance=Level.C)
    with pytest.raises(AccessDenied):
        services.issue(c_archivist, loan.id)
    assert services.issue(staff.archivist, loan.id).status is LoanStatus.ISSUED
