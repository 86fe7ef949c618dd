"""Filing files into a unit's dossier through the upload form."""
from __future__ import annotations

import hashlib
import io
import random
import zipfile
from urllib.parse import unquote

import pytest
import sqlalchemy as sa
from PIL import Image
from pypdf import PdfReader

from archive.core.enums import Level, Retention
from archive.documents.models import Document, FileVersion
from archive.extensions import db
from tests.documents.conftest import blob_files, upload
from tests.factories import csrf_token, login_in_english, make_image, make_pdf


def _documents(dossier) -> list[Document]:
    return list(db.session.scalars(sa.select(Document).where(Document.dossier_id == dossier.id).order_by(Document.seq)))


def test_files_one_pdf_with_its_metadata_and_gives_back_the_same_bytes(app, client, factory, clerk):
    dossier = factory.dossier()
    login_in_english(client, factory, clerk)
    content = make_pdf("认购书", "买受人 张三 3栋2单元1502", pages=2)

    response = upload(client, dossier.id, [(content, "认购书（张三）.pdf")], doc_number="丽景〔2023〕18号")

    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/dossiers/{dossier.id}")
    (doc,) = _documents(dossier)
    assert doc.archive_number == f"{dossier.archive_number}-XS-0001"
    assert doc.archive_number.startswith("QZ01-")
    assert (doc.title, doc.doc_number, doc.page_count, doc.level) == ("认购书", "丽景〔2023〕18号", 2, Level.C)
    assert doc.retention is Retention.PERMANENT  # the schedule for sales papers
    assert doc.location == "3楼档案室 / 盒12 / 架A-3"
    dossier_page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f"Filed 1 document: {doc.archive_number}" in dossier_page

    download = client.get(f"/documents/{doc.id}/download")
    assert download.status_code == 200
    assert hashlib.sha256(download.get_data()).hexdigest() == hashlib.sha256(content).hexdigest()
    assert download.headers["Content-Type"] == "application/pdf"
    assert download.headers["Content-Length"] == str(len(content))
    assert download.headers["Cache-Control"] == "private, no-store"
    disposition = download.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert unquote(disposition.split("filename*=UTF-8''")[1]) == "认购书（张三）.pdf"


def test_stored_blobs_are_encrypted(app, client, factory, clerk):
    dossier = factory.dossier()
    login_in_english(client, factory, clerk)
    pdf = make_pdf("房地产买卖合同", "买受人 张三")
    jpeg = make_image("JPEG")
    assert "房地产买卖合同" in PdfReader(io.BytesIO(pdf)).pages[0].extract_text()

    assert upload(client, dossier.id, [(pdf, "合同.pdf"), (jpeg, "身份证.jpg")]).status_code == 302

    stored = [path.read_bytes() for path in blob_files(app)]
    assert len(stored) == 2
    for blob in stored:
        assert b"%PDF" not in blob and b"ReportLab" not in blob and "房地产买卖合同".encode() not in blob
        assert not blob.startswith(b"\xff\xd8\xff") and b"JFIF" not in blob
        for plain in (pdf, jpeg):
            assert not any(plain[i:i + 32] in blob for i in range(0, len(plain) - 32, 509))


def test_files_three_pdfs_at_once_numbered_in_order(app, client, factory, clerk):
    dossier = factory.dossier()
    login_in_english(client, factory, clerk)
    files = [(make_pdf(f"第{i}份", pages=i), f"认购书-{i}.pdf") for i in (1, 2, 3)]

    assert upload(client, dossier.id, files).status_code == 302

    docs = _documents(dossier)
    assert [d.archive_number for d in docs] == [f"{dossier.archive_number}-XS-{n:04d}" for n in (1, 2, 3)]
    assert [d.page_count for d in docs] == [1, 2, 3]
    assert [d.title for d in docs] == [f"认购书 — 认购书-{i}" for i in (1, 2, 3)]
    for doc, (content, _name) in zip(docs, files):
        assert client.get(f"/documents/{doc.id}/download").get_data() == content


@pytest.mark.parametrize(
    "content,filename,media_type,pages",
    [
        (make_image("JPEG"), "身份证复印件.jpg", "image/jpeg", 1),
        (make_image("PNG"), "交房结算单.png", "image/png", 1),
        (make_image("TIFF", frames=3), "入伙通知书.tif", "image/tiff", 3),
    ],
    ids=["jpeg", "png", "multi-page-tiff"],
)
def test_files_images_with_their_page_count(app, client, factory, clerk, content, filename, media_type, pages):
    dossier = factory.dossier()
    login_in_english(client, factory, clerk)

    assert upload(client, dossier.id, [(content, filename)], category="RH", is_original="copy").status_code == 302

    (doc,) = _documents(dossier)
    assert doc.archive_number == f"{dossier.archive_number}-RH-0001"
    assert (doc.page_count, doc.is_original, doc.retention) == (pages, False, Retention.YEARS_30)
    assert doc.current_version.media_type == media_type
    assert client.get(f"/documents/{doc.id}/download").get_data() == content


def test_a_given_page_count_overrides_the_pages_found(app, client, factory, clerk):
    dossier = factory.dossier()
    login_in_english(client, factory, clerk)
    assert upload(client, dossier.id, [(make_pdf(pages=2), "a.pdf")], page_count="5").status_code == 302
    assert _documents(dossier)[0].page_count == 5


