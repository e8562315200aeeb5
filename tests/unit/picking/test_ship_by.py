"""The carrier cut-off an order has to leave by: the same day's when it came in before it (local time at the
location, daylight saving included), else the next day's."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest

from wms.picking.rules import parse_cutoff, ship_by

WARSAW = ZoneInfo("Europe/Warsaw")


@pytest.mark.parametrize(
    ("placed", "expected"),
    [
        # winter, UTC+1: 13:59 UTC is 14:59 in Warsaw, before the 15:00 cut-off: today
        (datetime(2026, 12, 7, 13, 59, tzinfo=UTC), datetime(2026, 12, 7, 14, 0, tzinfo=UTC)),
        # 15:00 local exactly: too late for today
        (datetime(2026, 12, 7, 14, 0, tzinfo=UTC), datetime(2026, 12, 8, 14, 0, tzinfo=UTC)),
        # 23:30 UTC is already the next day in Warsaw: that day's cut-off
        (datetime(2026, 12, 7, 23, 30, tzinfo=UTC), datetime(2026, 12, 8, 14, 0, tzinfo=UTC)),
        # summer, UTC+2
        (datetime(2026, 7, 1, 12, 0, tzinfo=UTC), datetime(2026, 7, 1, 13, 0, tzinfo=UTC)),
        # a naive time is UTC (SQLite hands them back so)
        (datetime(2026, 12, 7, 13, 59), datetime(2026, 12, 7, 14, 0, tzinfo=UTC)),
    ],
)
def test_the_cut_off_an_order_ships_by(placed, expected):
    assert ship_by(placed, time(15, 0), WARSAW) == expected


def test_the_setting_is_a_time_of_day():
    assert parse_cutoff("15:00") == time(15, 0) and parse_cutoff(" 9:30 ") == time(9, 30)
    for bad in ("", "15", "25:00", "15:7", "x:00", "15:00:00"):
        with pytest.raises(ValueError):
            parse_cutoff(bad)
