"""Documents through the API: the same permission answers as the pages, uploads and downloads byte for byte,
versions, CSRF for session requests, cursor pages, problem+json errors."""
from __future__ import annotations

import io

import sqlalchemy as sa

from archive.audit.models import AuditEvent
from archive.core.enums import Level, Role
from archive.extensions import db
from tests.api.conftest import API, assert_problem, bearer
from tests.factories import csrf_token, login_in_english, make_pdf


def upload_form(content: bytes, filename: str = "合同扫描.pdf", **fields) -> dict:
    return {"category": "QY", "title": "房地产买卖合同", "responsible_party": "丽景苑置业有限公司",
            "doc_date": "2024-03-18", "file": (io.BytesIO(content), filename), **fields}


def test_upload_of_a_chinese_pdf_then_download_gives_the_same_bytes(client, factory):
    dossier = factory.dossier()
    clerk = factory.user("sales-api", clearance=Level.B)
    headers = bearer(clerk)
    content = make_pdf("房地产买卖合同", "押金 人民币 5,000 元", pages=2)

    response = client.post(f"{API}/dossiers/{dossier.id}/documents", headers=headers,
                           data=upload_form(content, level="B"), content_type="multipart/form-data")
    assert response.status_code == 201, response.get_data(as_text=True)
    (filed,) = response.get_json()["items"]
    assert filed["archive_number"].endswith("-QY-0001") and filed["level"] == "B" and filed["department"] == "SALES"
    assert filed["page_count"] == 2

    download = client.get(f"{API}/documents/{filed['id']}/file", headers=headers)
    assert download.status_code == 200 and download.mimetype == "application/pdf"
    assert download.get_data() == content
    assert download.headers["Cache-Control"] == "private, no-store"
    actions = list(db.session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.seq)))
    assert actions.index("document.upload") < actions.index("document.download")

    corrected = make_pdf("房地产买卖合同（更正）")
    version = client.post(f"{API}/documents/{filed['id']}/versions", headers=headers,
                          data={"file": (io.BytesIO(corrected), "更正.pdf"), "note": "页码更正"},
                          content_type="multipart/form-data")
    assert version.status_code == 201 and version.get_json()["version"] == 2
    versions = client.get(f"{API}/documents/{filed['id']}/versions", headers=headers).get_json()["items"]
    assert [v["version"] for v in versions] == [2, 1] and versions[1]["filename"] == "合同扫描.pdf"
    assert client.get(f"{API}/documents/{filed['id']}/file?version=1", headers=headers).get_data() == content
    assert client.get(f"{API}/documents/{filed['id']}/file", headers=headers).get_data() == corrected


def test_a_refused_upload_is_a_problem_and_files_nothing(client, factory):
    dossier = factory.dossier()
    headers = bearer(factory.user("sales-api"))
    body = assert_problem(client.post(f"{API}/dossiers/{dossier.id}/documents", headers=headers,
                                      data=upload_form(b"not a scan", "x.pdf"), content_type="multipart/form-data"),
                          400, "validation-error")
    assert "x.pdf" in body["detail"]
    above = client.post(f"{API}/dossiers/{dossier.id}/documents", headers=headers,
                        data=upload_form(make_pdf("机密"), level="A"), content_type="multipart/form-data")
    assert_problem(above, 400, "validation-error")
    missing = client.post(f"{API}/dossiers/{dossier.id}/documents", headers=headers,
                          data={"title": "无文件"}, content_type="multipart/form-data")
    body = assert_problem(missing, 422, "invalid-parameters")
    assert {"file", "category"} <= set(body["errors"]["multipart"])
    assert client.get(f"{API}/dossiers/{dossier.id}/documents", headers=headers).get_json()["items"] == []


def test_a_clerk_cannot_read_another_department_s_document_exactly_as_in_the_ui(client, factory):
    dossier = factory.dossier()
    sales_doc = factory.document(dossier, department="SALES", title="认购书")
    own_doc = factory.document(dossier, department="CSC", category="WX", title="维修单")
    csc_clerk = factory.user("csc-api", department="CSC")
    headers = bearer(csc_clerk)

    for path in (f"/documents/{sales_doc.id}", f"/documents/{sales_doc.id}/file",
                 f"/documents/{sales_doc.id}/versions", "/documents/999999"):
        assert_problem(client.get(API + path, headers=headers), 404, "not-found")
    listed = client.get(f"{API}/dossiers/{dossier.id}/documents", headers=headers).get_json()["items"]
    assert [d["id"] for d in listed] == [own_doc.id]
    assert client.get(f"{API}/documents/{own_doc.id}", headers=headers).status_code == 200
    denied = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "access.denied")).all()
    assert {e.object_id for e in denied} == {str(sales_doc.id)}

    login_in_english(client, factory, csc_clerk)  # the page answers the same
    assert client.get(f"/documents/{sales_doc.id}").status_code == 404