def _zip_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("合同.txt", "房地产买卖合同")
    return buffer.getvalue()


REJECTED = {
    "encrypted": (make_pdf("认购书", encrypt_with="pw"), "加密认购书.pdf", "encrypted or password-protected"),
    "malformed": (b"%PDF-1.7 garbage", "损坏.pdf", "damaged and cannot be read"),
    "empty": (b"", "空白.pdf", "the file is empty"),
    "text": ("房地产买卖合同 全文".encode(), "合同.pdf", "not a PDF, JPEG, PNG or TIFF file"),
    "zip": (_zip_bytes(), "scan.pdf", "not a PDF, JPEG, PNG or TIFF file"),
    "oversized": (make_pdf() + b"\0" * (1024 * 1024), "超大扫描件.pdf", "larger than 1 MB"),
}


@pytest.mark.parametrize("case", REJECTED)
def test_a_rejected_file_is_named_and_leaves_nothing(app, client, factory, clerk, case):
    content, filename, reason = REJECTED[case]
    app.config["MAX_UPLOAD_MB"] = 1
    dossier = factory.dossier()
    login_in_english(client, factory, clerk)
    blobs_before = blob_files(app)

    response = upload(client, dossier.id, [(content, filename)], title="不应归档")

    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert f"{filename}: " in page and reason in page
    assert 'value="不应归档"' in page  # the metadata is kept for the next try
    assert blob_files(app) == blobs_before
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Document)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(FileVersion)) == 0

    assert upload(client, dossier.id, [(make_pdf(), "好的.pdf")]).status_code == 302
    assert [d.archive_number for d in _documents(dossier)] == [f"{dossier.archive_number}-XS-0001"]


def test_one_bad_file_in_a_batch_files_nothing_and_is_named(app, client, factory, clerk):
    dossier = factory.dossier()
    login_in_english(client, factory, clerk)
    blobs_before = blob_files(app)
    files = [(make_pdf("一"), "认购书-1.pdf"), (b"%PDF-1.7 garbage", "坏文件.pdf"), (make_image("PNG"), "认购书-3.png")]

    response = upload(client, dossier.id, files)

    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "坏文件.pdf: the PDF is damaged and cannot be read." in page
    assert "认购书-1.pdf" not in page and "认购书-3.png" not in page
    assert blob_files(app) == blobs_before
    assert _documents(dossier) == []


def test_no_file_chosen_is_explained(app, client, factory, clerk):
    dossier = factory.dossier()
    login_in_english(client, factory, clerk)
    response = upload(client, dossier.id, [])
    assert response.status_code == 400
    assert "Choose at least one file." in response.get_data(as_text=True)


def test_filing_limits_follow_the_filer(app, client, factory, clerk):
    """A clerk sees only levels up to its clearance and its own department; the service refuses the rest."""
    dossier = factory.dossier()
    login_in_english(client, factory, clerk)
    form = client.get(f"/dossiers/{dossier.id}/upload").get_data(as_text=True)
    assert '<option selected value="C">' in form and 'value="B"' not in form
    assert "销售经营部客户事务组" in form  # offered as knowledge scope ...
    assert form.count("财务管理部") == 1  # ... but not as responsible department

    response = upload(client, dossier.id, [(make_pdf(), "a.pdf")], level="B")
    assert response.status_code == 400 and _documents(dossier) == []
    response = upload(client, dossier.id, [(make_pdf(), "a.pdf")], retention="D10")
    assert response.status_code == 400
    assert "cannot be shorter than the schedule" in response.get_data(as_text=True)


def test_only_filers_reach_the_upload_form(app, client, factory):
    dossier = factory.dossier()
    compliance = factory.user("compliance", roles=("compliance",), department="GMO", clearance=Level.A)
    login_in_english(client, factory, compliance)
    assert client.get(f"/dossiers/{dossier.id}/upload").status_code == 404
    response = client.post(f"/dossiers/{dossier.id}/upload", content_type="multipart/form-data", data={
        "csrf_token": csrf_token(client, "/account"), "category": "XS", "title": "认购书",
        "files": [(io.BytesIO(make_pdf()), "a.pdf")]})
    assert response.status_code == 404
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Document)) == 0


def test_a_large_scan_is_streamed_back_in_chunks(app, client, factory, clerk):
    """Bigger than the form parser keeps in memory and than one storage segment: streamed both ways."""
    dossier = factory.dossier()
    login_in_english(client, factory, clerk)
    noise = Image.frombytes("RGB", (1000, 900), random.Random(7).randbytes(1000 * 900 * 3))
    buffer = io.BytesIO()
    noise.save(buffer, format="PNG")
    content = buffer.getvalue()
    assert len(content) > 2.5 * 1024 * 1024

    assert upload(client, dossier.id, [(content, "竣工图.png")]).status_code == 302

    (doc,) = _documents(dossier)
    response = client.get(f"/documents/{doc.id}/download", buffered=False)
    chunks = list(response.response)
    response.close()
    assert len(chunks) >= 3 and max(len(c) for c in chunks) <= 1024 * 1024
    assert b"".join(chunks) == content
