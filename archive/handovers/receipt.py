"""The handover receipt (交接清单): every line with its counts and check result, the totals, the four-property
summary and both confirmations (and the witness's), on A4 landscape, with a QR code to check a printout.

The QR code carries "<number>|<content_sha256>", e.g. "YJ-2025-0007|3f5a…" (64 lowercase hex digits):
the receipt number and the SHA-256 of the receipt's canonical content (`receipt_content`: UTF-8 JSON, keys
sorted, no spaces, times in UTC). The archive stores that hash with the filed receipt (Handover.receipt_sha256),
so a scanned printout can be matched to the record (`parse_qr_payload` reads the code back).

Labels are bilingual, Chinese first; values are in Chinese, the receipt's language, whoever prints it.
Times are printed local (the archive's time zone).
"""
from __future__ import annotations

import hashlib
import io
import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

from flask_babel import force_locale
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from ..core.enums import Carrier
from ..core.errors import ValidationError
from ..integrity.checks import PROPERTIES
from ..reports.layout import (
    EMPTY, LABEL_GREY, Styles, archive_zone, grid, local_time, pairs, person_name, qr_code,
)
from .models import Handover, ItemCheck

RECEIPT_LOCALE = "zh_Hans"
PAGE = landscape(A4)  # ten columns do not fit across a portrait page
MARGIN = 12 * mm
WIDTH = PAGE[0] - 2 * MARGIN
QR_SIZE = 34 * mm
QR_SEPARATOR = "|"
PROPERTY_LABELS = {
    "authenticity": "真实性 Authenticity",
    "integrity": "完整性 Integrity",
    "usability": "可用性 Usability",
    "security": "安全性 Security",
}
# The line's outcome in the receipt's words (a handover line is returned 退回, not a loan's returned 归还).
CHECK_WORDS = {
    ItemCheck.PENDING: "未检查 Not checked",
    ItemCheck.ACCEPTED: "接收 Accepted",
    ItemCheck.RETURNED: "退回 Returned",
}
_SHA256 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class ReceiptPdf:
    pdf: bytes
    content_sha256: str  # SHA-256 of the canonical content; the QR code carries it


def qr_payload(number: str, content_sha256: str) -> str:
    return f"{number}{QR_SEPARATOR}{content_sha256}"


def parse_qr_payload(text: str) -> tuple[str, str]:
    """(number, sha256) from a scanned receipt code; a ValidationError when it is not one."""
    number, separator, sha256 = text.strip().rpartition(QR_SEPARATOR)
    sha256 = sha256.strip().lower()
    if not separator or not number.strip() or not _SHA256.fullmatch(sha256):
        raise ValidationError("This is not the code of a handover receipt.")
    return number.strip(), sha256


