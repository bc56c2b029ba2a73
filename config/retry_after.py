"""`Retry-After` as upstream APIs send it (accounts polling Claude, alert transports), in one place."""

import email.utils
from datetime import UTC, datetime


def seconds_until_retry(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds or an HTTP-date; 0, a past date or garbage is unknown (OAuth repeats `retry-after: 0`)."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    return seconds if seconds > 0 else None
