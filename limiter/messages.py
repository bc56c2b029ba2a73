"""Deny message texts (hook API contract §6.5). Pure."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from .windows import WINDOW_TITLES

KILLED = (
    "Your Claude Code access has been revoked by the admin. Contact your admin to restore access."
)
PAUSED = "Your Claude Code access has been paused by the admin. Contact your admin to resume."


def unknown_model(model: str) -> str:
    # repr() shows invisible and look-alike characters as escapes, so the user sees why it was refused.
    shown = repr(model[:64])
    return (
        f"Claude Governor does not recognise the model {shown}, and your team does not allow unrecognised"
        " models.\nSwitch to a known model with /model, or ask your admin to add this one."
    )


def format_when(moment: datetime, tz: ZoneInfo) -> str:
    return f"{moment.astimezone(tz):%Y-%m-%d %H:%M} ({tz.key})"


def format_clock(moment: datetime, tz: ZoneInfo) -> str:
    local = moment.astimezone(tz)
    return f"{local.hour % 12 or 12}:{local.minute:02d} {'AM' if local.hour < 12 else 'PM'}"


def _resets_line(resets_at: datetime | None, tz: ZoneInfo) -> str:
    return f"Resets {format_when(resets_at, tz)}.\n" if resets_at else ""


def time_of_day(
    *, model: str | None, start: str, end: str, rule_tz: ZoneInfo, now: datetime
) -> str:
    subject = model.capitalize() if model else "This model"
    return (
        f"{subject} is only available {start} - {end} ({rule_tz.key}).\n"
        f"Current time: {format_clock(now, rule_tz)}. Try another model instead."
    )


def per_model(
    *,
    window: str,
    family: str,
    seat_name: str,
    used: int,
    limit: int,
    resets_at: datetime | None,
    tz: ZoneInfo,
) -> str:
    return (
        f"{WINDOW_TITLES[window]} {family} limit reached for {seat_name}.\n"
        f"Used {used}/{limit} prompts.\n"
        f"{_resets_line(resets_at, tz)}"
        "\nSwitch to another model or try again later."
    )


def credits(
    *,
    window: str,
    family: str,
    seat_name: str,
    used: int,
    budget: int,
    balance: int,
    cost: int,
    resets_at: datetime | None,
    tz: ZoneInfo,
) -> str:
    unit = "credit" if cost == 1 else "credits"
    return (
        f"{WINDOW_TITLES[window]} credit budget exhausted for {seat_name}.\n"
        f"Used {used}/{budget} credits ({balance} remaining).\n"
        f"{family.capitalize()} costs {cost} {unit} per prompt.\n"
        f"{_resets_line(resets_at, tz)}"
        "\nTry a cheaper model or wait for the window to reset."
    )
