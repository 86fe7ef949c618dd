"""Checking an uploaded file before anything is stored: size, type by content, readability."""
from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from typing import BinaryIO

from PIL import Image
from pypdf import PdfReader
from pypdf.errors import PdfReadError

from ..core.errors import ValidationError

PDF = "application/pdf"
JPEG, PNG, TIFF = "image/jpeg", "image/png", "image/tiff"
ALLOWED_TYPES = (PDF, JPEG, PNG, TIFF)
EXTENSIONS = {PDF: ".pdf", JPEG: ".jpg", PNG: ".png", TIFF: ".tif"}
_IMAGE_FORMATS = {"JPEG": JPEG, "PNG": PNG, "TIFF": TIFF}


@dataclass(frozen=True)
class CheckedFile:
    filename: str
    stream: BinaryIO
    size: int
    media_type: str
    page_count: int


def sniff(head: bytes) -> str | None:
    """The media type from the first bytes; the file name is never trusted."""
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith((b"II*\x00", b"MM\x00*")):
        return TIFF
    return None


def _size(stream: BinaryIO) -> int:
    stream.seek(0, os.SEEK_END)
    size = stream.tell()
    stream.seek(0)
    return size


def check_file(filename: str, stream: BinaryIO, max_bytes: int) -> CheckedFile:
    """Raise a ValidationError naming the file and the reason, or return what was learnt about it."""
    filename = os.path.basename(filename or "").strip() or "upload"
    size = _size(stream)
    if size == 0:
        raise ValidationError("%(filename)s: the file is empty.", filename=filename)
    if size > max_bytes:
        raise ValidationError("%(filename)s: the file is larger than %(limit)s MB.",
                              filename=filename, limit=max_bytes // (1024 * 1024))
    media_type = sniff(stream.read(16))
    stream.seek(0)
    if media_type is None:
        raise ValidationError("%(filename)s: not a PDF, JPEG, PNG or TIFF file (judged by its content).",
                              filename=filename)
    pages = _pdf_pages(filename, stream) if media_type == PDF else _image_pages(filename, stream, media_type)
    stream.seek(0)
    return CheckedFile(filename, stream, size, media_type, pages)


def _pdf_pages(filename: str, stream: BinaryIO) -> int:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            reader = PdfReader(stream)
            if reader.is_encrypted:
                raise ValidationError(
                    "%(filename)s: the PDF is encrypted or password-protected; file an unprotected copy.",
                    filename=filename,
                )
            pages = len(reader.pages)
    except ValidationError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError, RecursionError):
        raise ValidationError("%(filename)s: the PDF is damaged and cannot be read.", filename=filename) from None
    if pages == 0:
        raise ValidationError("%(filename)s: the PDF has no pages.", filename=filename)
    return pages


def _image_pages(filename: str, stream: BinaryIO, media_type: str) -> int:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(stream) as image:
                if _IMAGE_FORMATS.get(image.format or "") != media_type:
                    raise ValidationError("%(filename)s: the image is damaged and cannot be read.", filename=filename)
                pages = getattr(image, "n_frames", 1)
                image.verify()
    except ValidationError:
        raise
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise ValidationError("%(filename)s: the image is too large in pixels to be a scan.",
                              filename=filename) from None
    except Exception:  # Pillow raises many types for a broken image
        raise ValidationError("%(filename)s: the image is damaged and cannot be read.", filename=filename) from None
    return pages
