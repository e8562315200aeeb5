"""CSV formula injection: text cells that a spreadsheet would run as a formula get a leading quote."""

import sqlite3

import pytest

from wms.csvcells import csv_text, csv_text_sql

CASES = [
    ('=HYPERLINK("http://evil.example","x")', '\'=HYPERLINK("http://evil.example","x")'),
    ("+1+cmd|' /C calc'!A0", "'+1+cmd|' /C calc'!A0"),
    ("-2+3", "'-2+3"),
    ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
    ("\t=1", "'\t=1"),
    ("\r=1", "'\r=1"),
    ("KT-1001", "KT-1001"),
    ("a=b", "a=b"),
    ("'quoted", "'quoted"),
    ("", ""),
    ("Łopata", "Łopata"),
]


@pytest.mark.parametrize(("value", "expected"), CASES)
def test_cells_that_start_a_formula_get_a_quote(value, expected):
    assert csv_text(value) == expected


@pytest.mark.parametrize(("value", "expected"), CASES)
def test_the_sql_rule_gives_the_same_answers(value, expected):
    conn = sqlite3.connect(":memory:")
    assert conn.execute(f"SELECT {csv_text_sql('x')} FROM (SELECT ? AS x)", (value,)).fetchone()[0] == expected
