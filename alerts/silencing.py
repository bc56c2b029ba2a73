"""Which silence, if any, mutes an alert on a channel: asked when an alert is fanned out and again just before
a delivery is sent, so a silence created while a message waits (quiet hours, a retry) still stops it."""

from datetime import datetime

from .models import Silence


def active(now: datetime) -> list[Silence]:
    return list(Silence.objects.filter(until__gt=now).select_related("account", "subscription", "channel"))


def reason(
    silences: list[Silence], account_id: int | None, subscription_id: int | None, channel_id: int
) -> str:
    """Why the alert is muted, in words; empty when no silence covers it."""
    for silence in silences:
        if (
            (account_id and silence.account_id == account_id)
            or (subscription_id and silence.subscription_id == subscription_id)
            or silence.channel_id == channel_id
        ):
            return f"silenced ({silence.target()}) until {silence.until.isoformat()}: {silence.reason}"
    return ""
