"""The receiver's check of an electronic line runs the four-property checks: a damaged stored file returns the
item with the finding as its reason, and nothing passes to the receiver; a sound file is accepted."""
from __future__ import annotations

import sqlalchemy as sa

from archive.core.enums import Level
from archive.documents.models import Document
from archive.extensions import db
from archive.handovers import services
from archive.handovers.models import Handover, ItemCheck
from archive.integrity.models import CheckContext, IntegrityCheck
from tests.factories import flip_a_byte
from tests.handovers.conftest import department_id, sent_batch, subscription


def test_a_tampered_file_is_returned_with_the_reason_and_a_sound_one_accepted(clock, factory, rules, people):
    dossier = factory.dossier()
    sound = subscription(factory, dossier, title="认购书")
    tampered = subscription(factory, dossier, title="排号协议")
    handover = sent_batch(people, rules["XS"], [sound, tampered])
    flip_a_byte(tampered.current_version.blob_id)
    lines = {item.document_id: item for item in db.session.get(Handover, handover.id).items}

    accepted = services.check_item(people.ca_clerk, lines[sound.id].id, counted_items=1,
                                   counted_pages=lines[sound.id].pages)
    returned = services.check_item(people.ca_clerk, lines[tampered.id].id, counted_items=1,
                                   counted_pages=lines[tampered.id].pages)

    assert accepted.check is ItemCheck.ACCEPTED and accepted.reason == ""
    assert all(accepted.check_report[p]["ok"] for p in ("authenticity", "integrity", "usability", "security"))
    assert returned.check is ItemCheck.RETURNED
    assert "does not match the checksum recorded at filing" in returned.reason
    assert not returned.check_report["authenticity"]["ok"]
    # Each run is kept as a handover check, by the receiver.
    runs = db.session.scalars(sa.select(IntegrityCheck).order_by(IntegrityCheck.id)).all()
    handover_runs = [r for r in runs if r.context is CheckContext.HANDOVER]
    assert [(r.document_id, r.ok, r.checked_by_id) for r in handover_runs] == [
        (sound.id, True, people.ca_clerk.id), (tampered.id, False, people.ca_clerk.id)]

    services.confirm_receipt(people.ca_clerk, handover.id)
    services.confirm_sending(people.sales_clerk, handover.id)
    assert db.session.get(Document, sound.id).department_id == department_id("CA")
    assert db.session.get(Document, tampered.id).department_id == department_id("SALES")


def test_a_paper_line_is_counted_not_checked(clock, factory, rules, people):
    document = subscription(factory, factory.dossier(), level=Level.C)
    handover = services.create_batch(people.sales_clerk, rules["XS"].id)
    (item,) = services.add_documents(people.sales_clerk, handover.id, [document.id])
    services.update_item(people.sales_clerk, item.id, carrier="paper", pages=4)
    flip_a_byte(document.current_version.blob_id)  # the scan is damaged, but the paper original is what travels
    services.sign_off(people.sales_head, handover.id)
    services.send(people.sales_clerk, handover.id)
    checked = services.check_item(people.ca_clerk, item.id, counted_items=1, counted_pages=4)
    assert (checked.check, checked.check_report) == (ItemCheck.ACCEPTED, None)
