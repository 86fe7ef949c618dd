"""The embedded CJK font every PDF uses, so Chinese prints correctly on any machine."""
from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

FONT_NAME = "WenQuanYiZenHei"
# Debian's fonts-wqy-zenhei; ARCHIVE_CJK_FONT may name another TrueType file (.ttf, or .ttc with subfont 0).
CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/wqy-zenhei/wqy-zenhei.ttc",
)


class FontMissing(RuntimeError):
    pass


@lru_cache(maxsize=1)
def cjk_font() -> str:
    """Register the font once and return its name; fail clearly rather than print boxes."""
    configured = os.environ.get("ARCHIVE_CJK_FONT")
    for candidate in ([configured] if configured else []) + list(CANDIDATES):
        if candidate and Path(candidate).exists():
            pdfmetrics.registerFont(TTFont(FONT_NAME, candidate, subfontIndex=0))
            return FONT_NAME
    raise FontMissing(
        "No Chinese TrueType font found: install fonts-wqy-zenhei (scripts/serve does) or set ARCHIVE_CJK_FONT."
    )
