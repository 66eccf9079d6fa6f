"""Spreadsheet-formula neutralisation for the review CSV.

A cell that starts with = + - @, a tab or a carriage return is read as a formula by spreadsheet programs; prefixing
it with an apostrophe makes it text. This module is the one place the review app does it, so that it can be
swapped for the platform's shared CSV-safety helper when that lands. Numbers are left alone (a negative strength
is a number, not a formula).
"""

from collections.abc import Iterable

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def csv_safe_cell(value: object) -> object:
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def csv_safe_row(row: Iterable[object]) -> list[object]:
    return [csv_safe_cell(value) for value in row]
