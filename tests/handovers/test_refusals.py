"""Everything a handover refuses: the wrong person, the wrong state, changes in transit, counts that differ,
lines that cannot be on the batch, a sign-off by a clerk, a completion without its witness."""
from __future__ import annotations

import io

import pytest

from archive.core.enums import Category, Level, Role
from archive.core.errors import AccessDenied, Conflict, NotFound, ValidationError
from archive.documents import services as documents
from archive.documents.models import Document
from archive.extensions import db
from archive.handovers import services
from archive.handovers.models import Handover, HandoverStatus, ItemCheck
from tests.factories import make_pdf
from tests.handovers.conftest import check_all, department_id, sent_batch, subscription

HIDDEN = (NotFound, AccessDenied)  # a view turns both into a 404


@pytest.fixture
def dossier(factory):
    return factory.dossier()


@pytest.fixture
def document(factory, dossier):
    return subscription(factory, dossier)


@pytest.fixture
def draft(people, rules, document):
    handover = services.create_batch(people.sales_clerk, rules["XS"].id)
    services.add_documents(people.sales_clerk, handover.id, [document.id])
    return handover


def test_only_the_handing_departments_filers_assemble(clock, factory, rules, people, document, draft):
    with pytest.raises(AccessDenied):
        services.create_batch(people.csc_clerk, rules["XS"].id)  # CSC does not hand over sales papers
    with pytest.raises(AccessDenied):
        services.create_batch(people.ca_clerk, rules["XS"].id)  # nor does the receiver
    compliance = factory.user("compliance-he", roles=(Role.COMPLIANCE,), department="GMO", clearance=Level.A)
    with pytest.raises(AccessDenied):
        services.create_batch(compliance, rules["XS"].id)
    assert [r.category for r in services.assembly_rules(people.sales_clerk)] == [Category.XS]
    assert services.assembly_rules(compliance) == []

    item = db.session.get(Handover, draft.id).items[0]
    with pytest.raises(AccessDenied):
        services.update_item(people.ca_clerk, item.id, pages=9)  # sees the batch, may not edit it
    with pytest.raises(HIDDEN):
        services.remove_item(people.csc_clerk, item.id)  # may not even see it
    with pytest.raises(HIDDEN):
        services.get_handover(people.csc_clerk, draft.id)
    with pytest.raises(AccessDenied):
        services.send(people.ca_clerk, draft.id)


def test_a_sign_off_needs_a_head_of_the_handing_department(clock, people, draft):
    with pytest.raises(ValidationError, match="Only a head of"):
        services.sign_off(people.sales_clerk, draft.id)
    with pytest.raises(ValidationError, match="Only a head of"):
        services.sign_off(people.ca_head, draft.id)  # a head, of the receiving department
    assert db.session.get(Handover, draft.id).status is HandoverStatus.DRAFT


def test_steps_out_of_order_are_refused(clock, people, rules, draft):
    with pytest.raises(Conflict):
        services.send(people.sales_clerk, draft.id)  # not signed off
    item = db.session.get(Handover, draft.id).items[0]
    with pytest.raises(Conflict):
        services.check_item(people.ca_clerk, item.id, counted_items=1, counted_pages=1)
    empty = services.create_batch(people.sales_clerk, rules["XS"].id)
    with pytest.raises(ValidationError, match="lists no document"):
        services.sign_off(people.sales_head, empty.id)

    services.sign_off(people.sales_head, draft.id)
    with pytest.raises(Conflict):
        services.sign_off(people.sales_head, draft.id)  # twice
    with pytest.raises(Conflict):
        services.add_documents(people.sales_clerk, draft.id, [item.document_id])  # signed off: list is fixed
    with pytest.raises(Conflict):
        services.update_item(people.sales_clerk, item.id, pages=2)

    services.send(people.sales_clerk, draft.id)
    with pytest.raises(Conflict):
        services.cancel(people.sales_clerk, draft.id)  # sent batches are not cancelled
    with pytest.raises(ValidationError, match="Check every item first"):
        services.confirm_receipt(people.ca_clerk, draft.id)
    with pytest.raises(Conflict):
        services.confirm_sending(people.sales_clerk, draft.id)  # the receiver has not confirmed
    with pytest.raises(AccessDenied):
        services.check_item(people.sales_clerk, item.id, counted_items=1, counted_pages=1)  # own batch
    with pytest.raises(ValidationError, match="whole numbers"):
        services.check_item(people.ca_clerk, item.id, counted_items=-1, counted_pages=1)

    check_all(people.ca_clerk, db.session.get(Handover, draft.id))
    with pytest.raises(AccessDenied):
        services.confirm_sending(people.ca_clerk, draft.id)  # the receiver cannot confirm for the sender
    with pytest.raises(ValidationError, match="needs no witness"):
        services.witness_confirm(people.archivist, draft.id)
    services.confirm_sending(people.sales_clerk, draft.id)
    with pytest.raises(Conflict):
        services.confirm_sending(people.sales_clerk, draft.id)
    with pytest.raises(Conflict):
        services.cancel(people.sales_clerk, draft.id)


