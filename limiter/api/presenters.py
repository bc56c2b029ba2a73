"""Domain values → the JSON shapes of the hook API."""

from datetime import UTC, datetime

from ..engine import RuleSpec


def iso(moment: datetime | None) -> str | None:
    """ISO 8601 UTC with milliseconds and Z, as v1 clients expect."""
    if moment is None:
        return None
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def rule_json(rule: RuleSpec) -> dict:
    return {
        "id": rule.id,
        "type": rule.type,
        "model": rule.model,
        "window": rule.window,
        "value": rule.value,
        "schedule_start": f"{rule.schedule_start:%H:%M}" if rule.schedule_start else None,
        "schedule_end": f"{rule.schedule_end:%H:%M}" if rule.schedule_end else None,
        "schedule_tz": rule.schedule_tz,
    }


def seat_json(seat) -> dict:
    return {"id": str(seat.id), "name": seat.name, "slug": seat.slug, "status": seat.status}
