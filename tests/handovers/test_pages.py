"""The handover pages over HTTP: refusals shown with their reason, the receipt verification page, deadlines."""
from __future__ import annotations

from datetime import date

from archive.core.enums import Category
from archive.handovers import services
from archive.handovers.models import HandoverStatus
from archive.handovers.receipt import qr_payload
from tests.factories import csrf_token
from tests.handovers.conftest import check_all, sent_batch, subscription


def _log_in(client, factory, user):
    assert factory.login(client, user).status_code == 302
    client.post("/language", data={"locale": "en", "csrf_token": csrf_token(client, "/account")})


def _completed(factory, people, rules):
    dossier = factory.dossier()
    document = subscription(factory, dossier)
    handover = sent_batch(people, rules[Category.XS], [document])
    check_all(people.ca_clerk, handover)
    return services.confirm_sending(people.sales_clerk, handover.id), document


def test_a_printed_receipt_is_verified_and_a_forged_code_is_not(clock, client, factory, people, rules):
    handover, _document = _completed(factory, people, rules)
    assert handover.status is HandoverStatus.COMPLETED
    number, sha = handover.number, handover.receipt_sha256
    _log_in(client, factory, people.ca_head)

    genuine = client.post("/handovers/verify", data={"code": qr_payload(number, sha),
                                                     "csrf_token": csrf_token(client, "/handovers/verify")})
    forged = client.post("/handovers/verify", data={"code": qr_payload(number, "0" * 64),
                                                    "csrf_token": csrf_token(client, "/handovers/verify")})
    garbage = client.post("/handovers/verify", data={"code": "not a receipt",
                                                     "csrf_token": csrf_token(client, "/handovers/verify")})

    assert genuine.status_code == 200 and "matches the receipt the archive filed" in genuine.get_data(as_text=True)
    assert forged.status_code == 200 and "does NOT match" in forged.get_data(as_text=True)
    assert garbage.status_code == 400 and "This is not the code of a handover receipt." in garbage.get_data(as_text=True)
    receipt = client.get(f"/handovers/{handover.id}/receipt.pdf")
    assert receipt.status_code == 200 and receipt.data.startswith(b"%PDF")


def test_a_step_out_of_turn_is_refused_on_the_page_with_its_reason(clock, client, factory, people, rules):
    dossier = factory.dossier()
    document = subscription(factory, dossier)
    handover = services.create_batch(people.sales_clerk, rules[Category.XS].id)
    services.add_documents(people.sales_clerk, handover.id, [document.id])
    _log_in(client, factory, people.sales_clerk)

    page = f"/handovers/{handover.id}"
    assert document.archive_number in client.get(page).get_data(as_text=True)
    refused = client.post(f"{page}/send", data={"csrf_token": csrf_token(client, page)})

    assert refused.status_code in (400, 409)
    assert services.get_handover(people.sales_clerk, handover.id).status is HandoverStatus.DRAFT
    # Another department's clerk does not see the batch at all.
    client.post("/logout", data={"csrf_token": csrf_token(client, "/account")})
    _log_in(client, factory, people.csc_clerk)
    assert client.get(page).status_code == 404


def test_the_deadline_page_lists_what_is_due_for_the_own_department(clock, client, factory, people, rules):
    dossier = factory.dossier()
    overdue = subscription(factory, dossier, title="认购书（逾期）", doc_date=date(2026, 2, 3))
    _log_in(client, factory, people.sales_clerk)

    html = client.get("/handovers/deadlines").get_data(as_text=True)

    assert overdue.archive_number in html and "Overdue" in html


def test_a_batch_with_a_b_level_line_is_invisible_to_a_colleague_cleared_for_c(clock, client, factory, people, rules):
    dossier = factory.dossier()
    secret = subscription(factory, dossier, title="认购书（折扣审批）", level="B")
    handover = services.create_batch(people.sales_clerk_b, rules[Category.XS].id)
    services.add_documents(people.sales_clerk_b, handover.id, [secret.id])
    _log_in(client, factory, people.sales_clerk)  # same department, clearance C

    listing = client.get("/handovers/").get_data(as_text=True)
    page = client.get(f"/handovers/{handover.id}")

    assert handover.number not in listing and secret.archive_number not in listing
    assert page.status_code == 404 and secret.archive_number not in page.get_data(as_text=True)
    assert [h.id for h in services.list_handovers(people.sales_clerk_b)] == [handover.id]
