"""The audit trail written out: a streamed CSV (UTF-8 with a BOM, so Excel reads the Chinese) and a landscape PDF
that names the filters used and the chain's state on its first page.

Both write what `services.export_events` gives them, oldest first; times are the archive's local time.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

from ..core.clock import archive_zone
from ..reports.layout import EMPTY, MARGIN, Styles, grid, local_time, numbered_canvas, pairs, printed_at_line
from ..reports.spreadsheet import BOM, spreadsheet_safe
from .services import ChainStatus, ExportedEvent, TrailExport, readable_details

CSV_COLUMNS = ("seq", "time", "actor", "department", "action", "object", "outcome", "ip", "details", "hash")
# The byte-order mark tells Excel the file is UTF-8; without it Chinese shows as mojibake.
CSV_HEADER = BOM + ",".join(CSV_COLUMNS) + "\r\n"


def _object(event: Any) -> str:
    return f"{event.object_type} {event.object_id}".strip()


def csv_chunks(export: TrailExport) -> Iterator[str]:
    """The CSV's rows after CSV_HEADER, a batch per chunk, so memory stays flat however many events match."""
    zone, buffer = archive_zone(), io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for count, item in enumerate(export.events, start=1):
        event = item.event
        writer.writerow([
            event.seq, event.occurred_at.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S"),
            *map(spreadsheet_safe, (event.actor_name, item.department, event.action, _object(event))),
            event.outcome, spreadsheet_safe(event.ip), spreadsheet_safe(event.details), event.hash,
        ])
        if count % 500 == 0:
            yield _drain(buffer)
    yield _drain(buffer)


def _drain(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text


PDF_COLUMNS = (
    ("序号", "No."), ("时间", "Time"), ("操作人", "Actor"), ("部门", "Department"), ("操作", "Action"),
    ("对象", "Object"), ("结果", "Outcome"), ("IP", "IP"), ("详情", "Details"), ("哈希", "Hash"),
)
PDF_WIDTHS = (0.05, 0.09, 0.07, 0.10, 0.10, 0.08, 0.05, 0.07, 0.25, 0.14)
OUTCOME_NAMES = {"success": "成功 success", "denied": "拒绝 denied", "failure": "失败 failure"}
FILTER_NAMES = {
    "action": "操作 Action", "actor": "操作人 Actor", "department": "部门 Department", "document": "文件档号 Document",
    "dossier": "案卷档号 Dossier", "outcome": "结果 Outcome", "date_from": "起始日期 From", "date_to": "截止日期 To",
}


def _verification(status: ChainStatus) -> str:
    if status.last_check is None:
        return "从未在审计页面核验 Never verified from the audit page"
    details = status.last_check_details
    when = f"{local_time(status.last_check.occurred_at)} {status.last_check.actor_name}"
    if status.last_check.outcome == "success":
        return f"完整 Intact: {details.get('checked')} 条 events ({when})"
    return f"断裂于第 {details.get('broken_at')} 条 BROKEN at event {details.get('broken_at')}: " \
           f"{details.get('reason', '')} ({when})"


def trail_pdf(export: TrailExport, status: ChainStatus, exported_by: str) -> bytes:
    styles = Styles()
    page = landscape(A4)
    width = page[0] - 2 * MARGIN
    zone = archive_zone()
    rows: list[list[Any]] = [[styles.header(*h) for h in PDF_COLUMNS]]
    for item in export.events:
        rows.append(_pdf_row(styles, item, zone))
    used = export.filters.in_use()
    facts = [
        ("筛选条件 Filters", "\n".join(f"{FILTER_NAMES[k]}: {v}" for k, v in used.items()) or "无 None (whole trail)"),
        ("事件数 Events", f"{len(rows) - 1}（截至第 {export.up_to} 条 up to event {export.up_to}）"),
        ("导出人 Exported by", exported_by),
        ("链头 Chain head", f"第 {status.head_seq} 条 event {status.head_seq}\n{status.head_hash}"),
        ("最近核验 Last verification", _verification(status)),
    ]
    story: list[Any] = [
        Paragraph("审计记录 Audit trail", styles.title),
        pairs(facts, styles, width, label_share=0.12),
        Spacer(0, 4 * mm),
        grid(rows, [share * width for share in PDF_WIDTHS]),
    ]
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer, pagesize=page, leftMargin=MARGIN, rightMargin=MARGIN, topMargin=MARGIN + 5 * mm,
        bottomMargin=MARGIN + 5 * mm, title="审计记录 Audit trail", author="Property Archive",
    )
    document.build(story, canvasmaker=numbered_canvas(footer=printed_at_line(), header="审计记录 Audit trail"))
    return buffer.getvalue()


def _pdf_row(styles: Styles, item: ExportedEvent, zone: Any) -> list[Any]:
    event = item.event
    readable = "; ".join(f"{key}: {value}" for key, value in readable_details(event.details))
    return [
        styles.p(event.seq), styles.p(event.occurred_at.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")),
        styles.p(event.actor_name), styles.p(item.department), styles.p(event.action), styles.p(_object(event)),
        styles.p(OUTCOME_NAMES.get(event.outcome, event.outcome)), styles.p(event.ip), styles.p(readable or EMPTY),
        styles.p(event.hash),
    ]
