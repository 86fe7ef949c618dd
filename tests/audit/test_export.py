"""Exporting the trail as CSV and PDF: the filtered rows, readable Chinese, audited, and only for auditors."""
from __future__ import annotations

import csv
import io
import json

import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from archive.audit import services as audit
from archive.audit.models import AuditEvent
from archive.core.enums import Role
from archive.extensions import db


@pytest.fixture
def filed(factory):
    """Two documents with Chinese file names, each opened once by a sales clerk."""
    dossier = factory.dossier()
    subscription = factory.document(dossier, title="认购书", filename="认购书扫描件.pdf")
    contract = factory.document(dossier, category="QY", title="房地产买卖合同", filename="买卖合同.pdf")
    clerk = factory.user("sales-li", department="SALES")
    for document in (subscription, contract):
        audit_view(clerk, document)
    return subscription, contract


def audit_view(clerk, document) -> None:
    from archive.documents.services import get_document

    get_document(clerk, document.id)


def _exports() -> list[dict]:
    db.session.expire_all()
    return [json.loads(e.details) | {"actor": e.actor_name}
            for e in db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "audit.export"))]


def test_csv_has_a_bom_chinese_text_and_exactly_the_filtered_rows(client, factory, filed, monkeypatch):
    subscription, _ = filed
    monkeypatch.setattr(audit, "EXPORT_BATCH", 2)  # several batches even on a short trail
    factory.login(client, factory.user("he.min", roles=(Role.COMPLIANCE,), department="GMO"))

    response = client.get("/audit/export.csv", query_string={"document": subscription.archive_number})

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="audit-')
    body = response.get_data()
    assert body.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))
    expected = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.object_type == "document",
                                    AuditEvent.object_id == str(subscription.id)).order_by(AuditEvent.seq)).all()
    assert [(int(r["seq"]), r["action"], r["hash"]) for r in rows] == [
        (e.seq, e.action, e.hash) for e in expected]
    assert [r["action"] for r in rows] == ["document.upload", "document.view"]
    upload, view = rows
    assert json.loads(upload["details"])["filename"] == "认购书扫描件.pdf"
    assert (view["actor"], view["department"]) == ("sales-li", "项目销售组 (SALES)")
    shown = expected[1].occurred_at.astimezone(audit.archive_zone()).strftime("%Y-%m-%d %H:%M:%S")
    assert view["time"] == shown and view["object"] == f"document {subscription.id}"
    assert _exports() == [{"format": "csv", "filters": {"document": subscription.archive_number},
                           "actor": "he.min"}]


def test_pdf_lists_the_chinese_rows_filters_and_chain_status(client, factory, filed):
    subscription, contract = filed
    head = factory.user("gmo-head", roles=(Role.ARCHIVE_HEAD,), department="GMO")
    factory.login(client, head)
    client.post("/audit/verify", data={"csrf_token": _token(client)})

    response = client.get("/audit/export.pdf", query_string={"action": "document.upload"})

    assert response.status_code == 200 and response.mimetype == "application/pdf"
    reader = PdfReader(io.BytesIO(response.get_data()))
    first = reader.pages[0].extract_text()
    text = "".join(page.extract_text() for page in reader.pages)
    assert "审计记录" in first and "操作 Action: document.upload" in first
    assert "完整 Intact" in first and "gmo-head" in first
    assert "认购书扫描件.pdf" in text and "买卖合同.pdf" in text
    assert "document.view" not in text
    assert f"第 1 页 / 共 {len(reader.pages)} 页" in first
    assert reader.pages[0].mediabox.width > reader.pages[0].mediabox.height  # landscape
    assert _exports() == [{"format": "pdf", "filters": {"action": "document.upload"}, "events": 2,
                           "actor": "gmo-head"}]


def _token(client) -> str:
    from tests.factories import csrf_token

    return csrf_token(client, "/audit")


def test_a_pdf_too_long_to_read_is_refused_with_a_way_out(client, factory, filed, monkeypatch):
    monkeypatch.setattr(audit, "PDF_MAX_EVENTS", 3)
    factory.login(client, factory.user("he.min", roles=(Role.COMPLIANCE,), department="GMO"))

    response = client.get("/audit/export.pdf")

    assert response.status_code == 400
    assert "a PDF lists at most 3: narrow the filters or export CSV" in response.get_data(as_text=True)
    assert _exports() == []


@pytest.mark.parametrize("roles", [(Role.CLERK,), (Role.ADMIN,), (Role.ARCHIVIST,), (Role.DEPT_HEAD,)])
def test_exports_and_daily_hashes_are_403_for_everyone_but_auditors(client, factory, roles):
    factory.login(client, factory.user("someone", roles=roles, department="GMO"))

    for path in ("/audit/export.csv", "/audit/export.pdf", "/audit/daily-hashes"):
        assert client.get(path).status_code == 403, path

    assert _exports() == []
    actions = db.session.scalars(sa.select(AuditEvent.action)).all()
    assert "audit.daily_hashes" not in actions and actions.count("access.denied") == 3
