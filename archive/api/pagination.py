"""Cursor pagination: the cursor is opaque to clients (base64 of the last id seen, or of a result page)."""
from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from flask import request

from ..core.errors import ValidationError
from ..extensions import db


def encode_cursor(**position: int) -> str:
    return base64.urlsafe_b64encode(json.dumps(position, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None, key: str) -> int | None:
    if not cursor:
        return None
    try:
        position = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        value = position[key]
    except (binascii.Error, ValueError, TypeError, KeyError):
        raise ValidationError("The cursor is not valid: pass the next_cursor of the previous page.") from None
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < 2**31:
        raise ValidationError("The cursor is not valid: pass the next_cursor of the previous page.")
    return value


@dataclass(frozen=True)
class CursorPage:
    items: list[Any]
    next_cursor: str | None

    @property
    def next(self) -> str | None:
        """The same request for the following page, as a relative address."""
        if self.next_cursor is None:
            return None
        args = {k: v for k, v in request.args.items(multi=True) if k != "cursor"}
        return f"{request.path}?{urlencode([*args.items(), ('cursor', self.next_cursor)])}"


def keyset_page(stmt, id_column, cursor: str | None, limit: int) -> CursorPage:
    """Rows after the cursor's id, in id order: a row filed while a client pages is neither skipped nor repeated."""
    after = decode_cursor(cursor, "after")
    if after is not None:
        stmt = stmt.where(id_column > after)
    rows = list(db.session.scalars(stmt.order_by(id_column).limit(limit + 1)).unique())
    more = len(rows) > limit
    rows = rows[:limit]
    return CursorPage(rows, encode_cursor(after=rows[-1].id) if more else None)
