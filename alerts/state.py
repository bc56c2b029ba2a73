"""What the evaluator's checks share: the pass's context, state-row keys, alert items and the one writer of a
state row (a conditional update on its version, contract §10.3)."""

from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.conf import settings
from django.urls import reverse

from monitoring.models import Event

from .fanout import Item
from .models import AlertState, Subscription

StateKey = tuple[int, int, str, int]  # (subscription, account, limit type, threshold)


@dataclass
class Context:
    now: datetime
    tz: ZoneInfo
    default_thresholds: list[int]
    subscriptions: list[Subscription]
    states: dict[StateKey, AlertState]
    accounts: dict = field(default_factory=dict)  # id → ClaudeAccount (credential deferred) of this pass
    account_settings: object = None  # accounts' polling settings (cookie lifetime), read once per pass

    def __post_init__(self) -> None:
        # Indexed once per pass: a thousand accounts each with a subscription would otherwise be a million
        # comparisons for a thousand events.
        self._by_account: dict[int | None, list[Subscription]] = {}
        for subscription in self.subscriptions:
            self._by_account.setdefault(subscription.account_id, []).append(subscription)

    def subscriptions_for(self, account_id: int | None) -> list[Subscription]:
        return self._by_account.get(None, []) + self._by_account.get(account_id, [])


def key(subscription: Subscription, event: Event, limit_type: str, threshold: int = 0) -> StateKey:
    # Only events with an account are evaluated (evaluation._evaluate_event), so the `or 0` never applies.
    return (subscription.pk, event.account_id or 0, limit_type, threshold)


def silence_link(account_id: int) -> str:
    """The admin's "add silence" form for this account, prefilled; empty without PUBLIC_URL (no host known).
    Opening it needs a login, so the link grants nothing by itself."""
    if not settings.PUBLIC_URL:
        return ""
    query = urlencode({"account": account_id, "reason": "silenced from an alert"})
    return f"{settings.PUBLIC_URL}{reverse('admin:alerts_silence_add')}?{query}"


def item(subscription, event, kind, title, message, account, *, key, **values) -> Item:
    alert = {"title": title, "message": message, "account": account, "kind": kind, "state": "firing"}
    alert |= {"url": silence_link(event.account_id)} if event.account_id else {}
    alert |= values | {"key": f"{event.account_id}:{key}", "subscription": subscription.pk}
    return Item(subscription, event.account_id or 0, alert)


def write(context: Context, key: StateKey, values: dict) -> bool:
    """Creates or moves one state row; False when another writer moved it first (its transition wins)."""
    existing = context.states.get(key)
    if existing is None:
        subscription_id, account_id, limit_type, threshold = key
        context.states[key] = AlertState.objects.create(
            subscription_id=subscription_id,
            account_id=account_id,
            limit_type=limit_type,
            threshold=threshold,
            version=1,
            **values,
        )
        return True
    won = AlertState.objects.filter(pk=existing.pk, version=existing.version).update(
        version=existing.version + 1, **values
    )
    if won:
        for name, value in values.items():
            setattr(existing, name, value)
        existing.version += 1
    return bool(won)
