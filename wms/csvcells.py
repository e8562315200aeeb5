"""Cells of every CSV the WMS writes, safe to open in a spreadsheet (CSV formula injection, OWASP).

A spreadsheet runs a cell that starts with ``=``, ``+``, ``-`` or ``@`` as a formula (and strips a leading tab
or carriage return before looking), so a sku such as ``=HYPERLINK(...)`` or ``+1+cmd|' /C calc'!A0`` in a feed
would run on the computer of whoever opens it. Such a text cell gets a leading single quote, which spreadsheets
show as text and do not display. Only text cells pass through here: the numbers the WMS writes are never
negative, and a code (location, bin) starts with a letter or digit.

The feed's CSV is written by the database, so the rule exists twice: :func:`csv_text` for cells built in Python
and :func:`csv_text_sql` for cells built in SQL (SQLite and PostgreSQL). Tests hold the two to the same answers.
"""

from __future__ import annotations

#: a text cell starting with one of these gets a leading ``'``
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def csv_text(value: str) -> str:
    """``value`` as a text cell a spreadsheet will not run (quoting for commas is the CSV writer's job)."""
    return "'" + value if value.startswith(FORMULA_TRIGGERS) else value


def csv_text_sql(expression: str) -> str:
    """The SQL of :func:`csv_text` applied to the text ``expression`` (the same on SQLite and PostgreSQL)."""
    triggers = ", ".join(f"'{ch}'" for ch in FORMULA_TRIGGERS)  # tab and CR are literal inside the quotes
    return f"(CASE WHEN substr({expression}, 1, 1) IN ({triggers}) THEN '''' || {expression} ELSE {expression} END)"
