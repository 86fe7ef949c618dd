"""The destruction register (销毁清册) of a completed disposal, on A4: every destroyed document with 序号, 题名,
起止日期, 档号, 数量, 销毁原因, 备考, then the proposal, the approval and both witnesses (监销人).

Made once, when the second witness confirms, and filed encrypted for good. Labels are bilingual, Chinese first;
times are the archive's local time.
"""
from __future__ import annotations

import io
from typing import Any

from flask_babel import force_locale
from reportlab.lib.pagesizes import A4
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer
from reportlab.lib.units import mm

from ..reports.layout import MARGIN, Styles, grid, local_time, numbered_canvas, pairs, person_name, printed_at_line
from .models import Disposal

PRINT_LOCALE = "zh_Hans"
WIDTH = A4[0] - 2 * MARGIN
COLUMNS = (
    ("序号", "No."), ("题名", "Title"), ("起止日期", "Dates"), ("档号", "Archive number"), ("数量", "Quantity"),
    ("销毁原因", "Reason"), ("备考", "Notes"),
)
COLUMN_WIDTHS = (0.06, 0.24, 0.11, 0.22, 0.09, 0.16, 0.12)


def register_pdf(disposal: Disposal) -> bytes:
    styles = Styles()
    with force_locale(PRINT_LOCALE):
        documents = [item.document for item in disposal.items]
        facts = [
            ("清册编号 Register number", disposal.number),
            ("销毁日期 Disposed of", local_time(disposal.completed_at)),
            ("件数 Documents", f"{len(documents)} 件"),
            ("页数 Pages", f"{sum(d.page_count for d in documents)} 页"),
            ("销毁原因 Reason", disposal.reason),
            ("销毁方式 Method", "电子文件密钥销毁（crypto-shredding），加密文件与提取文本删除；元数据与审计记录保留"),
        ]
        rows: list[list[Any]] = [[styles.header(*h) for h in COLUMNS]]
        for number, item in enumerate(disposal.items, start=1):
            document = item.document
            rows.append([
                styles.p(number), styles.p(document.title), styles.p(document.doc_date.strftime("%Y%m%d")),
                styles.p(document.archive_number), styles.p(f"1 件 / {document.page_count} 页"),
                styles.p(disposal.reason), styles.p(item.remarks),
            ])
        story = [
            Paragraph("销毁清册 Destruction register", styles.title),
            pairs(facts, styles, WIDTH),
            Spacer(0, 5 * mm),
            grid(rows, [w * WIDTH for w in COLUMN_WIDTHS]),
            Spacer(0, 5 * mm),
            Paragraph("审批与监销 Approval and witnesses", styles.heading),
            _signatures(disposal, styles),
        ]
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer, pagesize=A4, leftMargin=MARGIN, rightMargin=MARGIN, topMargin=MARGIN + 5 * mm,
        bottomMargin=MARGIN + 5 * mm, title=f"销毁清册 {disposal.number}", author="Property Archive",
    )
    document.build(story, canvasmaker=numbered_canvas(footer=printed_at_line(),
                                                      header=f"销毁清册  {disposal.number}"))
    return buffer.getvalue()


def _signatures(disposal: Disposal, styles: Styles):
    steps = [
        ("提出 Proposed by", disposal.proposed_by, disposal.proposed_at),
        ("批准 Approved by (档案负责人 archive head)", disposal.approved_by, disposal.approved_at),
        *((f"监销人 Witness {n}", w.user, w.confirmed_at) for n, w in enumerate(disposal.witnesses, start=1)),
    ]
    rows: list[list[Any]] = [[styles.header(*h) for h in (
        ("环节", "Step"), ("人员", "Person"), ("部门", "Department"), ("时间", "Time"))]]
    for label, person, moment in steps:
        rows.append([styles.p(label), styles.p(person_name(person)),
                     styles.p(person.department.name if person else None), styles.p(local_time(moment))])
    return grid(rows, [0.34 * WIDTH, 0.26 * WIDTH, 0.2 * WIDTH, 0.2 * WIDTH])
