"""Text from every filed file: PDF text layer, OCR of scans and images, kept encrypted, status and re-queue.

Tasks run at once here (QUEUE_IMMEDIATE, see conftest.py); tests/search/test_queue.py runs them in real workers.
"""
from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade
from PIL import Image, ImageDraw, ImageFont
from reportlab.lib.pagesizes import A4
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen import canvas

from archive.audit.models import AuditEvent
from archive.core.enums import Level, Role
from archive.core.types import utcnow
from archive.extensions import db
from archive.search import textstore
from archive.search.extract import normalise_ocr_text
from archive.search.models import ExtractedText, TextStatus
from tests.factories import csrf_token, login_in_english, make_pdf

CJK_FONT = "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"
MISSING_TESSERACT = "/nonexistent/bin/tesseract"


def text_image(*lines: str, size=(1200, 400), font_px: int = 64) -> bytes:
    """A scan-like PNG: black Chinese text on white, at the size of print scanned at 300 dpi."""
    font = ImageFont.truetype(CJK_FONT, font_px, index=0)
    image = Image.new("L", size, 255)
    draw = ImageDraw.Draw(image)
    for i, line in enumerate(lines):
        draw.text((40, 40 + i * int(font_px * 1.8)), line, font=font, fill=0)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def scanned_pdf(*pages: tuple[str, ...]) -> bytes:
    """A PDF whose pages are images only, as a scanner makes them: no text layer at all."""
    out = io.BytesIO()
    pdf = canvas.Canvas(out, pagesize=A4)
    for lines in pages:
        # 1200 × 400 px at 300 dpi: the page renders for OCR at the resolution the image was made for.
        pdf.drawImage(ImageReader(io.BytesIO(text_image(*lines))), 60, 650, width=288, height=96)
        pdf.showPage()
    pdf.save()
    return out.getvalue()


def text_row(doc) -> ExtractedText:
    db.session.expire_all()
    return db.session.scalar(sa.select(ExtractedText).where(ExtractedText.document_id == doc.id))


def stored_bytes(app) -> bytes:
    """Every file of the storage but the search index (derived data, with its own rules)."""
    storage = Path(app.config["STORAGE_DIR"])
    return b"".join(p.read_bytes() for p in storage.rglob("*") if p.is_file() and "index" not in p.relative_to(storage).parts)


def database_text() -> str:
    return " ".join(str(value) for table in db.metadata.sorted_tables
                    for row in db.session.execute(sa.select(table)) for value in row)


def test_a_text_pdf_is_read_from_its_text_layer_without_ocr(app, factory):
    app.config["TESSERACT_CMD"] = MISSING_TESSERACT  # any OCR would fail the extraction
    content = make_pdf("房屋买卖合同 HT-2023-0158", "房屋坐落：丽景苑3栋2单元1502", "押金 人民币 5,000 元", pages=2)

    doc = factory.document(factory.dossier(), content=content)

    row = text_row(doc)
    assert (row.status, row.method, row.page_count, row.error, row.attempts) == (TextStatus.DONE, "pdf-text", 2, "", 1)
    pages = textstore.document_pages(doc)
    assert len(pages) == 2
    assert "HT-2023-0158" in pages[0] and "丽景苑3栋2单元1502" in pages[0] and "第 2 页" in pages[1]


def test_a_scanned_only_pdf_is_read_by_ocr(app, factory):
    content = scanned_pdf(("商品房买卖合同（预售）", "房号 3栋2单元1502 押金 5000元"))

    doc = factory.document(factory.dossier(), content=content)

    row = text_row(doc)
    assert (row.status, row.method, row.page_count) == (TextStatus.DONE, "ocr", 1)
    (page,) = textstore.document_pages(doc)
    assert all(word in page for word in ("合同", "预售", "3栋2单元1502", "押金", "5000元"))


def test_a_scan_filed_without_tesseract_fails_with_the_reason_and_is_read_once_requeued(app, factory, client):
    app.config.update(TESSERACT_CMD=MISSING_TESSERACT, TEXT_RETRY_DELAY=0)
    clerk = factory.user("sales-clerk", roles=(Role.CLERK,), department="SALES")
    reader = factory.user("reader", roles=(Role.COMPLIANCE,), department="LEGAL", clearance=Level.A)
    image = text_image("购房合同 HT-2023-0158", "房号 3栋2单元1502 押金 5000元")
    doc = factory.document(factory.dossier(), content=image, filename="扫描件.png")

    row = text_row(doc)
    assert (row.status, row.attempts) == (TextStatus.FAILED, 3)  # the retry policy: three attempts
    assert row.error.startswith("Tesseract is not installed")
    assert textstore.document_pages(doc) is None

    login_in_english(client, factory, reader)  # may read, may not edit: sees the reason, no button
    html = client.get(f"/documents/{doc.id}").get_data(as_text=True)
    assert "Failed after 3 attempt(s): Tesseract is not installed" in html
    assert "Read the text again" not in html
    token = csrf_token(client, f"/documents/{doc.id}")
    assert client.post(f"/documents/{doc.id}/text/requeue", data={"csrf_token": token}).status_code == 404
    assert text_row(doc).status is TextStatus.FAILED

    client.post("/logout", data={"csrf_token": token})
    login_in_english(client, factory, clerk)
    app.config["TESSERACT_CMD"] = "tesseract"  # installed now
    response = client.post(f"/documents/{doc.id}/text/requeue",
                           data={"csrf_token": csrf_token(client, f"/documents/{doc.id}")}, follow_redirects=True)

    assert "The text of this document will be read again." in response.get_data(as_text=True)
    assert "Done: 1 page(s) read by OCR" in response.get_data(as_text=True)
    row = text_row(doc)
    assert (row.status, row.method, row.attempts, row.error) == (TextStatus.DONE, "ocr", 1, "")
    (page,) = textstore.document_pages(doc)
    # chi_sim sometimes reads "HT-2023" as "HT2023" (measured; see the OCR language choice): the number is checked.
    assert "3栋2单元1502" in page and "押金" in page and "购房合同" in page and "2023-0158" in page
    requeued = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "text.requeue"))
    assert requeued.actor_name == "sales-clerk" and requeued.object_id == str(doc.id)
    # The pages are personal data: encrypted in the blob store, nowhere in plaintext.
    for word in ("购房合同", "押金", "5000元"):  # the unit number is in the dossier's metadata too
        assert word.encode() not in stored_bytes(app)
        assert word not in database_text()


