"""Window boundaries in the team's time zone (hook API contract §5, §6.2): pure, table-driven."""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from limiter import engine
from limiter.engine import RuleSpec, Usage
from limiter.windows import window_bounds

BERLIN = "Europe/Berlin"
SANTIAGO = "America/Santiago"  # DST changes at local midnight
BEIRUT = "Asia/Beirut"  # DST changes at local midnight
HAVANA = "America/Havana"  # falls back 01:00 → 00:00: local midnight happens twice


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def local(zone: str, text: str, fold: int = 0) -> datetime:
    """A wall-clock reading in `zone` as a UTC instant; fold=1 picks the second of two equal readings."""
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(zone), fold=fold).astimezone(UTC)


# Local "now" ending in * is the second of two equal wall-clock readings (the repeated hour).
CALENDAR_WINDOWS = """
daily-23:59-still-today        Europe/Berlin    daily   2026-11-22T23:59  2026-11-21T23:00 2026-11-22T23:00
daily-00:00-new-day            Europe/Berlin    daily   2026-11-23T00:00  2026-11-22T23:00 2026-11-23T23:00
daily-utc-team                 UTC              daily   2026-11-22T00:00  2026-11-22T00:00 2026-11-23T00:00
weekly-sunday-23:59            Europe/Berlin    weekly  2026-11-22T23:59  2026-11-15T23:00 2026-11-22T23:00
weekly-monday-00:00            Europe/Berlin    weekly  2026-11-23T00:00  2026-11-22T23:00 2026-11-29T23:00
weekly-wednesday               UTC              weekly  2026-11-25T12:00  2026-11-23T00:00 2026-11-30T00:00
weekly-spans-spring-dst        Europe/Berlin    weekly  2026-03-25T12:00  2026-03-22T23:00 2026-03-29T22:00
monthly-30th-23:59             Europe/Berlin    monthly 2026-11-30T23:59  2026-10-31T23:00 2026-11-30T23:00
monthly-1st-00:00              Europe/Berlin    monthly 2026-12-01T00:00  2026-11-30T23:00 2026-12-31T23:00
monthly-31st-of-january        Europe/Berlin    monthly 2026-01-31T23:59  2025-12-31T23:00 2026-01-31T23:00
monthly-new-year               Europe/Berlin    monthly 2026-12-31T23:59  2026-11-30T23:00 2026-12-31T23:00
monthly-feb-leap-year          Europe/Berlin    monthly 2028-02-29T12:00  2028-01-31T23:00 2028-02-29T23:00
monthly-feb-common-year        Europe/Berlin    monthly 2027-02-28T23:59  2027-01-31T23:00 2027-02-28T23:00
daily-feb-29                   Europe/Berlin    daily   2028-02-29T00:00  2028-02-28T23:00 2028-02-29T23:00
monthly-spans-spring-dst       Europe/Berlin    monthly 2026-03-15T12:00  2026-02-28T23:00 2026-03-31T22:00
daily-berlin-spring-23h        Europe/Berlin    daily   2026-03-29T12:00  2026-03-28T23:00 2026-03-29T22:00
daily-berlin-fall-25h          Europe/Berlin    daily   2026-10-25T12:00  2026-10-24T22:00 2026-10-25T23:00
daily-berlin-repeated-02:30    Europe/Berlin    daily   2026-10-25T02:30* 2026-10-24T22:00 2026-10-25T23:00
daily-santiago-gap-at-midnight America/Santiago daily   2026-09-06T12:00  2026-09-06T04:00 2026-09-07T03:00
daily-santiago-eve-of-gap      America/Santiago daily   2026-09-05T23:59  2026-09-05T04:00 2026-09-06T04:00
daily-santiago-repeated-23h    America/Santiago daily   2026-04-04T23:30* 2026-04-04T03:00 2026-04-05T04:00
weekly-santiago-gap-sunday     America/Santiago weekly  2026-09-06T12:00  2026-08-31T04:00 2026-09-07T03:00
daily-beirut-midnight-gap      Asia/Beirut      daily   2026-03-29T10:00  2026-03-28T22:00 2026-03-29T21:00
monthly-beirut-gap-in-march    Asia/Beirut      monthly 2026-03-29T10:00  2026-02-28T22:00 2026-03-31T21:00
daily-beirut-repeated-23h      Asia/Beirut      daily   2026-10-24T23:30* 2026-10-23T21:00 2026-10-24T22:00
daily-havana-double-midnight   America/Havana   daily   2026-11-01T12:00  2026-11-01T04:00 2026-11-02T05:00
daily-havana-second-00:30      America/Havana   daily   2026-11-01T00:30* 2026-11-01T04:00 2026-11-02T05:00
"""


