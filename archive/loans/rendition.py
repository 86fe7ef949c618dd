"""The watermarked rendition a borrower reads: a PDF whose every page names the reader, the loan and the time.

PDF pages get a watermark page merged on top (pypdf); scans (JPEG, PNG, TIFF frames) become PDF pages with the
watermark drawn over the image. The watermark is large diagonal semi-transparent text across the page, so a
photograph or screenshot of any part still shows it, plus one small clear line at the bottom that text
extraction and a printout keep legible.
"""
from __future__ import annotations

import io
import math
import shutil
import tempfile
import warnings
from contextlib import contextmanager
from typing import BinaryIO, Iterator

from PIL import Image, ImageOps, ImageSequence
from pypdf import PageObject, PdfReader, PdfWriter, Transformation
from pypdf.errors import PdfReadError
from reportlab.lib.colors import Color
from reportlab.lib.pagesizes import A4
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from ..core.errors import ValidationError
from ..documents.ingest import JPEG, PDF, PNG, TIFF
from ..reports.fonts import cjk_font

# Renditions (and a copy of a source that cannot seek) stay in memory up to this size, then spill to an
# unnamed temporary file that disappears when closed.
SPOOL_BYTES = 8 * 1024 * 1024
DIAGONAL_DEGREES = 30
DIAGONAL_ALPHA = 0.22
# A resolution outside this range is a missing or nonsense value in the file: fit the page to A4 instead.
PLAUSIBLE_DPI = (50, 2400)
POINTS_PER_INCH = 72
_EXIF_ORIENTATION = 0x0112


def watermarked_rendition(source: BinaryIO, media_type: str, lines: list[str]) -> BinaryIO:
    """A PDF of the file with the watermark lines on every page, positioned at 0. The caller closes it."""
    if media_type not in (PDF, JPEG, PNG, TIFF):
        raise ValueError(f"no rendition for {media_type}")
    if not any(line.strip() for line in lines):
        raise ValueError("a watermark needs text")
    cjk_font()  # a missing font fails as itself, not as an unreadable file
    with _random_access(source) as stream:
        out = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)
        try:
            if media_type == PDF:
                _watermark_pdf(stream, lines, out)
            else:
                _scans_to_pdf(stream, lines, out)
        except BaseException:
            out.close()
            raise
    out.seek(0)
    return out


@contextmanager
def _random_access(source: BinaryIO) -> Iterator[BinaryIO]:
    """The source itself when it can seek (PDF and TIFF readers need to), else a spooled copy of it."""
    if source.seekable():
        source.seek(0)
        yield source
        return
    with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as copy:
        shutil.copyfileobj(source, copy, 1024 * 1024)
        copy.seek(0)
        yield copy


def _unreadable() -> ValidationError:
    return ValidationError("This file cannot be shown with a watermark. Ask the archive for help.")


# --- PDF -------------------------------------------------------------------------------------------------


def _watermark_pdf(stream: BinaryIO, lines: list[str], out: BinaryIO) -> None:
    # A new file, not an incremental update: an appended revision would keep the unmarked pages inside it.
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            reader = PdfReader(stream)
            writer = PdfWriter()
            overlays: dict[tuple[float, float], PageObject] = {}
            for source_page in reader.pages:
                page = writer.add_page(source_page)
                left, bottom, width, height = _visible_box(page)
                rotation = page.rotation % 360
                # The watermark is drawn upright as the page is displayed, then turned into the page's own space.
                shown = (height, width) if rotation in (90, 270) else (width, height)
                key = (round(shown[0], 2), round(shown[1], 2))
                if key not in overlays:
                    overlays[key] = _overlay_page(*shown, lines)
                page.merge_transformed_page(overlays[key], _placement(rotation, shown, left, bottom))
            writer.write(out)
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, RecursionError):
        raise _unreadable() from None


def _visible_box(page: PageObject) -> tuple[float, float, float, float]:
    """The part of the page a viewer shows: the crop box within the media box, whichever corners they name."""
    media, crop = page.mediabox, page.cropbox
    left = max(min(media[0], media[2]), min(crop[0], crop[2]))
    bottom = max(min(media[1], media[3]), min(crop[1], crop[3]))
    right = min(max(media[0], media[2]), max(crop[0], crop[2]))
    top = min(max(media[1], media[3]), max(crop[1], crop[3]))
    if right <= left or top <= bottom:  # a crop box outside the page: fall back to the media box
        left, bottom = min(media[0], media[2]), min(media[1], media[3])
        right, top = max(media[0], media[2]), max(media[1], media[3])
    return float(left), float(bottom), float(right - left), float(top - bottom)


def _placement(rotation: int, shown: tuple[float, float], left: float, bottom: float) -> Transformation:
    """Maps the upright watermark onto a page displayed turned clockwise by `rotation` degrees."""
    turn = Transformation().rotate(rotation)
    corners = [turn.apply_on(point) for point in ((0, 0), (shown[0], 0), (0, shown[1]), shown)]
    return turn.translate(left - min(x for x, _ in corners), bottom - min(y for _, y in corners))


