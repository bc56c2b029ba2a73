"""Helpers for tests of the stateful alert pipeline: accounts, polls written as the poller writes them, and
evaluator passes at chosen times."""

import secrets
from datetime import UTC, datetime, timedelta

from django.db import transaction

from accounts.models import ClaudeAccount, UsageSnapshot, WindowReading
from accounts.services import account_create
from alerts import evaluation
from alerts.models import Channel, Delivery, Subscription
from alerts.services import channel_create, subscription_create
from monitoring import eventlog

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # a Monday
RESETS = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)


def account(label: str = "acct-42") -> ClaudeAccount:
    return account_create(
        label=label, source="cookie", credential=f"sk-ant-sid02-{secrets.token_urlsafe(24)}"
    )


def webhook_channel(receivers, name: str = "ops-hook", **config) -> Channel:
    return channel_create(kind="webhook", name=name, config={"url": f"{receivers.url}/hook/{name}"} | config)


def subscribe(*channels: Channel, **options) -> Subscription:
    return subscription_create(name=options.pop("name", "team"), channels=list(channels), **options)


def poll(
    acct: ClaudeAccount,
    at: datetime,
    pct: float | None,
    resets_at: datetime | None = RESETS,
    *,
    limit="session",
):
    """A successful poll as accounts/polling.py records it: snapshot, readings, then the POLL_RESULT event."""
    with transaction.atomic():
        snapshot = UsageSnapshot.objects.create(account=acct, taken_at=at, raw={})
        WindowReading.objects.create(
            snapshot=snapshot,
            account=acct,
            taken_at=at,
            limit_type=limit,
            label=limit,
            utilization=pct,
            resets_at=resets_at,
        )
        data = {"label": acct.label, "outcome": "ok", "snapshot": snapshot.pk, "utilization": {limit: pct}}
        eventlog.record(eventlog.POLL_RESULT, account_id=acct.pk, at=at, data=data)


def credential(acct: ClaudeAccount, at: datetime, before: str, after: str, error: str = "") -> None:
    data = {"label": acct.label, "before": before, "after": after, "error": error}
    eventlog.record(eventlog.CREDENTIAL_STATE, account_id=acct.pk, at=at, data=data)


def failed_poll(acct: ClaudeAccount, at: datetime, outcome: str, error: str = "") -> None:
    data = {"label": acct.label, "outcome": outcome, "error": error}
    eventlog.record(eventlog.POLL_RESULT, account_id=acct.pk, at=at, data=data)


def evaluate(at: datetime) -> list[Delivery]:
    """One evaluator pass at `at`; the deliveries it made due now, oldest first."""
    ids = evaluation.evaluate(now=at)
    return list(Delivery.objects.filter(pk__in=ids).order_by("pk"))


def session_readings(acct: ClaudeAccount) -> list[float | None]:
    """The account's 5-hour utilization as polled, oldest first."""
    rows = WindowReading.objects.filter(account=acct, limit_type="session").order_by("taken_at")
    return list(rows.values_list("utilization", flat=True))


def titles(deliveries: list[Delivery]) -> list[list[str]]:
    return [[a["title"] for a in d.alerts] for d in deliveries]


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)