def calendar_cases():
    for line in CALENDAR_WINDOWS.strip().splitlines():
        case_id, zone, window, now, start, end = line.split()
        fold = int(now.endswith("*"))
        yield pytest.param(zone, window, now.rstrip("*"), fold, start, end, id=case_id)


@pytest.mark.parametrize(("zone", "window", "now", "fold", "start", "end"), list(calendar_cases()))
def test_calendar_window_starts_and_ends_at_local_midnight(zone, window, now, fold, start, end):
    assert window_bounds(window, local(zone, now, fold), ZoneInfo(zone)) == (utc(start), utc(end))


def test_sliding_window_covers_the_last_24_hours_without_a_fixed_end():
    now = utc("2026-11-22 01:42:33")
    assert window_bounds("sliding_24h", now, ZoneInfo(BERLIN)) == (utc("2026-11-21 01:42:33"), None)


# A daily cap that is full: the deny's resets_at is the window end in the team zone.
@pytest.mark.parametrize(
    ("zone", "now", "resets"),
    [
        (BERLIN, "2026-11-22 23:59", "2026-11-22 23:00"),
        (BERLIN, "2026-03-29 00:30", "2026-03-29 22:00"),
        (SANTIAGO, "2026-09-05 20:00", "2026-09-06 04:00"),
        (BEIRUT, "2026-03-28 23:30", "2026-03-28 22:00"),
    ],
    ids=["berlin-late-evening", "berlin-short-day", "santiago-gap-midnight", "beirut-gap-midnight"],
)
def test_daily_deny_resets_at_next_local_midnight(zone, now, resets):
    decision = engine.evaluate(
        status="active",
        seat_name="Alice",
        rules=[RuleSpec(id="r1", type="per_model", model="opus", window="daily", value=1)],
        family="opus",
        usage=Usage(counts={"daily": {"opus": 1}}, credits={}),
        weights={},
        tz=ZoneInfo(zone),
        now=local(zone, now),
    )
    assert not decision.allowed
    assert decision.resets_at == utc(resets)
    assert decision.resets_at > local(zone, now)


def hours(start: str, end: str, zone: str, at: str, fold: int = 0):
    return hours_at(start, end, zone, local(zone, at, fold))


def hours_at(start: str, end: str, zone: str, now: datetime):
    rule = RuleSpec(
        id="t1",
        type="time_of_day",
        model="opus",
        schedule_start=time.fromisoformat(start),
        schedule_end=time.fromisoformat(end),
        schedule_tz=zone,
    )
    return engine.evaluate(
        status="active",
        seat_name="Alice",
        rules=[rule],
        family="opus",
        usage=Usage(counts={}, credits={}),
        weights={},
        tz=ZoneInfo("UTC"),
        now=now,
    )


