"""The document page: metadata, versions, viewer, downloads, corrections and their audit trail."""
from __future__ import annotations

import io
import json
from datetime import date

import sqlalchemy as sa
from PIL import Image

from archive.audit.models import AuditEvent
from archive.core.enums import Carrier, Category, Level, Retention
from archive.documents.models import Document
from archive.extensions import db
from tests.factories import csrf_token, login_in_english, make_image, make_pdf


def _events(action: str, doc: Document) -> list[dict]:
    rows = db.session.scalars(sa.select(AuditEvent).where(
        AuditEvent.action == action, AuditEvent.object_type == "document", AuditEvent.object_id == str(doc.id),
    ).order_by(AuditEvent.seq))
    return [json.loads(row.details) for row in rows]


def _edit_data(client, doc_id: int, **changes) -> dict:
    """The edit form as the page fills it in for the factory's document, with some fields changed."""
    data = {
        "csrf_token": csrf_token(client, f"/documents/{doc_id}"),
        "title": "认购书", "responsible_party": "丽景苑置业有限公司", "doc_number": "", "doc_date": "2023-05-08",
        "page_count": "1", "is_original": "original", "carrier": "electronic", "retention": "Y",
        "location_room": "", "location_box": "", "location_shelf": "", "remarks": "",
    }
    data.update(changes)
    return {f"edit-{name}": value for name, value in data.items()}


def test_page_shows_metadata_versions_and_viewer(client, factory, clerk):
    dossier = factory.dossier()
    doc = factory.document(dossier, title="房地产买卖合同", category="QY", scope_departments=("LEGAL",))
    login_in_english(client, factory, clerk)

    page = client.get(f"/documents/{doc.id}").get_data(as_text=True)

    for text in (doc.archive_number, "房地产买卖合同", "丽景苑置业有限公司", "2023-05-08", "Contract 签约资料",
                 "项目销售组", "法律室", "3栋2单元1502", "Permanent 永久", "scan.pdf", "application/pdf"):
        assert text in page, text
    assert 'class="badge level-C"' in page
    assert f'<iframe class="viewer" src="/documents/{doc.id}/preview"' in page
    assert f"/documents/{doc.id}/download?version=1" in page
    assert "Correct the metadata" in page and "File a corrected version" in page
    assert _events("document.view", doc)[-1]["archive_number"] == doc.archive_number


def test_readers_who_may_not_edit_see_no_forms_and_cannot_post(client, factory):
    dossier = factory.dossier()
    doc = factory.document(dossier)
    compliance = factory.user("compliance", roles=("compliance",), department="GMO", clearance=Level.A)
    login_in_english(client, factory, compliance)

    page = client.get(f"/documents/{doc.id}").get_data(as_text=True)
    assert doc.archive_number in page and "Correct the metadata" not in page

    response = client.post(f"/documents/{doc.id}/edit", data=_edit_data(client, doc.id, title="改过的题名"))
    assert response.status_code == 404
    db.session.expire_all()
    assert db.session.get(Document, doc.id).title == "认购书"


def test_a_correction_is_a_new_version_and_the_original_stays(client, factory, clerk):
    dossier = factory.dossier()
    original = make_pdf("认购书 原件")
    doc = factory.document(dossier, content=original, filename="认购书.pdf")
    login_in_english(client, factory, clerk)
    corrected = make_pdf("认购书 更正后", pages=2)

    response = client.post(f"/documents/{doc.id}/versions", content_type="multipart/form-data", data={
        "version-csrf_token": csrf_token(client, f"/documents/{doc.id}"),
        "version-file": (io.BytesIO(corrected), "认购书-更正.pdf"), "version-note": "补签页码",
    })

    assert response.status_code == 302
    page = client.get(f"/documents/{doc.id}").get_data(as_text=True)
    assert "认购书.pdf" in page and "认购书-更正.pdf" in page and "补签页码" in page
    assert client.get(f"/documents/{doc.id}/download").get_data() == corrected
    assert client.get(f"/documents/{doc.id}/download?version=1").get_data() == original
    assert client.get(f"/documents/{doc.id}/download?version=2").get_data() == corrected
    assert client.get(f"/documents/{doc.id}/download?version=3").status_code == 404
    (event,) = _events("document.version", doc)
    assert (event["version"], event["filename"], event["note"]) == (2, "认购书-更正.pdf", "补签页码")
    assert [e["version"] for e in _events("document.download", doc)] == [2, 1, 2]