def _overlay_page(width: float, height: float, lines: list[str]) -> PageObject:
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=(width, height))
    _draw_watermark(canvas, width, height, lines)
    canvas.showPage()
    canvas.save()
    buffer.seek(0)
    return PdfReader(buffer).pages[0]


# --- Scans -----------------------------------------------------------------------------------------------


def _scans_to_pdf(stream: BinaryIO, lines: list[str], out: BinaryIO) -> None:
    canvas = Canvas(out, pagesize=A4)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(stream) as image:
                for pixels, dpi, drawable in _frames(image, stream):
                    width, height = _page_size(pixels, dpi)
                    canvas.setPageSize((width, height))
                    canvas.drawImage(drawable, 0, 0, width, height)
                    _draw_watermark(canvas, width, height, lines)
                    canvas.showPage()
    except Exception:  # Pillow raises many types for an image it cannot decode; the original is intact
        raise _unreadable() from None
    canvas.save()


def _frames(image: Image.Image, stream: BinaryIO) -> Iterator[tuple[tuple[int, int], object, ImageReader]]:
    """Each page of the scan: its size in pixels, its resolution and what to draw. An upright JPEG goes in as
    it is, without decoding and re-encoding it."""
    if image.format == "JPEG" and image.getexif().get(_EXIF_ORIENTATION, 1) == 1:
        stream.seek(0)
        yield image.size, image.info.get("dpi"), ImageReader(stream)
        return
    for frame in ImageSequence.Iterator(image):
        upright = ImageOps.exif_transpose(frame)
        yield upright.size, frame.info.get("dpi"), ImageReader(_opaque(upright))


def _opaque(image: Image.Image) -> Image.Image:
    """A mode reportlab draws as it is: transparency laid on white paper, bilevel as greyscale."""
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        paper = Image.new("RGB", rgba.size, (255, 255, 255))
        paper.paste(rgba, mask=rgba.getchannel("A"))
        return paper
    if image.mode == "1":
        return image.convert("L")  # one byte a pixel, where reportlab would make three
    return image if image.mode in ("L", "RGB", "CMYK") else image.convert("RGB")


def _page_size(pixels: tuple[int, int], dpi: object) -> tuple[float, float]:
    """The page at the scan's resolution; without a plausible one, the image fitted into A4."""
    pixels_wide, pixels_high = pixels
    try:
        dpi_x, dpi_y = float(dpi[0]), float(dpi[1])  # type: ignore[index]
    except (TypeError, ValueError, IndexError):
        dpi_x = dpi_y = 0.0
    low, high = PLAUSIBLE_DPI
    if low <= dpi_x <= high and low <= dpi_y <= high:
        return pixels_wide / dpi_x * POINTS_PER_INCH, pixels_high / dpi_y * POINTS_PER_INCH
    fit_w, fit_h = A4 if pixels_high >= pixels_wide else (A4[1], A4[0])
    scale = min(fit_w / pixels_wide, fit_h / pixels_high)
    return pixels_wide * scale, pixels_high * scale


# --- The watermark ---------------------------------------------------------------------------------------


def _draw_watermark(canvas: Canvas, width: float, height: float, lines: list[str]) -> None:
    font = cjk_font()
    texts = [line for line in (line.strip() for line in lines) if line]
    canvas.saveState()

    # Large diagonal text repeated over the whole page.
    size = max(8.0, min(width, height) / 24)
    leading = size * 1.35
    block_width = max(stringWidth(text, font, size) for text in texts)
    step_x, step_y = block_width + 3 * size, leading * len(texts) + 3 * size
    canvas.setFillColor(Color(0.45, 0.45, 0.45, alpha=DIAGONAL_ALPHA))
    canvas.setFont(font, size)
    canvas.translate(width / 2, height / 2)
    canvas.rotate(DIAGONAL_DEGREES)
    reach = math.hypot(width, height) / 2 + block_width
    rows, columns = int(reach // step_y) + 1, int(reach // step_x) + 1
    for row in range(-rows, rows + 1):
        offset = (step_x / 2) * (row % 2)  # staggered rows, so no diagonal gap runs through the page
        for column in range(-columns, columns + 1):
            x = column * step_x + offset - block_width / 2
            for i, text in enumerate(texts):
                canvas.drawString(x, row * step_y - i * leading, text)
    canvas.restoreState()

    # One small clear line at the bottom margin, on a light band so it reads over a dark scan.
    canvas.saveState()
    footer = "    ".join(texts)
    margin = max(4.0, width / 60)
    footer_size = max(5.0, min(width, height) / 90)
    footer_size = min(footer_size, footer_size * (width - 2 * margin) / stringWidth(footer, font, footer_size))
    baseline = max(3.0, footer_size * 0.9)
    canvas.setFillColor(Color(1, 1, 1, alpha=0.8))
    canvas.rect(0, baseline - footer_size * 0.45, width, footer_size * 1.6, stroke=0, fill=1)
    canvas.setFillColor(Color(0.1, 0.1, 0.1))
    canvas.setFont(font, footer_size)
    canvas.drawCentredString(width / 2, baseline, footer)
    canvas.restoreState()
