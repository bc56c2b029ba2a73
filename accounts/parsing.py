"""Upstream usage JSON → readings per limit type (contract §2.4). Pure; unknown stays unknown, never 0 %."""

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar


class PayloadError(ValueError):
    """A 200 response that is not a usage object (contract §5 row 9)."""


SESSION_HOURS = 5.0
WEEK_HOURS = 168.0

# Codename keys whose meaning is known (contract §2.4); everything else under seven_day_* is a model name.
_WEEKLY_NAMES = {"omelette": "Claude Design", "cowork": "Cowork", "oauth_apps": "OAuth apps"}
_KNOWN_TOP_KEYS = {"five_hour", "seven_day", "limits", "spend", "extra_usage", "iguana_necktie"}


@dataclass(frozen=True)
class Reading:
    limit_type: str
    label: str
    utilization: float | None
    resets_at: datetime | None
    window_hours: float | None
    severity: str = ""
    is_active: bool | None = None


@dataclass
class ParsedUsage:
    readings: list[Reading]
    unknown_keys: list[str] = field(default_factory=list)
    spend_used: Decimal | None = None
    spend_limit: Decimal | None = None
    spend_currency: str = ""


T = TypeVar("T")


def member(container: Any, key: str, kind: type[T], default: T) -> T:
    """`container[key]` when the upstream JSON gave it the expected type, else `default`."""
    value = container.get(key) if isinstance(container, dict) else None
    return value if isinstance(value, kind) else default


