"""Limiter events as alerts: a seat blocked, a seat past a share of its credit budget (issue 10).

The limiter already groups them (limiter/alert_events.py): `seat.blocked` is logged once per seat, rule and
window, and `seat.credits` once per 5 % step of a budget. What is left here is choosing the subscriptions and,
for credits, each subscription's own percentage, said once per budget window even if a rule edit or a
concurrent count makes the limiter log the same step twice.
"""

from datetime import datetime

from monitoring.models import Event

from . import texts
from .fanout import Item
from .models import AlertState
from .state import Context


def _seat_item(subscription, event: Event, kind: str, title: str, message: str, key: str, **values) -> Item:
    data = event.data or {}
    alert: dict[str, object] = {"title": title, "message": message, "account": "", "kind": kind}
    alert["state"] = "firing"
    alert |= {"seat": str(data.get("seat", "")), "urgent": False, "subscription": subscription.pk}
    return Item(subscription, 0, alert | values | {"key": f"seat:{event.seat_id}:{key}"})


def _seat_subscriptions(context: Context, flag: str) -> list:
    # Seats share every account, so only subscriptions to every account hear of them.
    return [s for s in context.subscriptions if getattr(s, flag) and s.account_id is None]


def blocked(context: Context, event: Event) -> list[Item]:
    data = event.data or {}
    resets = data.get("resets_at")
    title, message = texts.seat_blocked(
        str(data.get("seat", "a seat")),
        str(data.get("reason", "")),
        str(data.get("window", "")),
        datetime.fromisoformat(resets) if resets else None,
        context.tz,
    )
    return [
        _seat_item(subscription, event, "seat_blocked", title, message, "blocked", resets_at=resets)
        for subscription in _seat_subscriptions(context, "notify_seat_blocks")
    ]


def credits(context: Context, event: Event) -> list[Item]:
    data = event.data or {}
    before, pct = float(data.get("pct_before", 0)), float(data.get("pct", 0))
    window_start = datetime.fromisoformat(str(data["window_start"]))
    items = []
    for subscription in _seat_subscriptions(context, "notify_seat_credits"):
        threshold = subscription.seat_credit_pct
        if not before < threshold <= pct:
            continue
        if not _first_in_window(subscription, event, threshold, window_start, context.now):
            continue
        title, message = texts.seat_credits(
            str(data.get("seat", "a seat")),
            round(pct),
            threshold,
            int(data.get("used", 0)),
            int(data.get("budget", 0)),
            str(data.get("window", "")),
        )
        items.append(
            _seat_item(
                subscription,
                event,
                "seat_credits",
                title,
                message,
                f"credits:{data.get('rule', '')}",
                pct=round(pct),
                threshold=threshold,
                limit_type="credit budget",
                urgent=pct >= 100,
            )
        )
    return items


def _first_in_window(subscription, event: Event, threshold: int, window_start: datetime, now) -> bool:
    """Marks (subscription, seat, rule, threshold) as told for this window; False if it already was.

    Runs under the evaluator's lock, so a read then a write cannot race another evaluator."""
    seat = event.seat_id.hex if event.seat_id else ""
    limit_type = f"seat-credits:{seat}:{(event.data or {}).get('rule', '')}"[:64]
    row, created = AlertState.objects.get_or_create(
        subscription=subscription,
        account_id=0,
        limit_type=limit_type,
        threshold=threshold,
        defaults={"state": "firing", "window_key": window_start, "fired_at": now, "notified": True},
    )
    if created:
        return True
    if row.window_key == window_start:
        return False
    AlertState.objects.filter(pk=row.pk).update(
        state="firing", window_key=window_start, fired_at=now, notified=True, version=row.version + 1
    )
    return True
