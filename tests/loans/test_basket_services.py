"""The basket: the borrower's draft request, filled with documents or whole dossiers within their clearance."""
from __future__ import annotations

import pytest
from flask_babel import force_locale

from archive.core.enums import Level, Role
from archive.core.errors import AccessDenied, NotFound, ValidationError
from archive.extensions import db
from archive.loans import services
from archive.loans.models import Loan, LoanStatus, LoanUse
from tests.loans.conftest import request_loan


def test_adding_documents_creates_one_draft_per_borrower(factory, borrower):
    dossier = factory.dossier()
    first = factory.document(dossier, title="认购书")
    second = factory.document(dossier, title="房地产买卖合同", category="QY")
    assert services.basket(borrower) is None

    draft = services.add_documents(borrower, [first.id])
    again = services.add_documents(borrower, [second.id, first.id])  # the one already in is not doubled

    assert again.id == draft.id
    assert again.status is LoanStatus.DRAFT and again.number is None
    assert [item.document.title for item in again.items] == ["认购书", "房地产买卖合同"]
    assert services.basket(borrower).id == draft.id
    assert db.session.query(Loan).filter_by(borrower_id=borrower.id).count() == 1
    assert services.my_loans(borrower) == []  # a basket is not a request yet


def test_a_document_above_the_clearance_is_refused_at_once_with_the_reason(factory, borrower):
    dossier = factory.dossier()
    core_secret = factory.document(dossier, level=Level.A, title="核心商密 价格底单")

    with pytest.raises(ValidationError) as refused:
        services.add_documents(borrower, [core_secret.id])

    assert refused.value.message.startswith("Your clearance does not reach level %(level)s")
    with force_locale("en"):
        assert str(refused.value.details["level"]) == "A 核心商密"
    assert refused.value.details["number"] == core_secret.archive_number
    assert services.basket(borrower) is None  # nothing was added, not even an empty basket


def test_one_refused_document_adds_none_of_the_batch(factory, borrower):
    dossier = factory.dossier()
    fine = factory.document(dossier, level=Level.B)
    too_high = factory.document(dossier, level=Level.A, category="QY")

    with pytest.raises(ValidationError):
        services.add_documents(borrower, [fine.id, too_high.id])

    assert services.basket(borrower) is None


def test_a_missing_document_and_an_empty_choice_are_refused(factory, borrower):
    with pytest.raises(NotFound):
        services.add_documents(borrower, [987654])
    with pytest.raises(ValidationError, match="Choose at least one document"):
        services.add_documents(borrower, [])


def test_the_administrator_does_not_borrow(factory):
    """三员分立: the administrator reads no documents, so may not ask for them either."""
    admin = factory.user("admin-x", roles=(Role.ADMIN,), department="GMO", clearance=Level.A)
    doc = factory.document(factory.dossier())
    with pytest.raises(AccessDenied):
        services.add_documents(admin, [doc.id])
    with pytest.raises(AccessDenied):
        services.add_dossier(admin, doc.dossier_id)


def test_a_whole_dossier_adds_only_the_documents_within_clearance(factory, borrower):
    dossier = factory.dossier()
    contract = factory.document(dossier, category="QY", title="房地产买卖合同", department="CA")
    subscription = factory.document(dossier, level=Level.B, title="认购书", department="SALES")
    factory.document(dossier, level=Level.A, title="价格底单", department="SALES", category="QT")
    other_dossier_doc = factory.document(factory.dossier(), title="别户资料")

    draft = services.add_dossier(borrower, dossier.id)

    assert {item.document_id for item in draft.items} == {contract.id, subscription.id}
    assert all(item.via_dossier_id == dossier.id for item in draft.items)
    assert other_dossier_doc.id not in {item.document_id for item in draft.items}
    catalogue = services.requestable_documents(borrower, dossier.id)
    assert {d.id for d in catalogue} == {contract.id, subscription.id}


def test_a_dossier_with_nothing_requestable_is_refused(factory, borrower):
    dossier = factory.dossier()
    factory.document(dossier, level=Level.A)
    with pytest.raises(ValidationError, match="no document you may request"):
        services.add_dossier(borrower, dossier.id)


def test_removing_an_item_and_only_from_ones_own_basket(factory, borrower):
    dossier = factory.dossier()
    keep, drop = factory.document(dossier, title="认购书"), factory.document(dossier, title="补充协议", category="QY")
    draft = services.add_documents(borrower, [keep.id, drop.id])
    drop_item = next(i for i in draft.items if i.document_id == drop.id)
    stranger = factory.user("sales-li", roles=(Role.CLERK,), department="SALES")

    with pytest.raises(AccessDenied):
        services.remove_item(stranger, drop_item.id)
    draft = services.remove_item(borrower, drop_item.id)

    assert [item.document_id for item in draft.items] == [keep.id]


def test_submitting_an_empty_basket_is_refused(factory, borrower):
    doc = factory.document(factory.dossier())
    draft = services.add_documents(borrower, [doc.id])
    services.remove_item(borrower, draft.items[0].id)
    today = services.local_today()

    with pytest.raises(ValidationError, match="holds no document"):
        services.submit(borrower, draft.id, purpose="查阅", use=LoanUse.VIEW, start_date=today, due_date=today)
    assert db.session.get(Loan, draft.id).status is LoanStatus.DRAFT


def test_after_submitting_the_next_document_starts_a_new_basket(factory, borrower, staff):
    dossier = factory.dossier()
    loan = request_loan(borrower, [factory.document(dossier)])
    draft = services.add_documents(borrower, [factory.document(dossier, category="QY").id])
    assert draft.id != loan.id and draft.status is LoanStatus.DRAFT
    assert [l.id for l in services.my_loans(borrower)] == [loan.id]


def test_the_basket_is_the_borrowers_alone(factory, borrower, staff):
    """Nobody else sees a draft: not the archive, not the borrower's department head."""
    draft = services.add_documents(borrower, [factory.document(factory.dossier()).id])
    for other in (staff.archivist, staff.heads["CSC"]):
        with pytest.raises(AccessDenied):
            services.get_loan(other, draft.id)
        with pytest.raises(AccessDenied):
            services.approval_chain_preview(other, draft.id)
    assert services.get_loan(borrower, draft.id).id == draft.id


def test_the_borrower_can_throw_the_basket_away(factory, borrower):
    draft = services.add_documents(borrower, [factory.document(factory.dossier()).id])
    services.cancel(borrower, draft.id)
    assert services.basket(borrower) is None
