"""The handover receipt (交接清单): lists every line with its counts and check result, the totals and both
confirmations in Chinese that renders; its QR code, read back from the printed page, carries the receipt number
and the hash of its content."""
from __future__ import annotations

import hashlib
import io
import re
import shutil
import subprocess
from datetime import datetime, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from archive.auth.services import department_by_code
from archive.core.enums import Carrier, Category, Level, Role
from archive.core.errors import ValidationError
from archive.extensions import db
from archive.handovers.models import Handover, HandoverItem, HandoverRule, HandoverStatus, ItemCheck, Schedule
from archive.handovers.receipt import canonical_json, parse_qr_payload, receipt_content, receipt_pdf
from archive.integrity.checks import four_property_check
from archive.integrity.models import CheckContext
from tests.factories import make_pdf

UTC = timezone.utc
LOOK_AT = Path("/tmp/handover-receipt")  # pages kept for a human to look at: /tmp/handover-receipt-1.png, ...


def squeeze(text: str) -> str:
    """Table cells wrap: compare without the line breaks and spaces a wrap puts inside a value."""
    return re.sub(r"\s+", "", text)


def pdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def first_page_png(pdf: bytes, dpi: int) -> bytes:
    done = subprocess.run(["pdftoppm", "-r", str(dpi), "-f", "1", "-l", "1", "-png", "-"], input=pdf,
                          capture_output=True, check=True)
    return done.stdout


def person(factory, username: str, name: str, department: str, role: Role):
    user = factory.user(username, roles=(role,), department=department, clearance=Level.B)
    user.display_name = name
    return user


def completed_handover(factory) -> Handover:
    """QY documents of customer affairs handed to the GM office: two electronic contracts (one fails its
    checks and is returned), one paper copy; a B-level line makes a witness necessary."""
    clerk = person(factory, "zhang-clerk", "张晓红", "CA", Role.CLERK)
    head = person(factory, "li-head", "李主任", "CA", Role.DEPT_HEAD)
    receiver = person(factory, "wang-archivist", "王档案", "GMO", Role.ARCHIVIST)
    witness = person(factory, "zhao-witness", "赵监交", "GMO", Role.ARCHIVIST)
    dossier = factory.dossier(factory.project("LJY", "丽景苑"))
    contract = factory.document(dossier, title="房地产买卖合同", category=Category.QY, department="CA",
                                level=Level.B, content=make_pdf("房地产买卖合同", pages=12), filename="合同.pdf")
    mortgage = factory.document(dossier, title="按揭合同（中国银行）", category=Category.QY, department="CA",
                                content=make_pdf("按揭合同", pages=6), filename="按揭.pdf")
    supplement = factory.document(dossier, title="补充协议（车位）", category=Category.QY, department="CA",
                                  content=make_pdf("补充协议", pages=2), filename="补充协议.pdf")
    mortgage.current_version.cipher_sha256 = "0" * 64  # damage found at the check: the line is returned
    db.session.commit()
    accepted = four_property_check(contract, context=CheckContext.HANDOVER, actor=receiver)
    failed = four_property_check(mortgage, context=CheckContext.HANDOVER, actor=receiver)
    assert accepted.ok and not failed.ok

    ca, gmo = department_by_code("CA"), department_by_code("GMO")
    rule = HandoverRule(category=Category.QY, from_department_id=ca.id, to_department_id=gmo.id,
                        schedule=Schedule.AFTER_MOVE_IN_THEN_QUARTERLY)
    checked_at = datetime(2025, 6, 10, 2, 0, tzinfo=UTC)
    handover = Handover(
        number="YJ-2025-0007", from_department_id=ca.id, to_department_id=gmo.id, rule=rule,
        status=HandoverStatus.COMPLETED, witness_required=True, note="二季度签约资料移交",
        created_at=datetime(2025, 6, 3, 1, 0, tzinfo=UTC), created_by_id=clerk.id,
        signed_off_at=datetime(2025, 6, 4, 6, 15, tzinfo=UTC), signed_off_by_id=head.id,
        sent_at=datetime(2025, 6, 5, 0, 45, tzinfo=UTC), sent_by_id=clerk.id,
        received_at=datetime(2025, 6, 10, 2, 30, tzinfo=UTC), received_by_id=receiver.id,
        sender_confirmed_at=datetime(2025, 6, 10, 7, 5, tzinfo=UTC), sender_confirmed_by_id=clerk.id,
        witnessed_at=datetime(2025, 6, 11, 1, 20, tzinfo=UTC), witness_id=witness.id,
        items=[
            HandoverItem(document_id=contract.id, carrier=Carrier.ELECTRONIC, item_count=1, pages=12,
                         is_original=True, condition="完好", check=ItemCheck.ACCEPTED, counted_items=1,
                         counted_pages=12, check_report=accepted.results, checked_at=checked_at,
                         checked_by_id=receiver.id),
            HandoverItem(document_id=mortgage.id, carrier=Carrier.ELECTRONIC, item_count=1, pages=6,
                         is_original=True, condition="完好", check=ItemCheck.RETURNED, counted_items=1,
                         counted_pages=6, check_report=failed.results, checked_at=checked_at,
                         checked_by_id=receiver.id,
                         reason="; ".join(f["message"] % f["params"] for _, f in failed.failures)),
            HandoverItem(document_id=supplement.id, carrier=Carrier.PAPER, item_count=2, pages=4,
                         is_original=False, condition="右上角破损", remarks="另附复印件一份", check=ItemCheck.ACCEPTED,
                         counted_items=2, counted_pages=4, checked_at=checked_at, checked_by_id=receiver.id),
        ],
    )
    db.session.add(handover)
    db.session.commit()
    return handover


