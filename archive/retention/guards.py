"""The refusal every path gives for a disposed document: its content is gone, its record stays (410)."""
from __future__ import annotations

from ..core.clock import local_today
from ..core.errors import Gone


def disposed_refusal(document) -> Gone | None:
    if document.disposed_at is None:
        return None
    return Gone("%(number)s was disposed of on %(day)s: its content was destroyed. Its record and the destruction "
                "register remain.", number=document.archive_number,
                day=local_today(document.disposed_at).isoformat())


def ensure_not_disposed(document) -> None:
    refusal = disposed_refusal(document)
    if refusal is not None:
        raise refusal
