"""What the cache says this seat has used, without the engine: the last report plus this machine's turns.

Light on imports (no dataclasses, no `re`): the status line runs it every few hundred milliseconds, and
offline decisions wrap its figures into the engine's Usage (offline.py).
"""

from datetime import datetime, timedelta, timezone, tzinfo

from .. import windows
from .base import parse_iso


class FixedZone(tzinfo):
    """The team's zone where this Python has no time zone database (Windows without tzdata): the offset
    the server reported for the team's day start, under the zone's name so messages read the same."""

    def __init__(self, offset_seconds, key):
        self.offset = timedelta(seconds=offset_seconds)
        self.key = key

    def utcoffset(self, dt):
        return self.offset

    def dst(self, dt):
        return timedelta(0)

    def tzname(self, dt):
        return self.key


def load_zone(name, fallback_offset=None):
    try:
        from zoneinfo import ZoneInfo

        return ZoneInfo(name or "UTC")
    except Exception:
        if fallback_offset is None:
            fallback_offset = 0 if not name or name == "UTC" else _local_offset()
        return FixedZone(fallback_offset, name or "UTC")


def _local_offset():
    offset = datetime.now(timezone.utc).astimezone().utcoffset()
    return offset.total_seconds() if offset is not None else 0


def team_zone(state):
    """The team's zone; without a zone database, the offset of the last report's daily window start."""
    offset = None
    report = state.get("report") if isinstance(state.get("report"), dict) else {}
    daily = (report.get("usage") or {}).get("daily") or {}
    start = parse_iso(daily.get("windowStart") if isinstance(daily, dict) else None)
    if start is not None:
        seconds = start.hour * 3600 + start.minute * 60
        offset = -seconds if seconds <= 12 * 3600 else 86400 - seconds
    name = state.get("team_timezone") if isinstance(state.get("team_timezone"), str) else "UTC"
    return load_zone(name, offset)


def _int(value):
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _turns(state):
    """This machine's turns, oldest first: (time, family, cost, already inside the last report)."""
    report_at = parse_iso(state.get("report_at"))
    turns = []
    for turn in state.get("turns") or []:
        at = parse_iso(turn.get("at")) if isinstance(turn, dict) else None
        if at is None:
            continue
        family = turn.get("family") if isinstance(turn.get("family"), str) else "default"
        cost = _int(turn.get("cost")) or 0
        reported = bool(turn.get("sent")) and report_at is not None and at <= report_at
        turns.append((at, family, cost, reported))
    turns.sort(key=lambda item: item[0])
    return turns


def tally(state, now, tz, starts=None):
    """(counts, credits, recent turns) per window: the last server report, plus this machine's turns
    since (sent or not). `starts` (window → its start) spares the time zone work where a caller has them.

    A calendar window that began after the report starts empty. The sliding window keeps the report's
    counts for 24 h less this machine's own reported turns that have aged out since (it knows their
    times; those of other machines it does not, so it errs on the strict side for them). `recent` is the
    turns this machine knows of.
    """
    report = state["report"] if isinstance(state.get("report"), dict) else {}
    report_at = parse_iso(state.get("report_at"))
    reported = report["usage"] if isinstance(report.get("usage"), dict) else {}
    turns = _turns(state)
    counts, credits = {}, {}
    for window in windows.WINDOWS:
        start = starts[window] if starts and window in starts else windows.window_bounds(window, now, tz)[0]
        base = reported[window] if isinstance(reported.get(window), dict) else {}
        if window == windows.SLIDING_24H:
            keep = report_at is not None and now - report_at < windows.SLIDING_SPAN
        else:
            keep = report_at is not None and report_at >= start
        window_counts, window_credits = {}, 0
        if keep:
            for family, n in (base.get("counts") or {}).items():
                if _int(n) is not None:
                    window_counts[family] = n
            window_credits = _int(base.get("totalCredits")) or 0
            if window == windows.SLIDING_24H:
                window_credits = _age_out(window_counts, window_credits, turns, report_at, now)
        for at, family, cost, in_report in turns:
            if at < start or at > now or in_report:
                continue
            window_counts[family] = window_counts.get(family, 0) + 1
            window_credits += cost
        counts[window] = window_counts
        credits[window] = window_credits
    recent = [(at, family, cost) for at, family, cost, _ in turns if now - windows.SLIDING_SPAN <= at <= now]
    return counts, credits, recent


def _age_out(counts, credits, turns, report_at, now):
    """Takes out of the report's sliding figures this machine's turns that were inside them and have
    left the window since (counts in place; returns the credits). A turn's time is when its Stop ran, by
    the server's clock: the server placed it there or earlier (at the check that admitted it), or, for a
    turn no check admitted, at its receipt a network round trip later."""
    left = now - windows.SLIDING_SPAN
    for at, family, cost, in_report in turns:
        if in_report and report_at - windows.SLIDING_SPAN <= at < left and counts.get(family, 0) > 0:
            counts[family] -= 1
            credits = max(0, credits - cost)
    return credits
