"""Default titles and messages (contract §10.7). Pure: times are shown in the zone passed in."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

LIMIT_LABELS = {"session": "5-hour", "weekly": "weekly", "extra_usage": "extra usage", "spend": "extra usage"}


def limit_label(limit_type: str) -> str:
    if limit_type in LIMIT_LABELS:
        return LIMIT_LABELS[limit_type]
    if limit_type.startswith("weekly:"):
        return f"weekly ({limit_type.removeprefix('weekly:').replace('_', ' ')})"
    return limit_type


def when(moment: datetime | None, tz: ZoneInfo) -> str:
    if moment is None:
        return ""
    local = moment.astimezone(tz)
    return f"{local:%Y-%m-%d %H:%M} {local.tzname()}"


def duration(span: timedelta) -> str:
    minutes = max(int(span.total_seconds() // 60), 0)
    hours, minutes = divmod(minutes, 60)
    if hours >= 48:
        return f"{hours // 24} d {hours % 24} h"
    return f"{hours} h {minutes} m" if hours else f"{minutes} m"


def _resets(resets_at: datetime | None, tz: ZoneInfo) -> str:
    return f" Resets {when(resets_at, tz)}." if resets_at else ""


def firing(account: str, label: str, pct: int, threshold: int, resets_at, tz) -> tuple[str, str]:
    return (
        f"{account}: {pct}% of {label} limit",
        f"{account} reached {pct}% of its {label} limit (threshold {threshold}%).{_resets(resets_at, tz)}",
    )


def reminder(account: str, label: str, pct: int, threshold: int, since: timedelta, resets_at, tz):
    return (
        f"{account}: still at {pct}% of {label} limit",
        f"{account} has been above {threshold}% of its {label} limit for {duration(since)}."
        f"{_resets(resets_at, tz)}",
    )


def resolved(account: str, label: str, pct: int, threshold: int, peak: int, since: timedelta, reason: str):
    title = f"{account}: back below {threshold}% of {label} limit"
    if reason == "window reset":
        return (
            title,
            f"{account}'s {label} window reset (peak {peak}%, above {threshold}% for {duration(since)}).",
        )
    above = f"peak {peak}%, above {threshold}% for {duration(since)}"
    return title, f"{account} is at {pct}% of its {label} limit ({above})."


CREDENTIAL_TITLES = {
    "expired": "cookie expired",
    "invalid": "credential lacks a required scope",
    "wrong_org": "wrong organisation",
    "blocked": "blocked by Cloudflare for over an hour",
    "rate_limited": "rate limited for over an hour",
    "cookie_expiring": "cookie about to expire",
}


def credential(account: str, state: str, error: str) -> tuple[str, str]:
    title = f"{account}: {CREDENTIAL_TITLES.get(state, state.replace('_', ' '))}"
    if state == "expired":
        return (
            title,
            f"claude.ai rejected the session cookie for {account} ({error or state}). Paste a new one.",
        )
    if state == "cookie_expiring":
        return title, f"{account}: {error}"
    return title, f"Polling {account} fails: {error or state}."


def credential_resolved(account: str, state: str) -> tuple[str, str]:
    return (
        f"{account}: credential works again",
        f"{account} polls normally again (was: {state.replace('_', ' ')}).",
    )


def window_reset(account: str, label: str, early: bool) -> tuple[str, str]:
    detail = " early" if early else ""
    return f"{account}: {label} window reset", f"{account}'s {label} window just reset{detail}."


def forecast(account: str, label: str, eta: datetime, resets_at: datetime, tz: ZoneInfo) -> tuple[str, str]:
    ahead = duration(resets_at - eta)
    return (
        f"{account}: projected to hit 100% of {label} limit",
        f"{account} is projected to reach 100% of its {label} window at {when(eta, tz)}, {ahead} before it "
        "resets.",
    )


def forecast_withdrawn(account: str, label: str) -> tuple[str, str]:
    return (
        f"{account}: no longer projected to hit 100% of {label} limit",
        f"At its current pace {account}'s {label} window now lasts until it resets.",
    )


def credits_started(account: str, amount: str) -> tuple[str, str]:
    return (
        f"{account}: paid usage credits started",
        f"{account} began spending paid usage credits this month ({amount} so far).",
    )


SEAT_VERBS = {"paused": "was paused", "killed": "was killed", "active": "is active again"}


def seat_status(seat: str, before: str, after: str, by: str) -> tuple[str, str]:
    verb = SEAT_VERBS.get(after, f"is now {after}")
    who = f" by {by}" if by else ""
    return f"seat {seat} {verb}", f"Seat {seat} {verb}{who} (was {before or 'unknown'})."


WINDOW_NAMES = {"daily": "today", "weekly": "this week", "monthly": "this month", "day": "today"}


def seat_blocked(seat: str, reason: str, window: str, resets_at, tz) -> tuple[str, str]:
    when_text = WINDOW_NAMES.get(window, "in this window")
    resets = f" Allowed again {when(resets_at, tz)}." if resets_at else ""
    # The limiter's reason is written for the person at the prompt; its first line says what ran out.
    first = reason.strip().splitlines()[0].rstrip(".") if reason.strip() else ""
    why = f" ({first})" if first else ""
    return (
        f"seat {seat} was blocked",
        f"Seat {seat} was blocked for the first time {when_text}{why}.{resets} Further blocks {when_text} "
        "are not announced.",
    )


def seat_credits(seat: str, pct: int, threshold: int, used: int, budget: int, window: str) -> tuple[str, str]:
    span = {"daily": "daily", "weekly": "weekly", "monthly": "monthly", "sliding_24h": "24-hour"}
    label = span.get(window, window)
    return (
        f"seat {seat}: {pct}% of its {label} credit budget",
        f"Seat {seat} has used {used} of its {budget} {label} credits ({pct}%, threshold {threshold}%).",
    )


def sample() -> tuple[str, str]:
    return "Governor test alert", "This is a test from Claude Governor: this channel works."
