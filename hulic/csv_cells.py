"""Neutralising spreadsheet formulas in every CSV the platform writes (OWASP "CSV injection").

A spreadsheet opening a CSV runs a cell that starts with ``=``, ``+``, ``-`` or ``@`` as a formula
(``=HYPERLINK(...)``, ``=cmd|' /C calc'!A0``), and a leading tab or carriage return can hide such a start.
Bot and team names, chat text and judgment reasons are typed by participants, so every text cell starting
with one of those characters gets a single quote in front, which spreadsheets show as text. Numbers are written
as numbers. JSONL and Parquet exports keep the text exactly as typed (docs/exports.md).
"""

import csv
from collections.abc import Iterable
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_FORMULA_START_PATTERN = "^[=+\\-@\\t\\r]"


def csv_text_cell(value: Any) -> Any:
    """A text value made safe for a spreadsheet; anything else unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_text_array(array: pa.Array) -> pa.Array:
    """csv_text_cell over an Arrow string array (nulls stay null); arrays of other types unchanged."""
    if not (pa.types.is_string(array.type) or pa.types.is_large_string(array.type)):
        return array
    quoted = pc.binary_join_element_wise(pa.scalar("'", array.type), array, pa.scalar("", array.type))
    return pc.if_else(pc.match_substring_regex(array, _FORMULA_START_PATTERN), quoted, array)


class SafeCsvWriter:
    """csv.writer whose text cells go through csv_text_cell."""

    def __init__(self, stream, **options) -> None:
        self._writer = csv.writer(stream, **options)

    def writerow(self, row: Iterable[Any]) -> None:
        self._writer.writerow([csv_text_cell(value) for value in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)
