"""The pieces every printout shares: paragraph styles on the embedded CJK font, the house grid, label/value
tables, local times and names as printed, and pages numbered "page n of N".

Printouts are in Chinese (labels bilingual, Chinese first), whoever prints them; times are the archive's local
time (BABEL_DEFAULT_TIMEZONE).
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Paragraph, Table, TableStyle

from ..core.clock import archive_zone
from ..core.types import utcnow
from .fonts import cjk_font

EMPTY = "—"  # printed for a value that is not there
MARGIN = 15 * mm  # the page margin of the A4 portrait printouts
LABEL_GREY = colors.HexColor("#444444")


class Styles:
    """The paragraph styles every printout uses; a printout with styles of its own adds them in a subclass."""

    def __init__(self) -> None:
        self.font = font = cjk_font()
        self.title = ParagraphStyle("title", fontName=font, fontSize=16, leading=22, alignment=TA_CENTER,
                                    spaceAfter=4 * mm)
        self.heading = ParagraphStyle("heading", fontName=font, fontSize=11, leading=15, spaceAfter=2 * mm)
        self.cell = ParagraphStyle("cell", fontName=font, fontSize=8, leading=10.5, wordWrap="CJK")
        self.label = ParagraphStyle("label", parent=self.cell, textColor=LABEL_GREY)

    def header(self, chinese: str, english: str) -> Paragraph:
        """A column header: the Chinese name over the English one."""
        return self.p(f"{chinese}\n{english}", self.label)

    def p(self, value: Any, style: ParagraphStyle | None = None) -> Paragraph:
        """A cell that wraps (Chinese has no spaces to break at), escaped so a title cannot inject markup."""
        text = EMPTY if value is None or value == "" else str(value)
        return Paragraph(escape(text).replace("\n", "<br/>"), style or self.cell)


def grid(rows: list[list[Any]], widths: list[float], header: bool = True, footer: bool = False) -> Table:
    """A table in the house grid; the header row (repeated on every page) and a totals footer row are shaded."""
    table = Table(rows, colWidths=widths, repeatRows=1 if header else 0, hAlign="LEFT")
    style = [
        ("GRID", (0, 0), (-1, -1), 0.5, colors.HexColor("#888888")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
    ]
    if header:
        style.append(("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8e8e8")))
    if footer:
        style.append(("BACKGROUND", (0, -1), (-1, -1), colors.HexColor("#f2f2f2")))
    table.setStyle(TableStyle(style))
    return table


def pairs(items: list[tuple[str, Any]], styles: Styles, width: float, label_share: float = 0.17) -> Table:
    """Label/value pairs two to a row across `width`; each label column takes `label_share` of it."""
    value_share = 0.5 - label_share
    rows = []
    for i in range(0, len(items), 2):
        row: list[Any] = []
        for label, value in items[i : i + 2]:
            row += [styles.p(label, styles.label), styles.p(value)]
        rows.append(row + [""] * (4 - len(row)))
    widths = [label_share * width, value_share * width, label_share * width, value_share * width]
    return grid(rows, widths, header=False)


def qr_code(value: str, size: float) -> Drawing:
    """A square QR code `size` wide, keeping the four-module quiet zone a scanner needs."""
    widget = QrCodeWidget(value)
    left, bottom, right, top = widget.getBounds()
    drawing = Drawing(size, size, transform=[size / (right - left), 0, 0, size / (top - bottom), 0, 0])
    drawing.add(widget)
    return drawing


def local_time(moment: datetime | None, zone: ZoneInfo | None = None) -> str:
    """A moment as the archive's wall clock shows it, to the minute."""
    return moment.astimezone(zone or archive_zone()).strftime("%Y-%m-%d %H:%M") if moment else EMPTY


def local_day(value: date | None) -> str:
    return value.isoformat() if value else EMPTY


def person_name(user: Any) -> str:
    return f"{user.display_name} ({user.username})" if user else EMPTY


def printed_at_line() -> str:
    """The footer that dates a printout: now, local, with the time zone named."""
    zone = archive_zone()
    return f"打印时间 Printed at {local_time(utcnow(), zone)} ({zone.key})"


class NumberedCanvas(Canvas):
    """Holds each page until the end, so every page can say how many pages there are.

    Every page gets the footer line on the left and "page n of N" on the right, and the running header (if
    any) at the top left, all inside the page's margin.
    """

    def __init__(self, *args: Any, footer: str, header: str | None = None, margin: float = MARGIN,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._font, self._footer, self._header, self._margin = cjk_font(), footer, header, margin
        self._pages: list[dict[str, Any]] = []

    def showPage(self) -> None:  # noqa: N802 (reportlab's name)
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        total = len(self._pages)
        width, height = self._pagesize
        for number, state in enumerate(self._pages, start=1):
            self.__dict__.update(state)
            self.setFont(self._font, 8)
            self.setFillColor(LABEL_GREY)
            if self._header is not None:
                self.drawString(self._margin, height - self._margin, self._header)
            self.drawString(self._margin, 10 * mm, self._footer)
            self.drawRightString(width - self._margin, 10 * mm,
                                 f"第 {number} 页 / 共 {total} 页  Page {number} of {total}")
            super().showPage()
        super().save()


def numbered_canvas(*, footer: str, header: str | None = None, margin: float = MARGIN) -> Callable[..., Canvas]:
    """The canvasmaker for SimpleDocTemplate.build: pages numbered "n of N" with this footer (and header)."""

    def make(*args: Any, **kwargs: Any) -> Canvas:
        return NumberedCanvas(*args, footer=footer, header=header, margin=margin, **kwargs)

    return make