# (id, start, end, local time, allowed)
SCHEDULES = [
    ("day-start-inclusive", "09:00", "18:00", "2026-11-22 09:00", True),
    ("day-before-start", "09:00", "18:00", "2026-11-22 08:59", False),
    ("day-last-minute", "09:00", "18:00", "2026-11-22 17:59", True),
    ("day-end-exclusive", "09:00", "18:00", "2026-11-22 18:00", False),
    ("midnight-to-8-at-00:30-v1-bug", "00:00", "08:00", "2026-11-22 00:30", True),
    ("midnight-to-8-at-00:00", "00:00", "08:00", "2026-11-22 00:00", True),
    ("midnight-to-8-at-23:59", "00:00", "08:00", "2026-11-22 23:59", False),
    ("midnight-to-8-at-08:00", "00:00", "08:00", "2026-11-22 08:00", False),
    ("overnight-start-inclusive", "22:00", "06:00", "2026-11-22 22:00", True),
    ("overnight-before-midnight", "22:00", "06:00", "2026-11-22 23:59", True),
    ("overnight-after-midnight", "22:00", "06:00", "2026-11-23 00:00", True),
    ("overnight-last-minute", "22:00", "06:00", "2026-11-23 05:59", True),
    ("overnight-end-exclusive", "22:00", "06:00", "2026-11-23 06:00", False),
    ("overnight-afternoon", "22:00", "06:00", "2026-11-23 21:59", False),
    ("until-23:59-at-23:58", "08:00", "23:59", "2026-11-22 23:58", True),
    ("until-23:59-at-23:59", "08:00", "23:59", "2026-11-22 23:59", False),
    ("month-end-overnight", "22:00", "06:00", "2026-11-30 23:30", True),
    ("year-end-overnight", "22:00", "06:00", "2027-01-01 00:15", True),
]


@pytest.mark.parametrize(
    ("start", "end", "at", "allowed"), [c[1:] for c in SCHEDULES], ids=[c[0] for c in SCHEDULES]
)
def test_time_of_day_start_is_inclusive_and_end_exclusive(start, end, at, allowed):
    assert hours(start, end, BERLIN, at).allowed is allowed


@pytest.mark.parametrize(
    ("start", "end", "zone", "at", "fold", "opens"),
    [
        ("09:00", "18:00", BERLIN, "2026-11-22 19:42", 0, "2026-11-23 08:00"),
        ("09:00", "18:00", BERLIN, "2026-11-22 07:00", 0, "2026-11-22 08:00"),
        ("09:00", "18:00", BERLIN, "2026-03-28 19:00", 0, "2026-03-29 07:00"),
        ("22:00", "06:00", "UTC", "2026-11-22 06:00", 0, "2026-11-22 22:00"),
        ("00:00", "08:00", SANTIAGO, "2026-09-05 12:00", 0, "2026-09-06 04:00"),
        ("00:00", "08:00", BEIRUT, "2026-03-28 12:00", 0, "2026-03-28 22:00"),
    ],
    ids=[
        "evening-opens-next-morning",
        "early-morning-opens-today",
        "opens-after-spring-forward",
        "overnight-opens-tonight",
        "santiago-opens-after-midnight-gap",
        "beirut-opens-after-midnight-gap",
    ],
)
def test_time_of_day_deny_resets_at_the_next_opening(start, end, zone, at, fold, opens):
    decision = hours(start, end, zone, at, fold)
    assert not decision.allowed
    assert decision.resets_at == utc(opens)


def test_time_of_day_uses_the_rule_zone_not_the_team_zone():
    # 08:30 UTC is 09:30 in Berlin: inside a 09:00-18:00 Berlin schedule.
    now = utc("2026-11-22 08:30")
    assert hours_at("09:00", "18:00", BERLIN, now).allowed
    assert not hours_at("09:00", "18:00", "UTC", now).allowed


def test_sliding_window_moves_with_now():
    first = window_bounds("sliding_24h", utc("2026-11-22 00:00"), ZoneInfo("UTC"))[0]
    later = window_bounds("sliding_24h", utc("2026-11-22 00:00") + timedelta(minutes=1), ZoneInfo("UTC"))[0]
    assert later - first == timedelta(minutes=1)
