"""UTC times shown as wall-clock time of a place: the DST changes of Europe/Warsaw, naive and ISO inputs, and
only real IANA names taken as zones."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from wms.timeutil import as_utc, isoformat, local_text, time_zone

WARSAW = time_zone("Europe/Warsaw")


@pytest.mark.parametrize(
    ("utc", "shown"),
    [
        ("2025-01-15T10:00:00Z", "2025-01-15 11:00:00 CET"),
        ("2025-07-15T10:00:00Z", "2025-07-15 12:00:00 CEST"),
        # Spring forward (last Sunday of March, 01:00 UTC): 01:59:59 CET is followed by 03:00:00 CEST.
        ("2025-03-30T00:59:59Z", "2025-03-30 01:59:59 CET"),
        ("2025-03-30T01:00:00Z", "2025-03-30 03:00:00 CEST"),
        # Fall back (last Sunday of October, 01:00 UTC): 02:30 happens twice, told apart by the abbreviation.
        ("2025-10-26T00:30:00Z", "2025-10-26 02:30:00 CEST"),
        ("2025-10-26T01:30:00Z", "2025-10-26 02:30:00 CET"),
        # Midnight UTC on New Year's Eve is already the next day and year in Warsaw.
        ("2025-12-31T23:30:00Z", "2026-01-01 00:30:00 CET"),
    ],
)
def test_warsaw_wall_clock_around_the_dst_changes(utc: str, shown: str) -> None:
    assert local_text(utc, WARSAW, seconds=True) == shown


def test_datetimes_naive_or_aware_and_iso_text_are_the_same_instant() -> None:
    aware = datetime(2025, 5, 14, 9, 31, 2, tzinfo=UTC)
    naive = datetime(2025, 5, 14, 9, 31, 2)  # SQLite hands times back without a zone: UTC
    other = aware.astimezone(timezone(timedelta(hours=-5)))
    texts = {local_text(v, WARSAW) for v in (aware, naive, other, "2025-05-14T09:31:02Z", isoformat(naive))}
    assert texts == {"2025-05-14 11:31 CEST"}
    assert as_utc("2025-05-14T11:31:02+02:00") == aware


def test_no_time_is_a_dash_and_a_day_is_a_day() -> None:
    assert local_text(None, WARSAW) == "—" and local_text("", WARSAW) == "—"
    assert local_text(date(2027, 3, 31), WARSAW) == "2027-03-31"


def test_other_zones_have_their_own_rules() -> None:
    assert local_text("2025-03-09T07:00:00Z", time_zone("America/New_York")) == "2025-03-09 03:00 EDT"
    assert local_text("2025-03-09T06:59:00Z", time_zone("America/New_York")) == "2025-03-09 01:59 EST"
    assert local_text("2025-03-09T07:00:00Z", time_zone("UTC")) == "2025-03-09 07:00 UTC"


@pytest.mark.parametrize(
    "name", ["Mars/Olympus", "europe/warsaw", "../../etc/passwd", "/etc/localtime", "localtime", ""]
)
def test_only_iana_names_are_zones(name: str) -> None:
    with pytest.raises(ValueError, match="not an IANA time zone"):
        time_zone(name)
