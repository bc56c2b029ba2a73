"""Usage windows in a time zone, DST-safe (hook API contract §5). Pure: `now` is always a parameter.

Also runs in the hook client (Python 3.9+, standard library only): limiter/hook_client/build.py.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone, tzinfo

UTC = timezone.utc

DAILY = "daily"
WEEKLY = "weekly"
MONTHLY = "monthly"
SLIDING_24H = "sliding_24h"
WINDOWS = (DAILY, WEEKLY, MONTHLY, SLIDING_24H)
CALENDAR_WINDOWS = (DAILY, WEEKLY, MONTHLY)
SLIDING_SPAN = timedelta(hours=24)

WINDOW_TITLES = {
    DAILY: "Daily",
    WEEKLY: "Weekly",
    MONTHLY: "Monthly",
    SLIDING_24H: "Sliding 24-hour",
}


def local_instant(day: date, at: time, tz: tzinfo) -> datetime:
    """The UTC instant of a local wall time.

    fold=0 makes zoneinfo apply the offset in force before a transition: an ambiguous time is its first
    occurrence, and a midnight that a DST gap skips becomes the first instant of that day.
    """
    return datetime.combine(day, at, tzinfo=tz).replace(fold=0).astimezone(UTC)


def _month_start(day: date) -> date:
    return day.replace(day=1)


def _next_month_start(day: date) -> date:
    return date(day.year + 1, 1, 1) if day.month == 12 else date(day.year, day.month + 1, 1)


def window_bounds(window: str, now: datetime, tz: tzinfo) -> tuple[datetime, datetime | None]:
    """(start, end) of the window containing `now`, both UTC. A sliding window has no fixed end."""
    if window == SLIDING_24H:
        return now - SLIDING_SPAN, None
    today = now.astimezone(tz).date()
    if window == DAILY:
        first, after = today, today + timedelta(days=1)
    elif window == WEEKLY:
        first = today - timedelta(days=today.weekday())
        after = first + timedelta(days=7)
    elif window == MONTHLY:
        first, after = _month_start(today), _next_month_start(today)
    else:
        raise ValueError(f"unknown window {window!r}")
    return local_instant(first, time(0), tz), local_instant(after, time(0), tz)


def minute_of_day(moment: datetime, tz: tzinfo) -> int:
    local = moment.astimezone(tz)
    return local.hour * 60 + local.minute


def in_daily_range(minute: int, start: int, end: int) -> bool:
    """Start inclusive, end exclusive; start > end is an overnight range."""
    if start < end:
        return start <= minute < end
    return minute >= start or minute < end


def next_local_time(now: datetime, at: time, tz: tzinfo) -> datetime:
    """The first instant after `now` whose wall clock in `tz` reads `at` (or the gap it falls in)."""
    day = now.astimezone(tz).date()
    for offset in range(3):
        candidate = local_instant(day + timedelta(days=offset), at, tz)
        if candidate > now:
            return candidate
    raise AssertionError("unreachable: a wall time recurs within two days")
