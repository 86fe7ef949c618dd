"""Handovers through the API: every step with the tokens of the people who take it, the receipt downloaded,
and the refusals as problem+json, through the same services and policy as the pages."""
from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from archive.core.enums import Category, Level, Role
from archive.documents.models import Document
from archive.extensions import db
from archive.handovers.deadlines import ensure_default_rules
from tests.api.conftest import API, assert_problem, bearer
from tests.factories import make_pdf
from tests.handovers.conftest import audit_actions, department_id


@pytest.fixture
def sides(factory):
    """The customer affairs group's clerk who is also its head (hands contracts to the archive), and an
    archivist of the general manager's office (receives them)."""
    ensure_default_rules()
    ca = factory.user("ca-zhou", roles=(Role.CLERK, Role.DEPT_HEAD), department="CA", clearance=Level.B)
    archivist = factory.user("gmo-sun", roles=(Role.ARCHIVIST,), department="GMO", clearance=Level.A)
    return bearer(ca), bearer(archivist)


def contract(factory, dossier, title: str, level: Level = Level.C) -> Document:
    return factory.document(dossier, category=Category.QY, department="CA", title=title, level=level,
                            content=make_pdf(title, "买受人：王小明", "房号：3栋2单元1502"))


def _ok(response, status: int = 200) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    return response.get_json()


def new_batch(client, headers, documents) -> dict:
    (rule,) = [r for r in _ok(client.get(f"{API}/handover-rules", headers=headers))["items"] if r["category"] == "QY"]
    assert (rule["from_department"], rule["to_department"]) == ("CA", "GMO")
    batch = _ok(client.post(f"{API}/handovers", json={"rule_id": rule["id"], "note": "交房后第一批"}, headers=headers),
                201)
    return _ok(client.post(f"{API}/handovers/{batch['id']}/documents", headers=headers,
                           json={"document_ids": [d.id for d in documents]}))


def test_a_batch_goes_from_draft_to_completed_through_the_api(client, factory, sides):
    ca, archive = sides
    dossier = factory.dossier()
    electronic, paper = contract(factory, dossier, "房地产买卖合同"), contract(factory, dossier, "补充协议")

    batch = new_batch(client, ca, [electronic, paper])
    url = f"{API}/handovers/{batch['id']}"
    assert batch["status"] == "draft" and batch["number"].startswith("YJ-")
    assert set(batch["actions"]) == {"edit", "sign_off", "cancel"}
    lines = {item["document_id"]: item for item in batch["items"]}
    paper_line = lines[paper.id]["id"]
    edited = _ok(client.patch(f"{url}/items/{paper_line}", json={"carrier": "paper", "pages": 3, "condition": "完好"},
                              headers=ca))
    assert [(i["carrier"], i["pages"], i["condition"]) for i in edited["items"] if i["id"] == paper_line] == [
        ("paper", 3, "完好")]

    assert _ok(client.post(f"{url}/sign-off", headers=ca))["status"] == "signed_off"
    sent = _ok(client.post(f"{url}/send", headers=ca))
    assert sent["status"] == "sent" and sent["actions"] == []
    assert _ok(client.get(url, headers=archive))["actions"] == ["check"]

    # The electronic contract counts as listed and passes the four-property checks; the paper one is short a page.
    checked = _ok(client.post(f"{url}/checks", headers=archive, json={"items": [
        {"item_id": lines[electronic.id]["id"], "counted_items": 1, "counted_pages": lines[electronic.id]["pages"]},
        {"item_id": paper_line, "counted_items": 1, "counted_pages": 2, "reason": "第3页缺失"},
    ]}))
    accepted, returned = checked["items"]
    assert (checked["accepted"], checked["returned"], checked["pending"]) == (1, 1, 0)
    assert accepted["check"] == "accepted" and accepted["reason"] == ""
    assert {name: result["ok"] for name, result in accepted["check_report"].items()} == {
        "authenticity": True, "integrity": True, "usability": True, "security": True}
    assert returned["check"] == "returned" and (returned["counted_items"], returned["counted_pages"]) == (1, 2)
    assert "第3页缺失" in returned["reason"] and returned["check_report"] is None

    received = _ok(client.post(f"{url}/confirm-receipt", headers=archive))
    assert received["status"] == "checked" and received["received_by"] == "gmo-sun"
    completed = _ok(client.post(f"{url}/confirm-sending", headers=ca))
    assert completed["status"] == "completed" and len(completed["receipt_sha256"]) == 64
    assert db.session.get(Document, electronic.id).department_id == department_id("GMO")
    assert db.session.get(Document, paper.id).department_id == department_id("CA")

    receipt = client.get(f"{url}/receipt.pdf", headers=archive)
    assert receipt.status_code == 200 and receipt.mimetype == "application/pdf"
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(receipt.data)).pages)
    assert batch["number"] in text
    assert audit_actions()[-2:] == ["handover.complete", "handover.receipt_open"]


