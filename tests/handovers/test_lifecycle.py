"""A batch from assembly to completion: the sales group hands subscriptions to customer affairs; custody passes,
the receipt is filed encrypted and can be verified; a batch with B documents waits for its witness."""
from __future__ import annotations

import hashlib

import pytest

from archive.core.enums import Carrier, Level, Role
from archive.core.errors import AccessDenied, ValidationError
from archive.core.keys import blob_store
from archive.documents.models import Document
from archive.extensions import db
from archive.handovers import sealed, services
from archive.handovers.models import Handover, HandoverStatus, ItemCheck
from archive.handovers.transit import transit_handover
from tests.handovers.conftest import audit_actions, check_all, department_id, sent_batch, subscription


@pytest.fixture
def dossier(factory):
    return factory.dossier()


def test_a_batch_goes_from_draft_to_completed_and_custody_passes(clock, app, factory, rules, people, dossier):
    first = subscription(factory, dossier, title="认购书 3栋2单元1502")
    second = subscription(factory, dossier, title="排号协议 3栋2单元1502")
    clerk = people.sales_clerk

    handover = services.create_batch(clerk, rules["XS"].id, note="二月第一批")
    assert handover.number == "YJ-2026-0001"
    assert (handover.from_department.code, handover.to_department.code) == ("SALES", "CA")
    assert handover.status is HandoverStatus.DRAFT
    items = services.add_documents(clerk, handover.id, [first.id, second.id])
    # The lines start from the documents' records; the clerk corrects them as the paper shows.
    assert [(i.carrier, i.item_count, i.pages, i.is_original) for i in items] == [
        (Carrier.ELECTRONIC, 1, first.page_count, True), (Carrier.ELECTRONIC, 1, second.page_count, True)]
    services.update_item(clerk, items[1].id, carrier="paper", pages=3, is_original=False, condition="完好",
                         remarks="复印件，原件在客户处")
    assert services.actions(clerk, handover) == {"edit", "cancel"}
    assert services.actions(people.sales_head, handover) >= {"sign_off"}

    services.sign_off(people.sales_head, handover.id)
    handover = services.send(clerk, handover.id)
    assert handover.status is HandoverStatus.SENT
    assert transit_handover(first.id).number == "YJ-2026-0001"
    assert services.actions(people.ca_clerk, handover) == {"check"}

    electronic, paper = sorted(db.session.get(Handover, handover.id).items, key=lambda i: i.carrier.value)
    checked = services.check_item(people.ca_clerk, electronic.id, counted_items=1, counted_pages=electronic.pages)
    assert checked.check is ItemCheck.ACCEPTED
    assert checked.check_report["authenticity"]["ok"] and checked.check_report["usability"]["ok"]
    checked = services.check_item(people.ca_clerk, paper.id, counted_items=1, counted_pages=3)
    assert checked.check is ItemCheck.ACCEPTED and checked.check_report is None  # paper: counted, not checked
    handover = services.confirm_receipt(people.ca_clerk, handover.id)
    assert handover.status is HandoverStatus.CHECKED and not handover.witness_required
    assert services.actions(clerk, handover) == {"confirm_sending"}

    handover = services.confirm_sending(clerk, handover.id)
    assert handover.status is HandoverStatus.COMPLETED
    assert handover.receipt_sha256 and len(handover.receipt_sha256) == 64
    assert transit_handover(first.id) is None
    for document in (first, second):
        assert db.session.get(Document, document.id).department_id == department_id("CA")
    assert audit_actions() == [
        "handover.create", "handover.add_item", "handover.edit_item", "handover.sign_off", "handover.send",
        "handover.check_item", "handover.check_item", "handover.confirm_receipt", "handover.confirm_sending",
        "handover.custody", "handover.custody", "handover.complete",
    ]

    # The sending clerk no longer has the need to know; the receiving clerk has it now.
    sender, receiver = app.test_client(), app.test_client()
    factory.login(sender, clerk)
    factory.login(receiver, people.ca_clerk)
    assert sender.get(f"/documents/{first.id}").status_code == 404
    assert receiver.get(f"/documents/{first.id}").status_code == 200
    assert receiver.get(f"/documents/{first.id}/download").status_code == 200


