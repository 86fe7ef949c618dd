"""Search and loans through the API: the same service, policy and audit as the pages."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from archive.audit.models import AuditEvent
from archive.extensions import db
from archive.loans.services import local_today
from tests.api.conftest import API, assert_problem, bearer
from tests.factories import make_pdf


def test_search_finds_deposit_only_in_documents_the_caller_may_read(client, factory):
    dossier = factory.dossier()
    readable = factory.document(dossier, department="CSC", category="WX", title="维修押金收据",
                                content=make_pdf("维修押金 人民币 300 元"))
    factory.document(dossier, department="SALES", title="认购书", content=make_pdf("定金与押金 5,000 元"))
    headers = bearer(factory.user("csc-search", department="CSC"))
    body = client.get(f"{API}/search?q=押金", headers=headers).get_json()
    assert body["total"] == 1 and [hit["document"]["id"] for hit in body["items"]] == [readable.id]
    assert "押金" in body["items"][0]["snippet"] and body["next"] is None
    event = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "search.fulltext")).one()
    assert '"押金"' in event.details


def test_search_pages_by_cursor(client, factory):
    dossier = factory.dossier()
    for n in range(5):
        factory.document(dossier, title=f"押金收据{n}", content=make_pdf(f"押金 {n}"))
    headers = bearer(factory.user("sales-search"))
    first = client.get(f"{API}/search?q=押金&limit=2", headers=headers).get_json()
    seen = [hit["document"]["id"] for hit in first["items"]]
    url = first["next"]
    while url:
        body = client.get(url, headers=headers).get_json()
        seen += [hit["document"]["id"] for hit in body["items"]]
        url = body["next"]
    assert first["total"] == 5 and len(set(seen)) == len(seen) == 5


def test_a_loan_through_the_api_from_request_to_approval_and_cancellation(client, factory, clock, staff, borrower):
    dossier = factory.dossier()
    document = factory.document(dossier, department="SALES", title="认购书")
    mine = bearer(borrower)
    start = local_today()
    request = {"document_ids": [document.id], "purpose": "核对押金", "use": "view",
               "start_date": start.isoformat(), "due_date": (start + timedelta(days=2)).isoformat()}
    created = client.post(f"{API}/loans", json=request, headers=mine)
    assert created.status_code == 201, created.get_data(as_text=True)
    loan = created.get_json()
    assert loan["status"] == "submitted" and loan["number"].startswith("JY-")
    assert [item["document_id"] for item in loan["items"]] == [document.id]

    # The borrower cannot approve their own request; the approvers find their steps waiting.
    step_ids = [step["id"] for step in loan["steps"]]
    assert_problem(client.post(f"{API}/loan-steps/{step_ids[0]}/decision", json={"decision": "approved"},
                               headers=mine), 400, "validation-error")
    for step in loan["steps"]:
        decider = staff.archivist if step["kind"] == "archive" else staff.heads[step["department"]]
        theirs = bearer(decider)
        waiting = client.get(f"{API}/loan-steps/waiting", headers=theirs).get_json()["items"]
        assert step["id"] in [s["id"] for s in waiting]
        decided = client.post(f"{API}/loan-steps/{step['id']}/decision", json={"decision": "approved"}, headers=theirs)
        assert decided.status_code == 200, decided.get_data(as_text=True)
    assert decided.get_json()["status"] == "issued"  # electronic access opens on approval
    assert client.get(f"{API}/documents/{document.id}", headers=mine).status_code == 200

    ended = client.post(f"{API}/loans/{loan['id']}/end-access", headers=mine)
    assert ended.status_code == 200 and ended.get_json()["status"] == "returned"
    assert_problem(client.post(f"{API}/loans/{loan['id']}/cancel", headers=mine), 409, "conflict")

    second = client.post(f"{API}/loans", json={**request, "document_ids": [], "dossier_ids": [dossier.id]},
                         headers=mine).get_json()
    cancelled = client.post(f"{API}/loans/{second['id']}/cancel", headers=mine)
    assert cancelled.status_code == 200 and cancelled.get_json()["status"] == "cancelled"
    assert [entry["id"] for entry in client.get(f"{API}/loans", headers=mine).get_json()["items"]] == [
        second["id"], loan["id"]]
    outsider = bearer(factory.user("fin-li", department="FIN"))
    assert_problem(client.get(f"{API}/loans/{loan['id']}", headers=outsider), 404, "not-found")


def test_a_paper_loan_is_issued_and_checked_back_through_the_api(client, factory, clock, staff, borrower):
    dossier = factory.dossier()
    contract = factory.document(dossier, category="QY", title="房地产买卖合同", content=make_pdf("合同", pages=3))
    start = local_today()
    loan = client.post(f"{API}/loans", headers=bearer(borrower), json={
        "document_ids": [contract.id], "purpose": "诉讼取证", "use": "reading_room",
        "start_date": start.isoformat(), "due_date": (start + timedelta(days=3)).isoformat()}).get_json()
    for step in loan["steps"]:
        decider = staff.archivist if step["kind"] == "archive" else staff.heads[step["department"]]
        client.post(f"{API}/loan-steps/{step['id']}/decision", json={"decision": "approved"}, headers=bearer(decider))
    archive = bearer(staff.archivist)
    assert_problem(client.post(f"{API}/loans/{loan['id']}/issue", json={}, headers=bearer(borrower)),
                   404, "not-found")
    (item,) = loan["items"]
    issued = client.post(f"{API}/loans/{loan['id']}/issue", json={"pages": {str(item["id"]): 3}}, headers=archive)
    assert issued.status_code == 200 and issued.get_json()["items"][0]["pages_issued"] == 3
    short = client.post(f"{API}/loans/{loan['id']}/return", headers=archive,
                        json={"items": [{"item_id": item["id"], "state": "returned", "pages": 2}]})
    assert "2" in assert_problem(short, 400, "validation-error")["detail"]
    back = client.post(f"{API}/loans/{loan['id']}/return", headers=archive,
                       json={"items": [{"item_id": item["id"], "state": "returned", "pages": 3}]})
    assert back.status_code == 200 and back.get_json()["status"] == "returned"
