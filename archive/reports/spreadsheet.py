"""CSV for spreadsheets: UTF-8 with a byte-order mark, so Excel shows the Chinese, and no cell a spreadsheet
would run as a formula (CSV injection)."""
from __future__ import annotations

BOM = "\ufeff"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: str) -> str:
    """The text as a spreadsheet shows it, never evaluates it."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value
