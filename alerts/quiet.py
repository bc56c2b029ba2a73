"""Quiet hours (pure): days and hours in a time zone during which non-urgent alerts wait.

A span belongs to the day it starts on; "22:00-07:00" on Friday runs into Saturday morning. DST-safe: local
times are resolved in the zone on each day.
"""

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class QuietHours:
    days: frozenset[int]  # 0 = Monday
    start: time
    end: time
    tz: ZoneInfo

    def _spans(self, now: datetime):
        local = now.astimezone(self.tz)
        for offset in (-1, 0):
            day = local.date() + timedelta(days=offset)
            if day.weekday() not in self.days:
                continue
            begins = datetime.combine(day, self.start, self.tz)
            end_day = day if self.end > self.start else day + timedelta(days=1)
            yield begins, datetime.combine(end_day, self.end, self.tz)

    def ends_at(self, now: datetime) -> datetime | None:
        """When the quiet span covering `now` ends; None when `now` is not in quiet hours."""
        for begins, ends in self._spans(now):
            if begins <= now < ends:
                return ends
        return None


def parse_days(text: str) -> frozenset[int]:
    """`mon-fri`, `sat,sun`, `daily`; ValueError with the bad part."""
    text = text.strip().lower()
    if text in ("", "daily", "all"):
        return frozenset(range(7))
    days: set[int] = set()
    for part in text.split(","):
        part = part.strip()
        if "-" in part:
            first, last = (DAY_NAMES.index(p.strip()[:3]) for p in part.split("-", 1))
            days.update(range(first, last + 1) if first <= last else [*range(first, 7), *range(0, last + 1)])
        elif part[:3] in DAY_NAMES:
            days.add(DAY_NAMES.index(part[:3]))
        else:
            raise ValueError(f"{part!r} is not a day (mon … sun)")
    return frozenset(days)