def test_a_batch_with_a_b_document_waits_for_a_witness_who_did_not_act_on_it(client, factory, sides):
    ca, archive = sides
    secret = contract(factory, factory.dossier(), "房地产买卖合同（保密）", level=Level.B)
    batch = new_batch(client, ca, [secret])
    url = f"{API}/handovers/{batch['id']}"
    assert batch["witness_required"]
    client.post(f"{url}/sign-off", headers=ca)
    client.post(f"{url}/send", headers=ca)
    (line,) = batch["items"]
    _ok(client.post(f"{url}/checks", headers=archive,
                    json={"items": [{"item_id": line["id"], "counted_items": 1, "counted_pages": line["pages"]}]}))
    _ok(client.post(f"{url}/confirm-receipt", headers=archive))
    assert _ok(client.post(f"{url}/confirm-sending", headers=ca))["status"] == "checked"

    assert "监交人" in assert_problem(client.post(f"{url}/witness", headers=archive), 400,
                                   "validation-error")["detail"]
    witness = bearer(factory.user("gmo-qian", roles=(Role.ARCHIVIST,), department="GMO", clearance=Level.A))
    witnessed = _ok(client.post(f"{url}/witness", headers=witness))
    assert witnessed["status"] == "completed" and witnessed["witness"] == "gmo-qian"
    assert_problem(client.post(f"{url}/witness", headers=witness), 409, "conflict")


def test_a_person_of_another_department_finds_no_batch(client, factory, sides):
    ca, _archive = sides
    batch = new_batch(client, ca, [contract(factory, factory.dossier(), "房地产买卖合同")])
    outsider = bearer(factory.user("fin-li", department="FIN"))
    url = f"{API}/handovers/{batch['id']}"
    assert_problem(client.get(url, headers=outsider), 404, "not-found")
    assert_problem(client.post(f"{url}/cancel", json={}, headers=outsider), 404, "not-found")
    assert_problem(client.get(f"{url}/receipt.pdf", headers=outsider), 404, "not-found")
    assert _ok(client.get(f"{API}/handovers", headers=outsider))["items"] == []
    assert _ok(client.get(url, headers=ca))["status"] == "draft"


def test_steps_out_of_order_and_refused_steps_are_problems(client, factory, sides):
    ca, archive = sides
    dossier = factory.dossier()
    first = new_batch(client, ca, [contract(factory, dossier, "房地产买卖合同")])
    url = f"{API}/handovers/{first['id']}"
    assert first["number"] in assert_problem(client.post(f"{url}/send", headers=ca), 409, "conflict")["detail"]
    assert_problem(client.get(f"{url}/receipt.pdf", headers=ca), 404, "not-found")
    assert_problem(client.post(f"{url}/checks", headers=archive, json={"items": [
        {"item_id": first["items"][0]["id"], "counted_items": 1, "counted_pages": 1}]}), 409, "conflict")
    # The same document cannot go on a second batch while the first is open.
    second = _ok(client.post(f"{API}/handovers", json={"rule_id": first["rule_id"]}, headers=ca), 201)
    taken = client.post(f"{API}/handovers/{second['id']}/documents", headers=ca,
                        json={"document_ids": [first["items"][0]["document_id"]]})
    assert first["number"] in assert_problem(taken, 400, "validation-error")["detail"]
    assert "添加" in assert_problem(client.post(f"{API}/handovers/{second['id']}/sign-off", headers=ca),
                                           400, "validation-error")["detail"]
    # A line is only addressed under its own batch.
    assert_problem(client.delete(f"{API}/handovers/{second['id']}/items/{first['items'][0]['id']}", headers=ca),
                   404, "not-found")
    removed = _ok(client.delete(f"{url}/items/{first['items'][0]['id']}", headers=ca))
    assert removed["items"] == []
    assert _ok(client.post(f"{url}/cancel", json={"reason": "重新整理"}, headers=ca))["status"] == "cancelled"
    assert_problem(client.post(f"{url}/cancel", json={}, headers=ca), 409, "conflict")

    # The list pages by cursor; a status narrows it.
    page = _ok(client.get(f"{API}/handovers?limit=1", headers=ca))
    seen = [b["id"] for b in page["items"]]
    while page["next"]:
        page = _ok(client.get(page["next"], headers=ca))
        seen += [b["id"] for b in page["items"]]
    assert seen == [first["id"], second["id"]]
    assert [b["id"] for b in _ok(client.get(f"{API}/handovers?status=cancelled", headers=ca))["items"]] == [
        first["id"]]