def receipt_pdf(handover: Handover) -> ReceiptPdf:
    content = receipt_content(handover)
    content_sha256 = hashlib.sha256(canonical_json(content)).hexdigest()
    zone = archive_zone()
    styles = _ReceiptStyles()
    with force_locale(RECEIPT_LOCALE):
        story = [
            _heading(handover, content_sha256, styles),
            Spacer(0, 3 * mm),
            _facts(handover, zone, styles),
            Spacer(0, 4 * mm),
            Paragraph("交接明细 Items", styles.heading),
            _lines(content, styles),
            Spacer(0, 2 * mm),
            Paragraph(escape(_totals_sentence(content["totals"])), styles.body),
            Spacer(0, 4 * mm),
            Paragraph("四性检测 Four-property checks (DA/T 70-2018)", styles.heading),
            _check_summary(content["checks"], styles),
            Spacer(0, 4 * mm),
            Paragraph("确认 Confirmations", styles.heading),
            _confirmations(handover, zone, styles),
        ]
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer, pagesize=PAGE, leftMargin=MARGIN, rightMargin=MARGIN, topMargin=MARGIN, bottomMargin=MARGIN + 4 * mm,
        title=f"交接清单 {handover.number}", author="Property Archive",
    )

    def footer(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont(styles.font, 7.5)
        canvas.setFillColor(LABEL_GREY)
        canvas.drawString(MARGIN, 8 * mm, f"交接清单 Receipt {handover.number}  ·  "
                                          f"内容校验 SHA-256 {content_sha256}")
        canvas.drawRightString(PAGE[0] - MARGIN, 8 * mm, f"第 {doc.page} 页  Page {doc.page}")
        canvas.restoreState()

    document.build(story, onFirstPage=footer, onLaterPages=footer)
    return ReceiptPdf(buffer.getvalue(), content_sha256)


def canonical_json(content: dict[str, Any]) -> bytes:
    return json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


# The content the hash covers ----------------------------------------------------------------------------


def receipt_content(handover: Handover) -> dict[str, Any]:
    """Everything the receipt states, in plain JSON values: its hash does not depend on the PDF's layout."""
    lines = [_line_content(number, item) for number, item in enumerate(handover.items, start=1)]
    accepted = [line for line in lines if line["check"] == ItemCheck.ACCEPTED.value]
    electronic = [line for line in lines if line["checks"] is not None]
    return {
        "number": handover.number,
        "status": handover.status.value,
        "rule": {"category": handover.rule.category.value, "schedule": handover.rule.schedule.value}
        if handover.rule else None,
        "from_department": _department(handover.from_department),
        "to_department": _department(handover.to_department),
        "witness_required": handover.witness_required,
        "people": {
            "assembled_by": _person(handover.created_by),
            "signed_off_by": _person(handover.signed_off_by),
            "sent_by": _person(handover.sent_by),
            "received_by": _person(handover.received_by),
            "sender_confirmed_by": _person(handover.sender_confirmed_by),
            "witness": _person(handover.witness),
        },
        "dates": {
            "assembled_at": _utc(handover.created_at),
            "signed_off_at": _utc(handover.signed_off_at),
            "sent_at": _utc(handover.sent_at),
            "received_at": _utc(handover.received_at),
            "sender_confirmed_at": _utc(handover.sender_confirmed_at),
            "witnessed_at": _utc(handover.witnessed_at),
            "completed_at": _utc(_completed_at(handover)),
        },
        "lines": lines,
        "totals": {
            "lines": len(lines),
            "items": sum(line["item_count"] for line in lines),
            "pages": sum(line["pages"] for line in lines),
            "accepted_lines": len(accepted),
            "accepted_items": sum(line["item_count"] for line in accepted),
            "accepted_pages": sum(line["pages"] for line in accepted),
            "returned_lines": sum(line["check"] == ItemCheck.RETURNED.value for line in lines),
        },
        "checks": {
            name: {"passed": sum(line["checks"][name] is True for line in electronic),
                   "failed": sum(line["checks"][name] is False for line in electronic)}
            for name in PROPERTIES
        },
    }


def _line_content(number: int, item: Any) -> dict[str, Any]:
    document = item.document
    report = item.check_report or {}
    return {
        "no": number,
        "archive_number": document.archive_number,
        "title": document.title,
        "carrier": item.carrier.value,
        "item_count": item.item_count,
        "pages": item.pages,
        "is_original": item.is_original,
        "condition": item.condition,
        "remarks": item.remarks,
        "check": item.check.value,
        "counted_items": item.counted_items,
        "counted_pages": item.counted_pages,
        "reason": item.reason,
        "checked_at": _utc(item.checked_at),
        "checked_by": _person(item.checked_by),
        # Per property, whether it passed (the findings themselves are in the reason); None for paper.
        "checks": {name: report[name]["ok"] if name in report else None for name in PROPERTIES}
        if item.check_report is not None else None,
    }


def _department(department: Any) -> dict[str, str]:
    return {"code": department.code, "name": department.name}


def _person(user: Any) -> dict[str, str] | None:
    return {"username": user.username, "name": user.display_name} if user else None


def _utc(moment: datetime | None) -> str | None:
    return moment.isoformat(timespec="seconds") if moment else None


def _completed_at(handover: Handover) -> datetime | None:
    """The last confirmation completes the batch: the sender's, or the witness's when one is required."""
    if handover.sender_confirmed_at is None:
        return None
    if not handover.witness_required:
        return handover.sender_confirmed_at
    return max(handover.sender_confirmed_at, handover.witnessed_at) if handover.witnessed_at else None


# The PDF --------------------------------------------------------------------------------------------------


class _ReceiptStyles(Styles):
    """A larger title with subtitles (beside the QR code), body text for the totals, small print for the code."""

    def __init__(self) -> None:
        super().__init__()
        font = self.font
        self.title = ParagraphStyle("title", fontName=font, fontSize=17, leading=23, alignment=TA_CENTER)
        self.subtitle = ParagraphStyle("subtitle", fontName=font, fontSize=9, leading=13, alignment=TA_CENTER,
                                       textColor=LABEL_GREY)
        self.body = ParagraphStyle("body", fontName=font, fontSize=9, leading=13)
        self.code = ParagraphStyle("code", fontName=font, fontSize=6, leading=7.5, alignment=TA_CENTER,
                                   wordWrap="CJK")


def _heading(handover: Handover, content_sha256: str, styles: _ReceiptStyles) -> Table:
    """The title in the middle, the QR code (and what it says, for reading by eye) on the right."""
    payload = qr_payload(handover.number, content_sha256)
    title = [Paragraph("交接清单", styles.title), Paragraph("Handover receipt", styles.subtitle),
             Paragraph(escape(f"编号 No. {handover.number}"), styles.subtitle)]
    code = [qr_code(payload, QR_SIZE), Paragraph(escape(payload), styles.code)]
    side = QR_SIZE + 6 * mm
    table = Table([["", title, code]], colWidths=[side, WIDTH - 2 * side, side])
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "MIDDLE"), ("ALIGN", (2, 0), (2, 0), "CENTER")]))
    return table


