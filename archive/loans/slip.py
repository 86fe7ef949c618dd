"""The loan slip (借阅审批单): the request, every approval, and the issue and return of each item, on A4.

Labels are bilingual, Chinese first; values (statuses, uses, decisions) are in Chinese, the slip's language,
whoever prints it. Times are local (the archive's time zone).
"""
from __future__ import annotations

import io
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import force_locale
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table

from ..reports.layout import (
    EMPTY, MARGIN, Styles, archive_zone, grid, local_day, local_time, numbered_canvas, pairs, person_name,
    printed_at_line,
)
from .models import Loan

SLIP_LOCALE = "zh_Hans"
WIDTH = A4[0] - 2 * MARGIN


def loan_slip_pdf(loan: Loan) -> bytes:
    zone = archive_zone()
    footer = printed_at_line()
    styles = Styles()
    with force_locale(SLIP_LOCALE):
        story = [
            Paragraph("借阅审批单 Loan approval slip", styles.title),
            _facts(loan, zone, styles),
            Spacer(0, 5 * mm),
            Paragraph("借阅清单 Items", styles.heading),
            _items(loan, styles),
            Spacer(0, 5 * mm),
            Paragraph("审批记录 Approvals", styles.heading),
            _steps(loan, zone, styles),
            Spacer(0, 5 * mm),
            Paragraph("发放与归还 Issue and return", styles.heading),
            _issue_facts(loan, zone, styles),
            Spacer(0, 2 * mm),
            _returns(loan, zone, styles),
        ]
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer, pagesize=A4, leftMargin=MARGIN, rightMargin=MARGIN, topMargin=MARGIN, bottomMargin=MARGIN + 5 * mm,
        title=f"借阅审批单 {loan}", author="Property Archive",
    )
    document.build(story, canvasmaker=numbered_canvas(footer=footer))
    return buffer.getvalue()


def _facts(loan: Loan, zone: ZoneInfo, styles: Styles) -> Table:
    borrower = loan.borrower
    facts = [
        ("借阅编号 Loan number", loan.number or EMPTY),
        ("状态 Status", loan.status.label),
        ("借阅人 Borrower", person_name(borrower)),
        ("部门 Department", loan.department.name),
        ("借阅方式 Use", loan.use.label),
        ("密级 Level", loan.level.label if loan.level else EMPTY),
        ("借阅期限 Period", f"{local_day(loan.start_date)} 至 {local_day(loan.due_date)}"),
        ("提交时间 Submitted", local_time(loan.submitted_at, zone)),
        ("借阅目的 Purpose", loan.purpose),
        ("审批完成 Decided", local_time(loan.decided_at, zone)),
    ]
    if loan.starts_at and loan.ends_at:
        access = f"{local_time(loan.starts_at, zone)} 至 {local_time(loan.ends_at, zone)}"
        facts.append(("电子查阅时段 Access", access))
    if loan.renews:
        facts.append(("续借自 Renews", str(loan.renews)))
    return pairs(facts, styles, WIDTH)


def _items(loan: Loan, styles: Styles) -> Table:
    rows: list[list[Any]] = [[styles.header(*h) for h in (
        ("序号", "No."), ("档号", "Archive number"), ("题名", "Title"), ("密级", "Level"), ("页数", "Pages"),
        ("状态", "State"))]]
    for number, item in enumerate(loan.items, start=1):
        document = item.document
        rows.append([
            styles.p(number), styles.p(document.archive_number), styles.p(document.title),
            styles.p(document.level.label), styles.p(document.page_count), styles.p(item.state.label),
        ])
    return grid(rows, [w * WIDTH for w in (0.06, 0.28, 0.36, 0.11, 0.08, 0.11)])


def _steps(loan: Loan, zone: ZoneInfo, styles: Styles) -> Table:
    rows: list[list[Any]] = [[styles.header(*h) for h in (
        ("审批环节", "Step"), ("原因", "Reason"), ("审批人", "Decider"), ("意见", "Decision"), ("时间", "Time"),
        ("批注", "Comment"))]]
    for step in loan.steps:
        kind = step.kind.label + (f"\n{step.department.name}" if step.department else "")
        rows.append([
            styles.p(kind), styles.p(step.reason.label), styles.p(person_name(step.decided_by)),
            styles.p(step.decision.label if step.decision else "待审批 Pending"),
            styles.p(local_time(step.decided_at, zone)), styles.p(step.comment),
        ])
    if not loan.steps:
        rows.append([styles.p("尚未提交 Not submitted")] + [""] * 5)
    return grid(rows, [w * WIDTH for w in (0.18, 0.19, 0.17, 0.10, 0.16, 0.20)])


def _issue_facts(loan: Loan, zone: ZoneInfo, styles: Styles) -> Table:
    issued_by = person_name(loan.issued_by) if loan.issued_by else ("系统（电子借阅）System (electronic)"
                                                                      if loan.issued_at else EMPTY)
    facts = [
        ("发放时间 Issued at", local_time(loan.issued_at, zone)),
        ("发放人 Issued by", issued_by),
        ("结束时间 Closed at", local_time(loan.closed_at, zone)),
        ("结束人 Closed by", person_name(loan.closed_by)),
    ]
    if loan.note:
        facts.append(("备注 Note", loan.note))
    return pairs(facts, styles, WIDTH)


def _returns(loan: Loan, zone: ZoneInfo, styles: Styles) -> Table:
    rows: list[list[Any]] = [[styles.header(*h) for h in (
        ("序号", "No."), ("档号", "Archive number"), ("发放页数", "Pages out"), ("归还页数", "Pages back"),
        ("状态", "State"), ("归还时间", "Returned at"), ("核对人", "Checked by"), ("备注", "Note"))]]
    for number, item in enumerate(loan.items, start=1):
        rows.append([
            styles.p(number), styles.p(item.document.archive_number), styles.p(item.pages_issued),
            styles.p(item.pages_returned), styles.p(item.state.label), styles.p(local_time(item.returned_at, zone)),
            styles.p(person_name(item.checked_by)), styles.p(item.note),
        ])
    return grid(rows, [w * WIDTH for w in (0.05, 0.25, 0.08, 0.08, 0.08, 0.16, 0.15, 0.15)])