@pytest.fixture
def receipt_handover(factory) -> Handover:
    return completed_handover(factory)


def test_the_receipt_lists_every_line_the_totals_and_the_confirmations(receipt_handover):
    receipt = receipt_pdf(receipt_handover)

    text = squeeze(pdf_text(receipt.pdf))
    for item in receipt_handover.items:
        assert squeeze(item.document.archive_number) in text
        assert squeeze(item.document.title) in text
    assert squeeze("共 3 条，件数合计 4 件，页数合计 22 页；接收 2 条（3 件，16 页），退回 1 条。") in text
    assert squeeze("交接清单") in text and "YJ-2025-0007" in text
    for expected in ("销售经营部客户事务组", "总经理办公室", "张晓红(zhang-clerk)", "王档案(wang-archivist)",
                     "李主任(li-head)", "赵监交(zhao-witness)", "右上角破损", "另附复印件一份", "二季度签约资料移交"):
        assert squeeze(expected) in text, expected
    # Times are local (Asia/Shanghai): received 02:30 UTC, witnessed 01:20 UTC the next day.
    assert "2025-06-1010:30" in text and "2025-06-1109:20" in text
    # The returned line says why; the check summary counts the electronic lines per property.
    assert squeeze("does not match the checksum recorded at filing") in text
    assert squeeze("四性检测：未通过 真实性") in text
    content = receipt_content(receipt_handover)
    assert content["checks"]["authenticity"] == {"passed": 1, "failed": 1}
    assert content["checks"]["usability"] == {"passed": 2, "failed": 0}
    assert [line["checks"] for line in content["lines"]][2] is None  # paper: no four-property checks


def test_the_qr_code_on_the_printed_page_carries_the_number_and_the_content_hash(receipt_handover, tmp_path):
    assert shutil.which("zbarimg"), "install zbar-tools (scripts/bootstrap does)"
    receipt = receipt_pdf(receipt_handover)
    page = tmp_path / "receipt.png"
    page.write_bytes(first_page_png(receipt.pdf, 200))

    done = subprocess.run(["zbarimg", "--quiet", "--raw", str(page)], capture_output=True, text=True, check=True)

    payload = done.stdout.strip()
    assert payload == f"YJ-2025-0007|{receipt.content_sha256}"
    assert parse_qr_payload(payload) == ("YJ-2025-0007", receipt.content_sha256)
    assert receipt.content_sha256 == hashlib.sha256(canonical_json(receipt_content(receipt_handover))).hexdigest()


def test_the_content_hash_is_deterministic_and_covers_the_content(receipt_handover):
    first = receipt_pdf(receipt_handover)
    db.session.expire_all()  # read everything again from the database
    handover = db.session.scalar(sa.select(Handover).where(Handover.number == "YJ-2025-0007"))
    assert receipt_pdf(handover).content_sha256 == first.content_sha256

    handover.items[2].counted_pages = 3
    assert receipt_pdf(handover).content_sha256 != first.content_sha256


def test_the_pages_render_for_a_person_to_look_at(receipt_handover):
    """Writes every page as PNG; a person looks at them (a missing font would print boxes)."""
    pdf = receipt_pdf(receipt_handover).pdf
    for old in LOOK_AT.parent.glob(f"{LOOK_AT.name}-*.png"):
        old.unlink()
    subprocess.run(["pdftoppm", "-r", "100", "-png", "-", str(LOOK_AT)], input=pdf, check=True)
    pages = sorted(LOOK_AT.parent.glob(f"{LOOK_AT.name}-*.png"))
    assert len(pages) == len(PdfReader(io.BytesIO(pdf)).pages) >= 1


def test_parse_qr_payload_refuses_what_is_not_a_receipt_code():
    sha = "a" * 64
    assert parse_qr_payload(f" YJ-2025-0001|{sha.upper()}\n") == ("YJ-2025-0001", sha)
    for text in ("", sha, f"|{sha}", "YJ-2025-0001|abc", f"YJ-2025-0001 {sha}", "https://example.com/x"):
        with pytest.raises(ValidationError):
            parse_qr_payload(text)