def _facts(handover: Handover, zone: ZoneInfo, styles: _ReceiptStyles) -> Table:
    rule = handover.rule
    facts = [
        ("交接清单编号 Receipt number", handover.number),
        ("状态 Status", handover.status.label),
        ("移交部门 From", handover.from_department.name),
        ("接收部门 To", handover.to_department.name),
        ("移交人 Handed over by", person_name(handover.sent_by or handover.created_by)),
        ("接收人 Received by", person_name(handover.received_by)),
        ("交接日期 Date", local_time(_completed_at(handover), zone)),
        ("移交依据 Rule", f"{rule.category.label}：{rule.schedule.label}" if rule else EMPTY),
        ("监交 Witness", person_name(handover.witness) if handover.witness_required else "不需要 Not required"),
        ("发出时间 Sent at", local_time(handover.sent_at, zone)),
    ]
    if handover.note:
        facts.append(("备注 Note", handover.note))
    return pairs(facts, styles, WIDTH, label_share=0.15)


def _check_text(line: dict[str, Any]) -> str:
    text = CHECK_WORDS[ItemCheck(line["check"])]
    if line["counted_items"] is not None:
        text += f"\n清点 Counted: {line['counted_items']} 件 / {line['counted_pages']} 页"
    if line["checks"] is not None:
        failed = [PROPERTY_LABELS[name].split()[0] for name in PROPERTIES if line["checks"][name] is False]
        text += "\n四性检测：" + ("未通过 " + "、".join(failed) if failed else "通过 passed")
    if line["reason"]:
        text += f"\n原因 Reason: {line['reason']}"
    return text


