"""The CSV formula guard shared by every CSV the platform writes (hulic/csv_cells.py)."""

import io

import pyarrow as pa
import pytest

from hulic.csv_cells import SafeCsvWriter, csv_text_array, csv_text_cell

HOSTILE = ["=1+1", "+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1", "=cmd|' /C calc'!A0"]
HARMLESS = ["hello", "", " =not at the start", "'already quoted", "안녕하세요", "1-2"]


@pytest.mark.parametrize("text", HOSTILE)
def test_a_text_cell_starting_a_formula_gets_a_leading_quote(text):
    assert csv_text_cell(text) == "'" + text


@pytest.mark.parametrize("value", [*HARMLESS, -3, 2.5, None, True])
def test_other_cells_are_unchanged(value):
    assert csv_text_cell(value) == value


def test_the_arrow_version_agrees_and_keeps_nulls():
    array = pa.array([*HOSTILE, *HARMLESS, None])

    assert csv_text_array(array).to_pylist() == [csv_text_cell(v) for v in [*HOSTILE, *HARMLESS]] + [None]
    numbers = pa.array([-1, 2])
    assert csv_text_array(numbers) is numbers


def test_the_writer_quotes_text_cells_only():
    out = io.StringIO()
    SafeCsvWriter(out).writerows([["=A1", -1, "ok"]])

    assert out.getvalue() == "'=A1,-1,ok\r\n"