def test_the_receipt_is_filed_encrypted_and_verifies(clock, app, factory, rules, people, dossier):
    document = subscription(factory, dossier)
    handover = sent_batch(people, rules["XS"], [document])
    check_all(people.ca_clerk, handover)
    handover = services.confirm_sending(people.sales_clerk, handover.id)

    on_disk = blob_store().backend.path_for(handover.receipt_blob_id).read_bytes()
    opened = services.open_receipt(people.ca_clerk, handover.id)
    with opened.stream:
        pdf = opened.stream.read()
    assert pdf.startswith(b"%PDF")
    assert not on_disk.startswith(b"%PDF") and pdf[:64] not in on_disk  # what is stored is ciphertext
    assert hashlib.sha256(pdf).hexdigest() == handover.receipt_plain_sha256
    assert hashlib.sha256(on_disk).hexdigest() == handover.receipt_cipher_sha256
    assert (opened.filename, opened.media_type, opened.sha256) == (
        "YJ-2026-0001.pdf", "application/pdf", handover.receipt_sha256)
    # `archive verify` counts the receipt as referenced (not an orphan) and checks it.
    assert sealed.verify_blobs(decrypt=True) == ({handover.receipt_blob_id}, [])
    # The sender's side may fetch it too; someone of another department may not.
    services.open_receipt(people.sales_clerk, handover.id).stream.close()
    with pytest.raises(Exception) as refused:
        services.open_receipt(people.csc_clerk, handover.id)
    assert type(refused.value).__name__ in ("NotFound", "AccessDenied")

    anyone = people.csc_clerk
    assert services.verify_receipt(anyone, "YJ-2026-0001", handover.receipt_sha256.upper())
    assert not services.verify_receipt(anyone, "YJ-2026-0001", "0" * 64)
    assert not services.verify_receipt(anyone, "YJ-2026-0099", handover.receipt_sha256)
    assert audit_actions("handover.verify_receipt") == ["handover.verify_receipt"] * 3
    assert "handover.receipt_open" in audit_actions()


def test_a_batch_with_a_b_document_completes_only_after_the_witness(clock, factory, rules, people, dossier):
    secret = subscription(factory, dossier, title="优惠审批表", level=Level.B)
    handover = sent_batch(people, rules["XS"], [secret], clerk=people.sales_clerk_b)
    assert handover.witness_required
    check_all(people.ca_clerk, handover)

    handover = services.confirm_sending(people.sales_clerk_b, handover.id)
    assert handover.status is HandoverStatus.CHECKED  # the witness is still missing
    assert db.session.get(Document, secret.id).department_id == department_id("SALES")

    with pytest.raises(ValidationError, match="cannot also witness"):
        services.witness_confirm(people.ca_clerk, handover.id)  # the receiver
    colleague = factory.user("sales-wang", roles=(Role.CLERK,), department="SALES", clearance=Level.B)
    with pytest.raises(ValidationError, match="receiving department or of the archive"):
        services.witness_confirm(colleague, handover.id)  # sees the batch, is of the handing side
    with pytest.raises(AccessDenied):
        services.witness_confirm(people.csc_clerk, handover.id)  # does not even see it
    assert services.actions(people.archivist, handover) == {"witness"}

    handover = services.witness_confirm(people.archivist, handover.id)
    assert handover.status is HandoverStatus.COMPLETED
    assert handover.witness_id == people.archivist.id
    assert db.session.get(Document, secret.id).department_id == department_id("CA")
    assert audit_actions()[-4:] == ["handover.confirm_sending", "handover.witness", "handover.custody",
                                    "handover.complete"]


def test_the_witness_may_confirm_before_the_sender(clock, factory, rules, people, dossier):
    secret = subscription(factory, dossier, title="延期付款审批", level=Level.B)
    handover = sent_batch(people, rules["XS"], [secret], clerk=people.sales_clerk_b)
    check_all(people.ca_clerk, handover)
    assert services.witness_confirm(people.ca_head, handover.id).status is HandoverStatus.CHECKED
    assert services.confirm_sending(people.sales_clerk_b, handover.id).status is HandoverStatus.COMPLETED