def _lines(content: dict[str, Any], styles: _ReceiptStyles) -> Table:
    rows: list[list[Any]] = [[styles.header(*h) for h in (
        ("序号", "No."), ("档号", "Archive number"), ("题名", "Title"), ("载体", "Carrier"), ("件数", "Items"),
        ("页数", "Pages"), ("原件/复印件", "Original/copy"), ("状况", "Condition"), ("备注", "Remarks"),
        ("检查结果", "Check result"))]]
    for line in content["lines"]:
        rows.append([
            styles.p(line["no"]), styles.p(line["archive_number"]), styles.p(line["title"]),
            styles.p(Carrier(line["carrier"]).label), styles.p(line["item_count"]), styles.p(line["pages"]),
            styles.p("原件 Original" if line["is_original"] else "复印件 Copy"), styles.p(line["condition"]),
            styles.p(line["remarks"]), styles.p(_check_text(line)),
        ])
    totals = content["totals"]
    rows.append([styles.p("合计\nTotal"), styles.p(f"{totals['lines']} 条 lines"), "", "",
                 styles.p(totals["items"]), styles.p(totals["pages"]), "", "", "",
                 styles.p(f"接收 Accepted {totals['accepted_lines']} / 退回 Returned {totals['returned_lines']}")])
    widths = (0.04, 0.19, 0.19, 0.06, 0.045, 0.045, 0.07, 0.07, 0.09, 0.20)
    return grid(rows, [w * WIDTH for w in widths], footer=True)


def _totals_sentence(totals: dict[str, int]) -> str:
    return (f"共 {totals['lines']} 条，件数合计 {totals['items']} 件，页数合计 {totals['pages']} 页；"
            f"接收 {totals['accepted_lines']} 条（{totals['accepted_items']} 件，{totals['accepted_pages']} 页），"
            f"退回 {totals['returned_lines']} 条。 "
            f"Total: {totals['lines']} lines, {totals['items']} items, {totals['pages']} pages; "
            f"accepted {totals['accepted_lines']}, returned {totals['returned_lines']}.")


def _check_summary(checks: dict[str, dict[str, int]], styles: _ReceiptStyles) -> Table:
    rows: list[list[Any]] = [[styles.header(*h) for h in (
        ("检测项", "Property"), ("通过（电子文件）", "Passed (electronic files)"), ("未通过", "Failed"))]]
    for name in PROPERTIES:
        rows.append([styles.p(PROPERTY_LABELS[name]), styles.p(checks[name]["passed"]),
                     styles.p(checks[name]["failed"])])
    return grid(rows, [0.25 * WIDTH, 0.2 * WIDTH, 0.2 * WIDTH])


def _confirmations(handover: Handover, zone: ZoneInfo, styles: _ReceiptStyles) -> Table:
    rows: list[list[Any]] = [[styles.header(*h) for h in (
        ("环节", "Step"), ("部门", "Department"), ("人员", "Person"), ("时间", "Time"))]]
    steps = [
        ("移交部门负责人签发 Signed off (head of the handing department)", handover.from_department,
         handover.signed_off_by, handover.signed_off_at),
        ("接收方确认 Receiver confirmed the checks", handover.to_department, handover.received_by,
         handover.received_at),
        ("移交方确认 Handing side confirmed", handover.from_department, handover.sender_confirmed_by,
         handover.sender_confirmed_at),
    ]
    if handover.witness_required:
        steps.append(("监交人确认 Witness confirmed", handover.witness.department if handover.witness else None,
                      handover.witness, handover.witnessed_at))
    for label, department, person, moment in steps:
        rows.append([styles.p(label), styles.p(department.name if department else EMPTY), styles.p(person_name(person)),
                     styles.p(local_time(moment, zone))])
    if not handover.witness_required:
        rows.append([styles.p("监交人 Witness"), styles.p(EMPTY), styles.p("不需要 Not required"), styles.p(EMPTY)])
    return grid(rows, [0.4 * WIDTH, 0.2 * WIDTH, 0.22 * WIDTH, 0.18 * WIDTH])
