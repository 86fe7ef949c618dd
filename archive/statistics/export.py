"""A figure as CSV: UTF-8 with a byte-order mark, so Excel shows the Chinese; the same rows as the page."""
from __future__ import annotations

import csv
import io

from ..reports.spreadsheet import BOM, spreadsheet_safe
from .services import Table


def table_csv(table: Table) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([str(column) for column in table.columns])
    for row in [*table.rows, *([table.total] if table.total else [])]:
        writer.writerow([spreadsheet_safe(cell) if isinstance(cell, str) else "" if cell is None else cell
                         for cell in row])
    return (BOM + buffer.getvalue()).encode("utf-8")