def test_documents_in_transit_cannot_be_changed(clock, people, rules, document, draft):
    services.sign_off(people.sales_head, draft.id)
    clerk = people.sales_clerk
    # Signed off but not sent: still the department's to correct.
    documents.update_metadata(clerk, document.id, {"remarks": "客户已签字"})

    services.send(clerk, draft.id)
    with pytest.raises(ValidationError, match="in transit in handover") as refused:
        documents.update_metadata(clerk, document.id, {"title": "认购书（更正）"})
    assert refused.value.details == {"number": draft.number}
    with pytest.raises(ValidationError, match="in transit in handover"):
        documents.add_version(clerk, document.id, documents.Upload("fix.pdf", io.BytesIO(make_pdf("更正"))), "更正页码")
    with pytest.raises(ValidationError, match="in transit in handover"):
        documents.update_metadata(people.archivist, document.id, {"remarks": "档案室备注"})  # nobody changes it
    assert db.session.get(Document, document.id).title == "认购书"

    check_all(people.ca_clerk, draft)
    with pytest.raises(ValidationError, match="in transit in handover"):  # checked, not yet completed
        documents.update_metadata(people.archivist, document.id, {"remarks": "x"})
    services.confirm_sending(clerk, draft.id)
    # Completed: the receiving department keeps it and may correct it; the sender no longer can.
    documents.update_metadata(people.ca_clerk, document.id, {"remarks": "已接收"})
    with pytest.raises(HIDDEN):
        documents.update_metadata(clerk, document.id, {"remarks": "x"})


def test_counts_that_differ_return_the_item_with_the_reason(clock, factory, people, rules, dossier):
    document = subscription(factory, dossier)
    handover = sent_batch(people, rules["XS"], [document])
    item = db.session.get(Handover, handover.id).items[0]
    checked = services.check_item(people.ca_clerk, item.id, counted_items=1, counted_pages=item.pages + 2)
    assert checked.check is ItemCheck.RETURNED
    assert checked.reason == (f"Counted 1 item(s) and {item.pages + 2} page(s); the list says 1 item(s) and "
                              f"{item.pages} page(s).")
    assert checked.check_report["authenticity"]["ok"]  # the file itself was fine
    # Counted again correctly before confirming: accepted.
    again = services.check_item(people.ca_clerk, item.id, counted_items=1, counted_pages=item.pages)
    assert (again.check, again.reason) == (ItemCheck.ACCEPTED, "")

    services.check_item(people.ca_clerk, item.id, counted_items=2, counted_pages=item.pages)
    services.confirm_receipt(people.ca_clerk, handover.id)
    with pytest.raises(Conflict):  # confirmed: the checks stand
        services.check_item(people.ca_clerk, item.id, counted_items=1, counted_pages=item.pages)
    services.confirm_sending(people.sales_clerk, handover.id)
    assert db.session.get(Document, document.id).department_id == department_id("SALES")