def test_a_new_version_needs_a_reason_and_a_good_file(app, client, factory, clerk):
    dossier = factory.dossier()
    doc = factory.document(dossier)
    login_in_english(client, factory, clerk)

    def post(content: bytes, note: str):
        return client.post(f"/documents/{doc.id}/versions", content_type="multipart/form-data", data={
            "version-csrf_token": csrf_token(client, f"/documents/{doc.id}"),
            "version-file": (io.BytesIO(content), "更正.pdf"), "version-note": note,
        })

    assert post(make_pdf(), "").status_code == 400
    response = post(make_pdf(encrypt_with="pw"), "更正")
    assert response.status_code == 400
    assert "更正.pdf: the PDF is encrypted or password-protected" in response.get_data(as_text=True)
    db.session.expire_all()
    assert [v.version for v in db.session.get(Document, doc.id).versions] == [1]


def test_metadata_edit_records_old_and_new_values(client, factory, clerk):
    dossier = factory.dossier()
    doc = factory.document(dossier)
    login_in_english(client, factory, clerk)

    response = client.post(f"/documents/{doc.id}/edit", data=_edit_data(
        client, doc.id, title="认购书（更正）", location_box="盒7", doc_date="2023-05-09", carrier="paper",
        level="A", category="QT", department_id="7",
    ))

    assert response.status_code == 302
    db.session.expire_all()
    doc = db.session.get(Document, doc.id)
    assert (doc.title, doc.location_box, doc.doc_date, doc.carrier) == (
        "认购书（更正）", "盒7", date(2023, 5, 9), Carrier.PAPER)
    assert (doc.level, doc.category, doc.department.code) == (Level.C, Category.XS, "SALES")
    (event,) = _events("document.update", doc)
    assert event["changes"] == {
        "title": ["认购书", "认购书（更正）"],
        "location_box": ["", "盒7"],
        "doc_date": ["2023-05-08", "2023-05-09"],
        "carrier": ["electronic", "paper"],
    }


def test_metadata_edit_refuses_a_shorter_retention(client, factory, clerk):
    dossier = factory.dossier()
    doc = factory.document(dossier)
    login_in_english(client, factory, clerk)

    response = client.post(f"/documents/{doc.id}/edit", data=_edit_data(client, doc.id, retention="D10"))

    assert response.status_code == 400
    assert "cannot be shorter than the schedule" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Document, doc.id).retention is Retention.PERMANENT
    assert _events("document.update", doc) == []


def test_pdf_previews_inline(client, factory, clerk):
    dossier = factory.dossier()
    content = make_pdf("入伙通知书")
    doc = factory.document(dossier, content=content, filename="入伙通知书.pdf")
    login_in_english(client, factory, clerk)

    response = client.get(f"/documents/{doc.id}/preview")

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("inline;")
    assert response.headers["Cache-Control"] == "private, no-store"
    assert response.get_data() == content
    assert _events("document.preview", doc)[-1]["version"] == 1


def test_tiff_previews_as_a_png_of_its_first_page(client, factory, clerk):
    dossier = factory.dossier()
    doc = factory.document(dossier, content=make_image("TIFF", size=(300, 420), frames=3), filename="扫描.tif")
    login_in_english(client, factory, clerk)

    page = client.get(f"/documents/{doc.id}").get_data(as_text=True)
    assert f'<img class="viewer" src="/documents/{doc.id}/preview"' in page
    response = client.get(f"/documents/{doc.id}/preview")

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "image/png"
    assert "filename*=UTF-8''%E6%89%AB%E6%8F%8F.png" in response.headers["Content-Disposition"]
    assert response.headers["Content-Length"] == str(len(response.get_data()))
    with Image.open(io.BytesIO(response.get_data())) as image:
        assert (image.format, image.size) == ("PNG", (300, 420))
        assert image.convert("RGB").getpixel((10, 10)) == (255, 255, 255)  # the first page's colour
    download = client.get(f"/documents/{doc.id}/download")
    assert download.headers["Content-Type"] == "image/tiff"


def test_invisible_documents_look_missing_everywhere(client, factory, clerk):
    dossier = factory.dossier()
    secret = factory.document(dossier, level="B")
    other_department = factory.document(dossier, department="FIN")
    login_in_english(client, factory, clerk)

    for doc in (secret, other_department):
        for path in ("", "/download", "/preview", "/download?version=1"):
            assert client.get(f"/documents/{doc.id}{path}").status_code == 404
    assert client.get("/documents/999999").status_code == 404
