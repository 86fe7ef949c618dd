"""Text from a file's pages: the PDF text layer where there is one, Tesseract OCR where there is not.

Nothing readable touches the disk: the PDF goes to pdftoppm on its standard input and the rendered page
comes back on its standard output; Tesseract reads the image from stdin and writes the text to stdout.
(pytesseract is not used because it writes each image, and the text read from it, to files in /tmp.)
"""
from __future__ import annotations

import io
import logging
import os
import re
import subprocess
from collections.abc import Callable
from dataclasses import dataclass

from PIL import Image, ImageSequence
from pypdf import PdfReader
from pypdf.errors import PdfReadError

from ..core.errors import ArchiveError
from ..documents.ingest import JPEG, PDF, PNG, TIFF

log = logging.getLogger(__name__)

RENDER_DPI = 300  # Tesseract reads best at about 300 dpi
# A PDF page that shows an image and has fewer visible characters than this in its text layer is read by OCR:
# a scanned page often carries a page number or an archive stamp as text, and nothing else. A page with no
# text at all is read by OCR too (its text may be drawn as outlines).
MIN_TEXT_LAYER_CHARS = 32
PAGE_TIMEOUT = 120  # seconds for one page, rendering or OCR; a page that takes longer is a broken page

PDF_TEXT, OCR, PDF_TEXT_AND_OCR = "pdf-text", "ocr", "pdf-text+ocr"

# Han characters, kana, CJK punctuation and full-width forms.
_CJK = "\u2e80-\u2fff\u3000-\u303f\u3040-\u30ff\u3100-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef"
_SPACE_BESIDE_CJK = re.compile(rf"(?<=[{_CJK}])[^\S\n]+|[^\S\n]+(?=[{_CJK}])")
_SPACES = re.compile(r"[^\S\n]+")
_BLANK_LINES = re.compile(r"\n{3,}")


@dataclass(frozen=True)
class OcrSettings:
    lang: str = "chi_sim"
    tesseract: str = "tesseract"


@dataclass(frozen=True)
class Extraction:
    pages: list[str]
    method: str  # PDF_TEXT, OCR or PDF_TEXT_AND_OCR


def normalise_ocr_text(text: str) -> str:
    """Tesseract puts spaces around Chinese characters (3 栋 2 单元 1502); Chinese has none.

    Whitespace next to a CJK character is removed; between Latin words and numbers it stays, as one space.
    """
    text = text.replace("\f", "\n")
    lines = (_SPACES.sub(" ", _SPACE_BESIDE_CJK.sub("", line)).strip() for line in text.splitlines())
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def extract(data: bytes, media_type: str, ocr: OcrSettings, progress: Callable[[int], None]) -> Extraction:
    """The text of each page; `progress(n)` is called after page n (and may raise to stop the work)."""
    if media_type == PDF:
        return _pdf(data, ocr, progress)
    if media_type in (JPEG, PNG, TIFF):
        return _image(data, media_type, ocr, progress)
    raise ArchiveError("Text cannot be taken from this type of file.")


def _pdf(data: bytes, ocr: OcrSettings, progress: Callable[[int], None]) -> Extraction:
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise ArchiveError("The PDF is encrypted, so its text cannot be read.")
        pages = list(reader.pages)
    except ArchiveError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError, RecursionError):
        raise ArchiveError("The PDF is damaged, so its text cannot be read.") from None
    texts, methods = [], set()
    for number, page in enumerate(pages, 1):
        text = _text_layer(page)
        visible = sum(not c.isspace() for c in text)
        if visible == 0 or (visible < MIN_TEXT_LAYER_CHARS and _shows_image(page.get("/Resources"))):
            # The few characters of the text layer are kept beside the OCR text: a stamped archive number
            # is exact there, where OCR may misread it.
            read = _ocr(_render_pdf_page(data, number), ocr, dpi=RENDER_DPI)
            text = f"{read}\n{text}" if text else read
            methods.add(OCR)
        else:
            methods.add(PDF_TEXT)
        texts.append(text)
        progress(number)
    method = PDF_TEXT_AND_OCR if len(methods) == 2 else methods.pop() if methods else PDF_TEXT
    return Extraction(texts, method)


