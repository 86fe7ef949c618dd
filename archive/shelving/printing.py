"""The archive's printouts on A4: a dossier's or volume's catalogue (卷内目录, DA/T 22 columns), box-back labels
with a QR code of the box code, and the yearly catalogue of departed customers' volumes.

They print what they are given: the services choose the documents (only those the printer may read).
Labels are bilingual, Chinese first; values are in Chinese, whoever prints. Times are local.
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from itertools import groupby
from typing import Any

from flask_babel import force_locale
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Spacer, TableStyle

from ..core.clock import local_today
from ..documents.models import Document
from ..reports.layout import (
    EMPTY, MARGIN, Styles, grid, local_day, numbered_canvas, pairs, printed_at_line, qr_code,
)
from ..units.models import Dossier, Occupancy

PRINT_LOCALE = "zh_Hans"
WIDTH = A4[0] - 2 * MARGIN


@dataclass(frozen=True)
class Catalogue:
    dossier: Dossier
    volume: Occupancy | None  # a closed volume, or None for the whole dossier
    holders: list[Occupancy]  # the customers whose papers it lists, oldest first
    documents: list[Document]


@dataclass(frozen=True)
class BoxLabel:
    code: str
    title: str
    floor: int | None
    room: str
    shelf: str
    first: str | None  # lowest and highest archive numbers in the box
    last: str | None
    count: int
    pages: int


@dataclass(frozen=True)
class DepartedVolume:
    occupancy: Occupancy
    dossier: Dossier
    documents: int
    pages: int


# The pieces these printouts share ---------------------------------------------------------------------------


class _Styles(Styles):
    """Headings spaced from what is above them (the departed catalogue has one a floor), large text for labels."""

    def __init__(self) -> None:
        super().__init__()
        font = self.font
        self.heading = ParagraphStyle("heading", parent=self.heading, spaceBefore=3 * mm)
        self.big = ParagraphStyle("big", fontName=font, fontSize=20, leading=26, wordWrap="CJK")
        self.large = ParagraphStyle("large", fontName=font, fontSize=12, leading=16, wordWrap="CJK")


def _holder(occupancy: Occupancy) -> str:
    start = occupancy.start_date.isoformat()
    held = f"{start} 至 {occupancy.end_date.isoformat()}" if occupancy.end_date else f"{start} 起"
    return f"{occupancy.customer.name}（{occupancy.role.label}，{held}）"


def _build(story: list[Any], *, title: str, running_header: str) -> bytes:
    """Lay out the story on numbered A4 pages, each with the running header and the time of printing."""
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer, pagesize=A4, leftMargin=MARGIN, rightMargin=MARGIN, topMargin=MARGIN + 5 * mm,
        bottomMargin=MARGIN + 5 * mm, title=title, author="Property Archive",
    )
    document.build(story, canvasmaker=numbered_canvas(footer=printed_at_line(), header=running_header))
    return buffer.getvalue()


# The catalogue of a dossier or volume (卷内目录) -------------------------------------------------------------


CATALOGUE_COLUMNS = (
    ("序号", "No."), ("档号", "Archive number"), ("文号", "Doc. number"), ("责任者", "Responsible"),
    ("题名", "Title"), ("日期", "Date"), ("密级", "Level"), ("页数", "Pages"), ("备注", "Remarks"),
)
CATALOGUE_WIDTHS = (0.05, 0.24, 0.10, 0.11, 0.20, 0.09, 0.07, 0.06, 0.08)


def catalogue_pdf(catalogue: Catalogue) -> bytes:
    styles = _Styles()
    dossier, unit = catalogue.dossier, catalogue.dossier.unit
    with force_locale(PRINT_LOCALE):
        volume = (f"分卷 Volume: {_holder(catalogue.volume)}" if catalogue.volume
                  else "全卷 Whole dossier")
        facts = [
            ("案卷档号 Dossier number", dossier.archive_number),
            ("案卷题名 Dossier title", dossier.title),
            ("项目 Project", dossier.project.name),
            ("房号 Unit", unit.full_name if unit else EMPTY),
            ("客户 Customers", "\n".join(_holder(o) for o in catalogue.holders) or EMPTY),
            ("卷别 Volume", volume),
            ("件数 Documents", len(catalogue.documents)),
            ("页数 Pages", sum(d.page_count for d in catalogue.documents)),
        ]
        rows: list[list[Any]] = [[styles.header(*h) for h in CATALOGUE_COLUMNS]]
        for number, document in enumerate(catalogue.documents, start=1):
            disposed = f"已销毁 {local_day(local_today(document.disposed_at))}" if document.disposed_at else ""
            remarks = "\n".join(r for r in (disposed, "" if document.is_original else "复印件", document.remarks) if r)
            rows.append([
                styles.p(number), styles.p(document.archive_number), styles.p(document.doc_number),
                styles.p(document.responsible_party), styles.p(document.title),
                styles.p(document.doc_date.strftime("%Y%m%d")), styles.p(document.level.label),
                styles.p(document.page_count), styles.p(remarks),
            ])
        if not catalogue.documents:
            rows.append([styles.p("无可列出的文件 No documents to list")] + [""] * (len(CATALOGUE_COLUMNS) - 1))
        story = [
            Paragraph("卷内目录 Catalogue", styles.title),
            pairs(facts, styles, WIDTH),
            Spacer(0, 5 * mm),
            grid(rows, [w * WIDTH for w in CATALOGUE_WIDTHS]),
        ]
    header = f"卷内目录  {dossier.archive_number}  {unit.full_name if unit else dossier.title}"
    return _build(story, title=f"卷内目录 {dossier.archive_number}", running_header=header)


# Box-back labels (盒脊 / 备考) -------------------------------------------------------------------------------


QR_SIZE = 38 * mm


def box_label_pdf(label: BoxLabel) -> bytes:
    styles = _Styles()
    width = 120 * mm
    floor = f"{label.floor} 层" if label.floor is not None else EMPTY
    numbers = f"{label.first}\n至 {label.last}" if label.first else EMPTY
    facts = [
        ("盒号 Box", styles.p(label.code, styles.big)),
        ("题名 Title", styles.p(label.title, styles.large)),
        ("楼层 Floor", styles.p(floor, styles.large)),
        ("库房/柜 Room or cabinet", styles.p(label.room, styles.large)),
        ("架 Shelf", styles.p(label.shelf, styles.large)),
        ("档号起止 Archive numbers", styles.p(numbers)),
        ("件数 Documents", styles.p(f"{label.count} 件  {label.pages} 页", styles.large)),
    ]
    rows = [[styles.p("档案盒 盒脊 Box label", styles.heading), ""]]
    rows += [[styles.p(name, styles.label), value] for name, value in facts]
    rows.append([styles.p("盒号二维码 QR code of the box", styles.label), qr_code(label.code, QR_SIZE)])
    spine = grid(rows, [0.32 * width, 0.68 * width], header=False)
    spine.setStyle(TableStyle([("SPAN", (0, 0), (1, 0)), ("BOX", (0, 0), (-1, -1), 1.5, colors.black)]))
    remarks = grid([
        [styles.p("备考 Notes", styles.heading), ""],
        [styles.p("盒内文件情况说明 Contents", styles.label),
         styles.p(f"本盒共 {label.count} 件，{label.pages} 页。")],
        [styles.p("整理人 Arranged by", styles.label), ""],
        [styles.p("检查人 Checked by", styles.label), ""],
        [styles.p("日期 Date", styles.label), ""],
    ], [0.32 * width, 0.68 * width], header=False)
    remarks.setStyle(TableStyle([("SPAN", (0, 0), (1, 0)), ("BOX", (0, 0), (-1, -1), 1.5, colors.black),
                                 ("ROWHEIGHT", (0, 2), (-1, -1), 9 * mm)]))
    story = [KeepTogether([spine]), Spacer(0, 8 * mm), KeepTogether([remarks])]
    return _build(story, title=f"盒脊 {label.code}", running_header=f"档案盒 {label.code}")


# The yearly catalogue of departed customers' volumes -------------------------------------------------------


DEPARTED_COLUMNS = (
    ("序号", "No."), ("项目", "Project"), ("房号", "Unit"), ("案卷档号", "Dossier number"), ("客户", "Customer"),
    ("身份", "Role"), ("起始日期", "From"), ("终止日期", "Until"), ("件数", "Docs"), ("页数", "Pages"),
)
DEPARTED_WIDTHS = (0.05, 0.10, 0.12, 0.19, 0.13, 0.07, 0.10, 0.10, 0.07, 0.07)


def _floor_heading(floor: int | None) -> str:
    return f"第 {floor} 层 Floor {floor}" if floor is not None else "楼层未登记 Floor not recorded"


def departed_catalogue_pdf(year: int, volumes: list[DepartedVolume]) -> bytes:
    styles = _Styles()
    story: list[Any] = [Paragraph(f"{year} 年退出客户案卷目录 Volumes of customers who left in {year}", styles.title)]
    with force_locale(PRINT_LOCALE):
        number = 0
        for floor, group in groupby(volumes, key=lambda v: v.occupancy.unit.floor):
            group = list(group)
            rows: list[list[Any]] = [[styles.header(*h) for h in DEPARTED_COLUMNS]]
            for volume in group:
                number += 1
                occupancy, unit = volume.occupancy, volume.occupancy.unit
                rows.append([
                    styles.p(number), styles.p(volume.dossier.project.name), styles.p(unit.full_name),
                    styles.p(volume.dossier.archive_number), styles.p(occupancy.customer.name),
                    styles.p(occupancy.role.label), styles.p(local_day(occupancy.start_date)),
                    styles.p(local_day(occupancy.end_date)), styles.p(volume.documents), styles.p(volume.pages),
                ])
            story += [
                Paragraph(_floor_heading(floor), styles.heading),
                grid(rows, [w * WIDTH for w in DEPARTED_WIDTHS]),
                Paragraph(f"本层 {len(group)} 卷，{sum(v.documents for v in group)} 件 "
                          f"({len(group)} volume(s), {sum(v.documents for v in group)} document(s))", styles.cell),
            ]
    if not volumes:
        story.append(Paragraph(f"{year} 年没有客户退出。No customer left a unit in {year}.", styles.large))
    story += [Spacer(0, 5 * mm), Paragraph(
        f"合计 {len(volumes)} 卷，{sum(v.documents for v in volumes)} 件，{sum(v.pages for v in volumes)} 页 "
        f"Total: {len(volumes)} volume(s), {sum(v.documents for v in volumes)} document(s)", styles.large)]
    return _build(story, title=f"{year} 年退出客户案卷目录", running_header=f"{year} 年退出客户案卷目录")
