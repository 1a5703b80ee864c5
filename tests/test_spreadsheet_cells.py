"""Exported cells never start a spreadsheet formula, and read back exactly."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backend.spreadsheet_cells import FORMULA_STARTS, guarded, unguarded


@pytest.mark.parametrize(
    ("text", "written"),
    [
        (
            '=HYPERLINK("http://evil.example","Details")',
            '\'=HYPERLINK("http://evil.example","Details")',
        ),
        ("+1 555 0100", "'+1 555 0100"),
        ("-10% for schools", "'-10% for schools"),
        ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
        ("\tcmd", "'\tcmd"),
        ("'=already quoted", "''=already quoted"),
        ("''", "'''"),
        ("'Quoted' title", "'Quoted' title"),
        ("Tablets for 5,000 learners", "Tablets for 5,000 learners"),
        ("", ""),
    ],
)
def test_a_formula_is_written_inert(text, written):
    assert guarded(text) == written
    assert unguarded(written) == text


@given(st.text())
def test_every_text_reads_back_as_it_was(text):
    assert unguarded(guarded(text)) == text
    assert not guarded(text).startswith(FORMULA_STARTS)
