"""From alerts to deliveries: silences, quiet hours and grouping (issue 10, contract §10.3).

Everything one evaluator pass found for one channel becomes one message (one delivery), so a poll cycle that
pushes five accounts over a threshold sends one message per channel, never five. Each pass writes one
ALERT_FIRED event for what goes out now and one per quiet-hours end for what waits; a delivery is unique per
(event, channel), so the database, not timing, rules out a second fan-out.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from monitoring import eventlog

from . import silencing
from .models import Delivery, Subscription


@dataclass(frozen=True)
class Item:
    """One alert of one subscription: the values of transports.base.Alert plus `key` (account:limit)."""

    subscription: Subscription
    account_id: int
    alert: dict


def fan_out(items: list[Item], now: datetime) -> list[int]:
    """Writes the events and deliveries for `items`; returns the ids of the deliveries due now."""
    silences = silencing.active(now)
    # send time (None = now) → channel id → alerts; what is silenced is kept to be listed, not sent
    buckets: dict[datetime | None, dict[int, list[dict]]] = defaultdict(lambda: defaultdict(list))
    silenced: dict[int, list[dict]] = defaultdict(list)
    for item in items:
        quiet = item.subscription.quiet_hours()
        send_at = quiet.ends_at(now) if quiet is not None and not item.alert.get("urgent") else None
        for channel in item.subscription.channels.all():
            if not channel.enabled:
                continue
            reason = silencing.reason(silences, item.account_id, item.subscription.pk, channel.pk)
            if reason:
                silenced[channel.pk].append(item.alert | {"silenced": reason})
                continue
            alerts = buckets[send_at][channel.pk]
            # The account travels with the alert so that a silence set while it waits can still match it.
            alert = item.alert | {"account_id": item.account_id}
            # Two subscriptions of one channel can raise the same alert: say it once.
            if not any((a["title"], a["message"]) == (alert["title"], alert["message"]) for a in alerts):
                alerts.append(alert)
    if silenced and None not in buckets:
        buckets[None] = defaultdict(list)

    due: list[int] = []
    for send_at, by_channel in buckets.items():
        event = eventlog.record(
            eventlog.ALERT_FIRED,
            account_id=_one_account(items),
            at=now,
            data=_summary(by_channel, silenced if send_at is None else {}, send_at),
        )
        for channel_id, alerts in by_channel.items():
            if send_at is not None:
                _collapse(channel_id, alerts)
            delivery = Delivery.objects.create(
                event=event,
                channel_id=channel_id,
                alerts=alerts,
                next_attempt_at=send_at or now,
                deferred=send_at is not None,
                created_at=now,
            )
            if send_at is None:
                due.append(delivery.pk)
        if send_at is None:
            for channel_id, alerts in silenced.items():
                if channel_id not in by_channel:
                    Delivery.objects.create(
                        event=event,
                        channel_id=channel_id,
                        alerts=alerts,
                        status=Delivery.Status.SILENCED,
                        last_error=alerts[0]["silenced"],
                        created_at=now,
                    )
    return due


def _one_account(items: list[Item]) -> int | None:
    accounts = {item.account_id for item in items if item.account_id}  # 0: a seat's alert, no account
    return accounts.pop() if len(accounts) == 1 else None


def _summary(
    by_channel: dict[int, list[dict]], silenced: dict[int, list[dict]], send_at: datetime | None
) -> dict:
    """The event's data: what fired and where it goes; titles and numbers only, never a channel's config."""
    alerts: dict[tuple[str, str], dict] = {}
    for channel_id, channel_alerts in by_channel.items():
        for alert in channel_alerts:
            entry = alerts.setdefault(
                (alert["title"], alert["message"]),
                {k: alert.get(k) for k in ("title", "account", "state", "kind", "pct", "threshold")}
                | {"channels": []},
            )
            entry["channels"].append(channel_id)
    data: dict = {"alerts": list(alerts.values())}
    if silenced:
        data["silenced"] = [
            {"channel": channel_id, "title": a["title"], "reason": a["silenced"]}
            for channel_id, channel_alerts in silenced.items()
            for a in channel_alerts
        ]
    if send_at is not None:
        data["deferred_until"] = send_at.isoformat()
    return data


def _collapse(channel_id: int, alerts: list[dict]) -> None:
    """Quiet hours keep only the latest state of each (account, limit): older waiting alerts drop out."""
    keys = {a["key"] for a in alerts}
    waiting = Delivery.objects.filter(channel_id=channel_id, deferred=True, status=Delivery.Status.PENDING)
    for delivery in waiting:
        kept = [a for a in delivery.alerts if a.get("key") not in keys]
        if len(kept) == len(delivery.alerts):
            continue
        if kept:
            delivery.alerts = kept
            delivery.save(update_fields=["alerts"])
        else:
            delivery.status = Delivery.Status.SUPERSEDED
            delivery.save(update_fields=["status"])