def _text_layer(page) -> str:
    try:
        return (page.extract_text() or "").strip()
    except Exception:  # pypdf raises many types on a broken content stream; OCR may still read the page
        log.warning("the text layer of a PDF page could not be read; the page goes to OCR", exc_info=True)
        return ""


def _shows_image(resources, depth: int = 0) -> bool:
    """Whether the page (or a form it draws, a few levels deep) uses an image."""
    try:
        xobjects = resources.get_object().get("/XObject") if resources is not None else None
        for reference in (xobjects.get_object().values() if xobjects is not None else ()):
            xobject = reference.get_object()
            if xobject.get("/Subtype") == "/Image":
                return True
            if xobject.get("/Subtype") == "/Form" and depth < 3 and _shows_image(xobject.get("/Resources"), depth + 1):
                return True
    except Exception:  # a damaged resource dictionary: read the page by OCR to be safe
        return True
    return False


def _render_pdf_page(data: bytes, number: int) -> bytes:
    """One page as a greyscale PNG, through pipes."""
    command = ["pdftoppm", "-r", str(RENDER_DPI), "-f", str(number), "-l", str(number), "-png", "-gray", "-"]
    try:
        done = subprocess.run(command, input=data, capture_output=True, timeout=PAGE_TIMEOUT)
    except FileNotFoundError:
        raise ArchiveError(
            "pdftoppm is not installed, so scanned PDF pages cannot be read (install poppler-utils)."
        ) from None
    except subprocess.TimeoutExpired:
        raise ArchiveError("A page of the PDF took too long to render for OCR.") from None
    if done.returncode != 0 or not done.stdout:
        log.warning("pdftoppm failed on page %s: %s", number, _last_line(done.stderr))
        raise ArchiveError("A page of the PDF could not be rendered for OCR.")
    return done.stdout


def _image(data: bytes, media_type: str, ocr: OcrSettings, progress: Callable[[int], None]) -> Extraction:
    if media_type != TIFF:  # Tesseract reads JPEG and PNG as they are
        text = _ocr(data, ocr)
        progress(1)
        return Extraction([text], OCR)
    texts = []
    try:
        with Image.open(io.BytesIO(data)) as tiff:
            for number, frame in enumerate(ImageSequence.Iterator(tiff), 1):
                page = io.BytesIO()
                frame.convert("L").save(page, format="PNG")
                texts.append(_ocr(page.getvalue(), ocr))
                progress(number)
    except (OSError, ValueError, Image.DecompressionBombError):
        raise ArchiveError("The image is damaged, so its text cannot be read.") from None
    return Extraction(texts, OCR)


def _ocr(image: bytes, ocr: OcrSettings, dpi: int | None = None) -> str:
    """One page through Tesseract, single-threaded: its own threads slow it down 5–15× next to other work."""
    command = [ocr.tesseract, "stdin", "stdout", "-l", ocr.lang]
    if dpi:
        command += ["--dpi", str(dpi)]
    environment = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    try:
        done = subprocess.run(command, input=image, capture_output=True, timeout=PAGE_TIMEOUT, env=environment)
    except FileNotFoundError:
        raise ArchiveError(
            "Tesseract is not installed, so scans cannot be read (install tesseract-ocr and tesseract-ocr-chi-sim)."
        ) from None
    except subprocess.TimeoutExpired:
        raise ArchiveError("OCR took too long on a page of this file.") from None
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace")
        if "Failed loading language" in message or "couldn't load any languages" in message:
            raise ArchiveError(
                "The OCR language data is not installed (install tesseract-ocr-chi-sim, or set ARCHIVE_OCR_LANG)."
            )
        log.warning("tesseract failed: %s", _last_line(done.stderr))
        raise ArchiveError("OCR could not read a page of this file.")
    return normalise_ocr_text(done.stdout.decode("utf-8", "replace"))


def _last_line(stderr: bytes) -> str:
    lines = stderr.decode("utf-8", "replace").strip().splitlines()
    return lines[-1][:200] if lines else "(no message)"