def test_lines_that_cannot_be_on_the_batch_are_refused_with_the_reason(clock, factory, people, rules, dossier,
                                                                       document, draft):
    clerk = people.sales_clerk
    with pytest.raises(ValidationError, match="already on this list"):
        services.add_documents(clerk, draft.id, [document.id])
    other = services.create_batch(clerk, rules["XS"].id)
    with pytest.raises(ValidationError, match="already in handover") as refused:
        services.add_documents(clerk, other.id, [document.id])
    assert refused.value.details["other"] == draft.number
    contract = factory.document(dossier, category="QY", department="SALES", title="房地产买卖合同")
    with pytest.raises(ValidationError, match="not of the category"):
        services.add_documents(clerk, other.id, [contract.id])
    repair = factory.document(dossier, category="XS", department="CSC", title="维修单")
    with pytest.raises(HIDDEN):
        services.add_documents(clerk, other.id, [repair.id])  # not readable: CSC's
    readable_elsewhere = factory.document(dossier, category="XS", department="CSC", title="客户投诉单",
                                          scope_departments=["SALES"])
    with pytest.raises(ValidationError, match="is not a document of"):
        services.add_documents(clerk, other.id, [readable_elsewhere.id])
    secret = subscription(factory, dossier, title="折扣审批", level=Level.B)
    with pytest.raises(HIDDEN):
        services.add_documents(clerk, other.id, [secret.id])  # above the clerk's clearance
    fresh = subscription(factory, dossier, title="身份证复印件")
    with pytest.raises(ValidationError, match="documents were refused, none was added") as refused:
        services.add_documents(clerk, other.id, [fresh.id, document.id, contract.id])
    assert refused.value.details == {"count": 2} and len(refused.value.problems) == 2
    assert db.session.get(Handover, other.id).items == []  # all or nothing

    # Once handed over, a document is not handed over again under the same rule.
    services.sign_off(people.sales_head, draft.id)
    services.send(clerk, draft.id)
    check_all(people.ca_clerk, draft)
    services.confirm_sending(clerk, draft.id)
    with pytest.raises(HIDDEN):
        services.add_documents(clerk, other.id, [document.id])  # customer affairs' now
    # Should it ever come back to the sales group, it is still not handed over a second time.
    db.session.get(Document, document.id).department_id = department_id("SALES")
    db.session.commit()
    with pytest.raises(ValidationError, match="already handed over in") as refused:
        services.add_documents(clerk, other.id, [document.id])
    assert refused.value.details == {"number": document.archive_number, "other": draft.number}


def test_a_batch_needing_a_witness_does_not_complete_without_one(clock, factory, people, rules, dossier):
    secret = subscription(factory, dossier, title="优惠审批表", level=Level.B)
    handover = sent_batch(people, rules["XS"], [secret], clerk=people.sales_clerk_b)
    check_all(people.ca_clerk, handover)
    assert services.confirm_sending(people.sales_clerk_b, handover.id).status is HandoverStatus.CHECKED
    with pytest.raises(ValidationError, match="cannot also witness"):
        services.witness_confirm(people.sales_clerk_b, handover.id)
    low = factory.user("ca-low", roles=(Role.CLERK,), department="CA", clearance=Level.C)
    with pytest.raises(AccessDenied):  # a batch with a B line is invisible to someone cleared for C
        services.witness_confirm(low, handover.id)
    assert db.session.get(Handover, handover.id).status is HandoverStatus.CHECKED
    assert db.session.get(Document, secret.id).department_id == department_id("SALES")


def test_a_receiver_below_the_batch_level_cannot_check_it(clock, factory, people, rules, dossier):
    secret = subscription(factory, dossier, title="核心商密审批", level=Level.B)
    handover = sent_batch(people, rules["XS"], [secret], clerk=people.sales_clerk_b)
    low = factory.user("ca-low", roles=(Role.CLERK,), department="CA", clearance=Level.C)
    item = db.session.get(Handover, handover.id).items[0]
    with pytest.raises(AccessDenied):  # the batch itself is invisible below its highest level
        services.check_item(low, item.id, counted_items=1, counted_pages=item.pages)
