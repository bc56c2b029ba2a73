from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest

from alerts.quiet import QuietHours, parse_days

BERLIN = ZoneInfo("Europe/Berlin")
NIGHTS = QuietHours(frozenset(range(7)), time(22), time(7), BERLIN)


def test_overnight_quiet_hours_end_next_morning_in_the_zone():
    now = datetime(2026, 11, 20, 23, 30, tzinfo=BERLIN)
    assert NIGHTS.ends_at(now) == datetime(2026, 11, 21, 7, 0, tzinfo=BERLIN)
    assert NIGHTS.ends_at(datetime(2026, 11, 21, 6, 59, tzinfo=BERLIN)) == datetime(
        2026, 11, 21, 7, tzinfo=BERLIN
    )
    assert NIGHTS.ends_at(datetime(2026, 11, 21, 12, 0, tzinfo=BERLIN)) is None


def test_weekend_only_quiet_hours_follow_the_day_they_start():
    weekend = QuietHours(parse_days("sat-sun"), time(0), time(23, 59), BERLIN)
    assert weekend.ends_at(datetime(2026, 11, 21, 10, tzinfo=UTC)) is not None  # Saturday
    assert weekend.ends_at(datetime(2026, 11, 23, 10, tzinfo=UTC)) is None  # Monday


def test_quiet_hours_survive_the_dst_change():
    # 25 Oct 2026: Berlin falls back from CEST to CET at 03:00.
    now = datetime(2026, 10, 25, 1, 30, tzinfo=UTC)  # 02:30 CEST or so
    assert NIGHTS.ends_at(now) == datetime(2026, 10, 25, 7, 0, tzinfo=BERLIN)


def test_parse_days():
    assert parse_days("mon-fri") == frozenset(range(5))
    assert parse_days("fri-mon") == frozenset({4, 5, 6, 0})
    with pytest.raises(ValueError, match="not a day"):
        parse_days("funday")