def percent(value) -> float | None:
    """0-100 as int, float or numeric string; anything else (or out of range) is unknown."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            return None
    if not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value) if 0 <= value <= 100 else None


def timestamp(value) -> datetime | None:
    """ISO 8601 (Z or offset, with or without fractions) or epoch seconds → aware UTC, to the minute."""
    if value is None or isinstance(value, bool):
        return None
    try:
        if isinstance(value, int | float):
            parsed = datetime.fromtimestamp(value, tz=UTC)
        elif isinstance(value, str):
            parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        else:
            return None
    except (ValueError, OverflowError, OSError):
        return None
    if parsed.tzinfo is None:
        return None
    # Fractional seconds are request-time noise (contract §2.4): compare windows on whole minutes.
    parsed = parsed.astimezone(UTC)
    rounded = parsed.replace(second=0, microsecond=0)
    if parsed.second >= 30:
        rounded = datetime.fromtimestamp(rounded.timestamp() + 60, tz=UTC)
    return rounded


def _minor(amount, exponent) -> Decimal | None:
    try:
        return Decimal(str(amount)).scaleb(-int(exponent))
    except (InvalidOperation, ValueError, TypeError):
        return None


def _weekly_type(name: str) -> tuple[str, str]:
    name = name.strip().lower().replace(" ", "_")
    return f"weekly:{name}", f"weekly ({_WEEKLY_NAMES.get(name, name.replace('_', ' ').title())})"


def _from_limits(items) -> dict[str, Reading]:
    found: dict[str, Reading] = {}
    if not isinstance(items, list):
        return found
    for item in items:
        if not isinstance(item, dict):
            continue
        kind = item.get("kind")
        if kind == "session":
            limit_type, label, hours = "session", "5-hour", SESSION_HOURS
        elif kind == "weekly_all":
            limit_type, label, hours = "weekly", "weekly", WEEK_HOURS
        elif kind == "weekly_scoped":
            model = member(member(item, "scope", dict, {}), "model", dict, {})
            name = model.get("display_name") or model.get("id")
            if not isinstance(name, str) or not name.strip():
                continue
            (limit_type, label), hours = _weekly_type(name), WEEK_HOURS
        elif kind == "spend":
            limit_type, label, hours = "spend", "spend", None
        else:
            continue
        severity = member(item, "severity", str, "")
        is_active = item.get("is_active") if isinstance(item.get("is_active"), bool) else None
        found[limit_type] = Reading(
            limit_type,
            label,
            percent(item.get("percent")),
            timestamp(item.get("resets_at")),
            hours,
            "warning" if severity == "warn" else severity,
            is_active,
        )
    return found


def _window(value, limit_type, label, hours) -> Reading | None:
    if not isinstance(value, dict):
        return None
    return Reading(
        limit_type, label, percent(value.get("utilization")), timestamp(value.get("resets_at")), hours
    )


def parse_usage(payload) -> ParsedUsage:
    """`limits[]` by kind first, legacy keys as fallback; unknown keys are reported, never fatal."""
    if not isinstance(payload, dict):
        raise PayloadError("usage response is not a JSON object")
    readings = _from_limits(payload.get("limits"))
    unknown: list[str] = []
    for key, value in payload.items():
        if key == "five_hour":
            reading = _window(value, "session", "5-hour", SESSION_HOURS)
        elif key == "seven_day":
            reading = _window(value, "weekly", "weekly", WEEK_HOURS)
        elif key.startswith("seven_day_"):
            reading = _window(value, *_weekly_type(key.removeprefix("seven_day_")), WEEK_HOURS)
        elif key == "extra_usage":
            reading = _window(value, "extra_usage", "extra usage", None)
        else:
            if key not in _KNOWN_TOP_KEYS:
                unknown.append(key)
            continue
        if reading is not None and reading.limit_type not in readings:
            readings[reading.limit_type] = reading
    known = {"five_hour", "seven_day", "limits", "extra_usage", "spend"} & payload.keys()
    if not known and not any(k.startswith("seven_day_") for k in payload):
        raise PayloadError("usage response has none of the known keys")
    parsed = ParsedUsage(readings=sorted(readings.values(), key=_order), unknown_keys=sorted(unknown))
    _parse_money(payload, parsed)
    return parsed


def _parse_money(payload: dict, parsed: ParsedUsage) -> None:
    spend = payload.get("spend")
    if isinstance(spend, dict):
        used = member(spend, "used", dict, {})
        limit = member(spend, "limit", dict, {})
        parsed.spend_used = _minor(used.get("amount_minor"), used.get("exponent", 2)) if used else None
        parsed.spend_limit = _minor(limit.get("amount_minor"), limit.get("exponent", 2)) if limit else None
        parsed.spend_currency = str(used.get("currency") or limit.get("currency") or "")[:8]
        return
    extra = payload.get("extra_usage")
    if isinstance(extra, dict) and extra.get("is_enabled"):
        places = extra.get("decimal_places", 2)
        used_credits = extra.get("used_credits")
        monthly = extra.get("monthly_limit")
        parsed.spend_used = _minor(used_credits, places) if used_credits is not None else None
        parsed.spend_limit = _minor(monthly, places) if monthly is not None else None
        parsed.spend_currency = str(extra.get("currency") or "")[:8]


def _order(reading: Reading) -> tuple[int, str]:
    rank = {"session": 0, "weekly": 1}.get(reading.limit_type, 2)
    return rank, reading.limit_type


def plan_from_profile(organization_type: str | None, rate_limit_tier: str | None) -> str:
    tier = rate_limit_tier or ""
    if organization_type == "claude_max" or "claude_max" in tier:
        return "Max 20x" if tier.endswith("20x") else "Max 5x"
    return {"claude_pro": "Pro", "claude_team": "Team", "claude_enterprise": "Enterprise"}.get(
        organization_type or "", ""
    )


def plan_from_org(org: dict) -> str:
    """Plan from a claude.ai organizations entry (contract §2.3)."""
    capabilities = member(org, "capabilities", list, [])
    tier = member(org, "rate_limit_tier", str, "")
    if "claude_max" in capabilities:
        return "Max 20x" if tier.endswith("20x") else "Max 5x"
    if "claude_pro" in capabilities:
        return "Pro"
    if org.get("raven_type"):
        return "Team"
    return ""