def test_reading_again_replaces_the_text_and_removes_the_old_blob(app, factory, runner):
    doc = factory.document(factory.dossier(), content=make_pdf("维修工单 WX-2024-0032", "卫生间天花板渗水"))
    first = text_row(doc).blob_id
    blobs = Path(app.config["STORAGE_DIR"]) / "blobs"
    assert (blobs / first[:2] / first[2:4] / first).exists()

    result = runner.invoke(args=["text", "requeue", doc.archive_number])

    assert result.exit_code == 0, result.output
    row = text_row(doc)
    assert row.status is TextStatus.DONE and row.blob_id != first
    assert not (blobs / first[:2] / first[2:4] / first).exists()
    assert "WX-2024-0032" in textstore.document_pages(doc)[0]
    # A duplicate message for a finished row changes nothing.
    from archive.search.tasks import extract_text

    extract_text.call_local(row.file_version_id)
    assert text_row(doc).blob_id == row.blob_id and text_row(doc).attempts == 1


def test_a_new_version_gets_its_own_text(app, factory):
    from archive.documents import services as documents

    doc = factory.document(factory.dossier(), content=make_pdf("认购书 旧版"))
    documents.add_version(factory.archivist, doc.id,
                          documents.Upload("更正.pdf", io.BytesIO(make_pdf("认购书 更正版 押金 8,000 元"))), "金额更正")

    rows = db.session.scalars(sa.select(ExtractedText).where(ExtractedText.document_id == doc.id)).all()
    assert len(rows) == 2 and {r.status for r in rows} == {TextStatus.DONE}
    db.session.expire_all()
    assert "更正版" in textstore.document_pages(db.session.get(type(doc), doc.id))[0]


def test_work_left_by_a_stopped_worker_is_queued_again_and_given_up_after_too_many_interruptions(app, factory, runner):
    first = factory.document(factory.dossier(), content=make_pdf("认购书 甲"))
    second = factory.document(factory.dossier(unit="2-1503", unit_name="2单元1503"), content=make_pdf("认购书 乙"))
    expired = utcnow() - timedelta(seconds=1)
    # As a killed worker leaves them: running, lease expired, the result never written.
    db.session.execute(sa.update(ExtractedText).values(
        status=TextStatus.RUNNING, lease_token="dead", lease_expires_at=expired, blob_id=None, key_id=None,
        wrapped_key=None))
    db.session.execute(sa.update(ExtractedText).where(ExtractedText.document_id == second.id).values(attempts=3))
    db.session.commit()

    result = runner.invoke(args=["text", "requeue", "--stale"])

    assert result.exit_code == 0, result.output
    assert "1 left by a stopped worker" in result.output and "1 failed after too many interruptions" in result.output
    assert text_row(first).status is TextStatus.DONE and textstore.document_pages(first) is not None
    assert (text_row(second).status, text_row(second).error) == (
        TextStatus.FAILED, "The worker stopped during the text extraction too many times.")

    status = runner.invoke(args=["text", "status"])
    assert "done: 1" in status.output and "failed: 1" in status.output
    assert f"failed  {second.archive_number}" in status.output and "too many times" in status.output
    result = runner.invoke(args=["text", "requeue", "--failed"])
    assert "Queued 1 failed file version(s) again." in result.output
    assert text_row(second).status is TextStatus.DONE


def test_documents_filed_before_text_extraction_are_read_when_a_worker_starts(app, factory):
    doc = factory.document(factory.dossier(), content=make_pdf("入伙通知书 3栋2单元1502"))
    directory = app.extensions["migrate"].directory
    db.session.remove()
    downgrade(directory=directory, revision="0001")  # as an archive was before this feature
    upgrade(directory=directory)

    row = text_row(doc)
    assert (row.status, row.blob_id) == (TextStatus.PENDING, None)
    from archive.search.tasks import requeue_stale

    requeue_stale(pending_grace=0)  # what `archive worker` does as it starts

    assert "入伙通知书" in textstore.document_pages(doc)[0]


@pytest.mark.parametrize(("ocr_output", "normalised"), [
    ("3 栋 2 单 元 1502", "3栋2单元1502"),
    ("合 同 编 号 : HT-2023-0158\n\n\n\n押 金  人民币 5,000 元\f", "合同编号: HT-2023-0158\n\n押金人民币5,000元"),
    ("Room  1502 and 1503", "Room 1502 and 1503"),
])
def test_ocr_spaces_between_chinese_characters_are_removed(ocr_output, normalised):
    assert normalise_ocr_text(ocr_output) == normalised


def test_the_text_status_is_shown_on_the_document_page(app, factory, client):
    clerk = factory.user("sales-clerk", roles=(Role.CLERK,), department="SALES")
    doc = factory.document(factory.dossier(), content=make_pdf("认购书"))
    login_in_english(client, factory, clerk)

    html = client.get(f"/documents/{doc.id}").get_data(as_text=True)

    assert "Done: 1 page(s) read by the PDF text layer" in html and "Read the text again" in html
