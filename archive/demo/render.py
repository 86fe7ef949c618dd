"""The demo's papers as files: PDFs written with reportlab and JPEG "scans" drawn with Pillow, both in the
embedded CJK font, so every Chinese character prints and its text can be extracted again."""
from __future__ import annotations

import io
import re
from dataclasses import dataclass
from functools import lru_cache

from PIL import Image, ImageDraw, ImageFont
from reportlab.lib.colors import Color, black
from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen import canvas

from ..core.enums import Level
from ..reports.fonts import cjk_font
from .data import DocumentPlan, chinese_date

PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN, TOP, BOTTOM = 72.0, PAGE_HEIGHT - 72.0, 72.0
BODY_SIZE, LEADING = 11.5, 20.0
SEAL_RED = Color(0.8, 0.1, 0.1)
# Commercial-secret marks; never the state-secret marks 绝密/机密/秘密 or the star.
LEVEL_MARKS = {Level.B: "普通商密", Level.A: "核心商密"}
_CLOSING = "，。、；：？！）》」』”’%"
_TOKEN = re.compile(rf"(?:[A-Za-z0-9][A-Za-z0-9.,\-+/]*|.)[{_CLOSING}]*")


@dataclass(frozen=True)
class _Text:
    size: float
    x: float
    y: float
    text: str
    align: str = "left"
    red: bool = False


@dataclass(frozen=True)
class _Seal:
    x: float
    y: float


def _tokens(text: str) -> list[str]:
    """Chinese breaks between any two characters; numbers and Latin words stay whole, and closing
    punctuation stays with what it closes (no line starts with ，。）)."""
    return [match.group(0) for match in _TOKEN.finditer(text)]


def _wrap(text: str, size: float, width: float, measure=None) -> list[str]:
    measure = measure or (lambda s: pdfmetrics.stringWidth(s, cjk_font(), size))
    lines, current = [], ""
    for token in _tokens(text):
        if current and measure(current + token) > width:
            lines.append(current)
            current = ""
        current += token
    return lines + [current] if current else lines


def _layout(doc: DocumentPlan) -> list[list[_Text | _Seal]]:
    """Place every line before drawing, so each footer can say how many pages there are."""
    pages: list[list[_Text | _Seal]] = [[]]
    y = TOP
    if doc.level in LEVEL_MARKS:
        pages[0].append(_Text(10.5, MARGIN, TOP + 24, f"{LEVEL_MARKS[doc.level]}  知悉范围内人员阅", red=True))
    pages[0].append(_Text(18, PAGE_WIDTH / 2, y, doc.heading, "center"))
    y -= 28
    number = f"编号：{doc.doc_number}    " if doc.doc_number else ""
    stamp = f"{number}日期：{doc.doc_date:%Y-%m-%d}"
    pages[0].append(_Text(9.5, PAGE_WIDTH - MARGIN, y, stamp, "right"))
    y -= 30

    def write(paragraph: str, indent: bool) -> None:
        nonlocal y
        first_width = PAGE_WIDTH - 2 * MARGIN - (2 * BODY_SIZE if indent else 0)
        for n, line in enumerate(_wrap(paragraph, BODY_SIZE, first_width)):
            if y < BOTTOM:
                pages.append([])
                y = TOP
            x = MARGIN + (2 * BODY_SIZE if indent and n == 0 else 0)
            pages[-1].append(_Text(BODY_SIZE, x, y, line))
            y -= LEADING
        y -= 4

    for line in doc.lines:
        write(line, indent="：" not in line[:8])
    for page in doc.pages:
        pages.append([])
        y = TOP
        for line in page:
            write(line, indent=True)
    if doc.signature:
        if y < BOTTOM + 110:
            pages.append([])
            y = TOP
        y -= 24
        first, second = doc.signature
        pages[-1] += [_Text(BODY_SIZE, MARGIN, y, "甲方（盖章）："), _Text(BODY_SIZE, MARGIN, y - LEADING, first),
                      _Text(BODY_SIZE, PAGE_WIDTH / 2 + 20, y, "乙方（签字）："),
                      _Text(BODY_SIZE, PAGE_WIDTH / 2 + 20, y - LEADING, second),
                      _Text(BODY_SIZE, MARGIN, y - 3 * LEADING, f"签订日期：{chinese_date(doc.doc_date)}"),
                      _Seal(MARGIN + 150, y - 10)]
    return pages


def render_pdf(doc: DocumentPlan) -> bytes:
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4, pageCompression=1)
    pdf.setTitle(doc.title)
    pdf.setAuthor(doc.responsible_party)
    font = cjk_font()
    pages = _layout(doc)
    for number, items in enumerate(pages, start=1):
        for item in items:
            if isinstance(item, _Seal):
                _draw_seal(pdf, item)
                continue
            pdf.setFont(font, item.size)
            pdf.setFillColor(SEAL_RED if item.red else black)
            draw = {"left": pdf.drawString, "center": pdf.drawCentredString, "right": pdf.drawRightString}[item.align]
            draw(item.x, item.y, item.text)
        pdf.setFillColor(black)
        pdf.setFont(font, 9)
        pdf.drawCentredString(PAGE_WIDTH / 2, 40, f"第 {number} 页 共 {len(pages)} 页")
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def _draw_seal(pdf: canvas.Canvas, seal: _Seal) -> None:
    pdf.saveState()
    pdf.setStrokeColor(SEAL_RED)
    pdf.setFillColor(SEAL_RED)
    pdf.setLineWidth(2)
    pdf.circle(seal.x, seal.y, 34, stroke=1, fill=0)
    pdf.setFont(cjk_font(), 10)
    pdf.drawCentredString(seal.x, seal.y + 14, "合同专用章")
    pdf.restoreState()


@lru_cache(maxsize=8)
def _image_font(size: int) -> ImageFont.FreeTypeFont:
    path = pdfmetrics.getFont(cjk_font()).face.filename  # the same file the PDFs embed
    return ImageFont.truetype(path, size, index=0)


def render_scan(doc: DocumentPlan) -> bytes:
    """A photocopy as a scanner delivers it: greyish paper, slightly skewed, a red verification stamp."""
    width, height = 620, 877
    page = Image.new("RGB", (width, height), (246, 244, 238))
    draw = ImageDraw.Draw(page)
    draw.rectangle((40, 40, width - 40, height - 40), outline=(150, 150, 150), width=2)
    title_font, body_font = _image_font(30), _image_font(19)
    draw.text((width / 2, 90), doc.heading, font=title_font, fill=(30, 30, 30), anchor="mm")
    y = 150
    for line in doc.lines:
        for part in _wrap(line, 19, width - 140, lambda s: draw.textlength(s, font=body_font)):
            draw.text((70, y), part, font=body_font, fill=(40, 40, 40))
            y += 34
        y += 12
    draw.ellipse((width - 220, height - 220, width - 80, height - 80), outline=(200, 40, 40), width=4)
    draw.text((width - 150, height - 150), "复印件", font=_image_font(24), fill=(200, 40, 40), anchor="mm")
    buffer = io.BytesIO()
    page.rotate(0.6, fillcolor=(246, 244, 238)).save(buffer, format="JPEG", quality=72)
    return buffer.getvalue()


def render(doc: DocumentPlan) -> bytes:
    return render_scan(doc) if doc.scan else render_pdf(doc)