def test_returned_items_stay_with_the_sender_and_are_free_for_a_new_batch(clock, factory, rules, people, dossier):
    kept, returned = subscription(factory, dossier, title="认购书"), subscription(factory, dossier, title="排号协议")
    handover = sent_batch(people, rules["XS"], [kept, returned])
    lines = {item.document_id: item for item in db.session.get(Handover, handover.id).items}
    services.check_item(people.ca_clerk, lines[kept.id].id, counted_items=1, counted_pages=lines[kept.id].pages)
    item = services.check_item(people.ca_clerk, lines[returned.id].id, counted_items=1,
                               counted_pages=lines[returned.id].pages, reason="缺少客户签字页")
    assert item.check is ItemCheck.RETURNED and item.reason == "缺少客户签字页"
    services.confirm_receipt(people.ca_clerk, handover.id)
    services.confirm_sending(people.sales_clerk, handover.id)

    assert db.session.get(Document, kept.id).department_id == department_id("CA")
    assert db.session.get(Document, returned.id).department_id == department_id("SALES")
    again = services.create_batch(people.sales_clerk, rules["XS"].id)
    assert [i.document_id for i in services.add_documents(people.sales_clerk, again.id, [returned.id])] == [
        returned.id]


def test_add_by_rule_takes_every_waiting_document_of_the_project(clock, factory, rules, people):
    project = factory.project("LJY", "丽景苑")
    other_project = factory.project("HTY", "海棠园")
    here = [subscription(factory, factory.dossier(project, unit=u, unit_name=u)) for u in ("1-101", "1-102")]
    in_other_batch = subscription(factory, factory.dossier(project, unit="1-103", unit_name="1-103"))
    secret = subscription(factory, factory.dossier(project, unit="1-104", unit_name="1-104"), level=Level.B)
    contract = factory.document(here[0].dossier, category="QY", department="SALES", title="房地产买卖合同")
    elsewhere = subscription(factory, factory.dossier(other_project))
    earlier = services.create_batch(people.sales_clerk, rules["XS"].id)
    services.add_documents(people.sales_clerk, earlier.id, [in_other_batch.id])

    handover = services.create_batch(people.sales_clerk, rules["XS"].id)
    added = services.add_by_rule(people.sales_clerk, handover.id, project.id)

    # Not the one on another batch, not the B document above the clerk's clearance, not the contract (QY),
    # not the other project's.
    assert sorted(i.document_id for i in added) == sorted(d.id for d in here)
    assert {secret.id, contract.id, elsewhere.id, in_other_batch.id}.isdisjoint(i.document_id for i in added)
    with pytest.raises(ValidationError, match="No document of this project"):
        services.add_by_rule(people.sales_clerk, handover.id, project.id)


def test_a_cancelled_batch_frees_its_documents(clock, factory, rules, people, dossier):
    document = subscription(factory, dossier)
    handover = services.create_batch(people.sales_clerk, rules["XS"].id)
    services.add_documents(people.sales_clerk, handover.id, [document.id])
    services.sign_off(people.sales_head, handover.id)
    assert services.cancel(people.sales_clerk, handover.id, reason="清单有误").status is HandoverStatus.CANCELLED
    again = services.create_batch(people.sales_clerk, rules["XS"].id)
    assert len(services.add_documents(people.sales_clerk, again.id, [document.id])) == 1
    assert again.number == "YJ-2026-0002"


def test_each_side_lists_its_batches_and_others_see_none(clock, factory, rules, people, dossier):
    sent = sent_batch(people, rules["XS"], [subscription(factory, dossier)])
    draft = services.create_batch(people.sales_clerk, rules["XS"].id)
    numbers = lambda user, **kw: [h.number for h in services.list_handovers(user, **kw)]  # noqa: E731
    assert numbers(people.sales_clerk) == [draft.number, sent.number]
    assert numbers(people.ca_clerk, status=HandoverStatus.SENT) == [sent.number]
    assert numbers(people.archivist, department_id=department_id("CA")) == [draft.number, sent.number]
    assert numbers(people.csc_clerk) == []
    assert [d.id for d in services.candidates(people.sales_clerk, draft.id)] == []  # the only one is in transit
