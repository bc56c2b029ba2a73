"""Offline decisions: the server's own engine (windows, engine, families, messages) fed from the cache.

Nothing here decides by itself: the cached rules become the engine's RuleSpecs, the last usage report
plus this machine's turns since become its Usage, and `engine.evaluate` answers as the server would.
Imported only when the server gave no decision: the engine's imports cost start-up time.
"""

from datetime import datetime, time, timedelta, timezone, tzinfo

from .. import engine, families, windows
from .base import iso, parse_iso


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


def _clock(text):
    if not isinstance(text, str):
        return None
    hours, sep, minutes = text.partition(":")
    try:
        return time(int(hours), int(minutes[:2])) if sep else None
    except ValueError:
        return None


def _int(value):
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def rule_specs(limits):
    """The cached `limits` (the server's rule JSON) as the engine's rules, in the server's order.
    A rule the server could not have sent (no window, no value, no times) is left out."""
    specs = []
    for rule in limits if isinstance(limits, list) else []:
        if not isinstance(rule, dict) or rule.get("type") not in engine.RULE_TYPES:
            continue
        window = rule.get("window") if rule.get("window") in windows.WINDOWS else None
        start, end = _clock(rule.get("schedule_start")), _clock(rule.get("schedule_end"))
        if rule["type"] == engine.TIME_OF_DAY:
            if start is None or end is None:
                continue
        elif window is None or _int(rule.get("value")) is None:
            continue
        model = rule.get("model")
        specs.append(
            engine.RuleSpec(
                id=str(rule.get("id") or ""),
                type=rule["type"],
                model=model if isinstance(model, str) and model else None,
                window=window,
                value=_int(rule.get("value")),
                schedule_start=start,
                schedule_end=end,
                schedule_tz=rule.get("schedule_tz") if isinstance(rule.get("schedule_tz"), str) else None,
            )
        )
    return specs


def _turns(state):
    """This machine's turns, oldest first: (time, family, cost, already inside the last report)."""
    report_at = parse_iso(state.get("report_at"))
    turns = []
    for turn in state.get("turns") or []:
        at = parse_iso(turn.get("at")) if isinstance(turn, dict) else None
        if at is None:
            continue
        family = turn.get("family") if isinstance(turn.get("family"), str) else families.DEFAULT_FAMILY
        cost = _int(turn.get("cost")) or 0
        reported = bool(turn.get("sent")) and report_at is not None and at <= report_at
        turns.append((at, family, cost, reported))
    turns.sort(key=lambda item: item[0])
    return turns


def local_usage(state, now, tz):
    """The engine's Usage: the last server report, plus this machine's turns since (sent or not).

    A calendar window that began after the report starts empty; the sliding window keeps the report's
    counts for 24 h, which errs on the strict side. `recent` is the turns this machine knows of.
    """
    report = state["report"] if isinstance(state.get("report"), dict) else {}
    report_at = parse_iso(state.get("report_at"))
    reported = report["usage"] if isinstance(report.get("usage"), dict) else {}
    turns = _turns(state)
    counts, credits = {}, {}
    for window in windows.WINDOWS:
        start = windows.window_bounds(window, now, tz)[0]
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
        for at, family, cost, in_report in turns:
            if at < start or at > now or in_report:
                continue
            window_counts[family] = window_counts.get(family, 0) + 1
            window_credits += cost
        counts[window] = window_counts
        credits[window] = window_credits
    recent = [
        engine.CountedTurn(occurred_at=at, family=family, cost=cost)
        for at, family, cost, _ in turns
        if now - windows.SLIDING_SPAN <= at <= now
    ]
    return engine.Usage(counts=counts, credits=credits, recent=recent)


def family_of(state, model):
    """The family the server would charge: same rules, same team aliases and extra families."""
    extra = state.get("extra_families") if isinstance(state.get("extra_families"), list) else ()
    aliases = state.get("model_aliases") if isinstance(state.get("model_aliases"), dict) else None
    return families.normalize_family(model, extra_families=extra, aliases=aliases)


def credit_cost(state, family):
    weights = state.get("credit_weights") if isinstance(state.get("credit_weights"), dict) else {}
    return engine.credit_cost(family, weights)


def decide(state, model, now):
    """The server's decision for `model` at `now` from the cache: an engine.Decision."""
    tz = team_zone(state)
    rules = rule_specs(state.get("limits"))
    seat_name = (state.get("seat") or {}).get("name") or "you"
    return engine.evaluate(
        status=state["status"],
        seat_name=seat_name,
        rules=rules,
        family=family_of(state, model),
        usage=local_usage(state, now, tz),
        weights=state.get("credit_weights") if isinstance(state.get("credit_weights"), dict) else {},
        tz=tz,
        now=now,
    )


def report_from_local(state, now):
    """A /status-shaped report built offline from the cache, for messages, `status` and the status line."""
    tz = team_zone(state)
    usage = local_usage(state, now, tz)
    rules = rule_specs(state.get("limits"))
    position = engine.tightest_credit_position(rules, usage)
    return {
        "user": state.get("seat") or {},
        "limits": state.get("limits") or [],
        "credit_weights": state.get("credit_weights") or {},
        "credit_balance": position.balance if position else None,
        "credit_budget": position.budget if position else None,
        "usage": {
            window: {
                "counts": dict(usage.counts[window]),
                "totalCredits": usage.credits[window],
                "windowStart": iso(windows.window_bounds(window, now, tz)[0]),
            }
            for window in windows.WINDOWS
        },
    }