def test_session_requests_need_the_csrf_token_token_requests_do_not(client, factory):
    dossier = factory.dossier()
    clerk = factory.user("sales-csrf")
    login_in_english(client, factory, clerk)
    data = lambda: upload_form(make_pdf("认购书"))  # noqa: E731
    path = f"{API}/dossiers/{dossier.id}/documents"

    assert client.get(f"{API}/dossiers/{dossier.id}", headers={}).status_code == 200  # reading needs none
    assert_problem(client.post(path, data=data(), content_type="multipart/form-data"), 400, "csrf-failed")
    token = csrf_token(client, "/account")
    with_csrf = client.post(path, data=data(), content_type="multipart/form-data", headers={"X-CSRFToken": token})
    assert with_csrf.status_code == 201
    with_bearer = client.post(path, data=data(), content_type="multipart/form-data", headers=bearer(clerk))
    assert with_bearer.status_code == 201


def test_cursor_pages_walk_every_dossier_once(client, factory):
    project = factory.project("PAGE", "分页花园")
    made = {factory.dossier(project, building="01", unit=f"1-{n:02d}", unit_name=f"1单元{n:02d}").id
            for n in range(1, 8)}
    headers = bearer(factory.user("gmo-reader", roles=(Role.ARCHIVIST,), department="GMO"))
    seen, url, pages = [], f"{API}/dossiers?limit=3&project_id={project.id}", 0
    while url:
        body = client.get(url, headers=headers).get_json()
        seen += [d["id"] for d in body["items"]]
        url, pages = body["next"], pages + 1
    assert pages == 3 and len(seen) == len(set(seen)) and set(seen) == made
    assert_problem(client.get(f"{API}/dossiers?cursor=bm9wZQ", headers=headers), 400, "validation-error")
    body = assert_problem(client.get(f"{API}/dossiers?limit=500", headers=headers), 422, "invalid-parameters")
    assert "limit" in body["errors"]["query"]


def test_a_project_s_units_lead_to_their_dossiers(client, factory):
    project = factory.project("UNIT", "翠湖花园")
    shop = factory.dossier(project, building="02", unit="S-101", unit_name="商铺101", building_name="2栋")
    flat = factory.dossier(project, building="01", unit="1-0801", unit_name="1单元0801", building_name="1栋")
    headers = bearer(factory.user("unit-reader", roles=(Role.ARCHIVIST,), department="GMO"))

    units = client.get(f"{API}/projects/{project.id}/units", headers=headers).get_json()["items"]
    assert [(u["building"], u["name"], u["dossier_id"]) for u in units] == [
        ("1栋", "1单元0801", flat.id), ("2栋", "商铺101", shop.id)]
    dossier = client.get(f"{API}/dossiers/{units[0]['dossier_id']}", headers=headers).get_json()
    assert dossier["unit"]["name"] == "1单元0801"
    assert_problem(client.get(f"{API}/projects/2147483647/units", headers=headers), 404, "not-found")


def test_unknown_addresses_and_methods_are_problems_too(client, factory):
    headers = bearer(factory.user("sales-404"))
    assert_problem(client.get(f"{API}/nothing-here", headers=headers), 404, "not-found")
    assert_problem(client.delete(f"{API}/projects", headers=headers), 405, "method-not-allowed")


def test_the_openapi_document_is_served_without_a_token(client):
    spec = client.get(f"{API}/openapi.json").get_json()
    assert spec["components"]["securitySchemes"]["bearerAuth"] == {"type": "http", "scheme": "bearer"}
    assert "/problems/not-found" in spec["info"]["description"]
    assert "multipart/form-data" in spec["paths"]["/api/v1/dossiers/{dossier_id}/documents"]["post"]["requestBody"][
        "content"]
