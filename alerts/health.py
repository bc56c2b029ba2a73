"""Credential health checks of the evaluator (issue 10): a credential refused, blocked or rate limited for
over an hour, or a session cookie near the end of its usual lifetime. Rows: limit type "credential" or
"cookie", threshold 0; one alert per broken spell, resolved by the next good poll."""

from datetime import timedelta

from monitoring.models import Event

from . import texts, thresholds
from .fanout import Item
from .models import Subscription
from .state import Context, item, key, write

CREDENTIAL = "credential"
# Credential states that alert at once, and those that alert only after lasting (contract §10.2, issue 10).
BROKEN_NOW = {"expired", "invalid", "wrong_org", "denied"}
BROKEN_IF_LASTING = {"blocked": timedelta(hours=1), "rate_limited": timedelta(hours=1)}


def credential_changed(context: Context, subscription: Subscription, event: Event, label: str) -> list[Item]:
    after, error = str(event.data.get("after", "")), str(event.data.get("error", ""))
    row_key = key(subscription, event, CREDENTIAL)
    row = context.states.get(row_key)
    if after in BROKEN_NOW:
        return _credential_fire(context, subscription, event, label, after, error)
    if after in BROKEN_IF_LASTING:
        write(context, row_key, {"condition": after, "condition_since": event.at})
        return []
    if after == "ok" and row is not None and (row.state == thresholds.FIRING or row.condition):
        was, notified = row.condition, row.notified and row.state == thresholds.FIRING
        values = {
            "state": thresholds.ARMED,
            "resolved_at": event.at,
            "condition": "",
            "condition_since": None,
        }
        if not write(context, row_key, values) or not (notified and subscription.notify_credentials):
            return []
        title, message = texts.credential_resolved(label, was)
        return [
            item(subscription, event, "credential", title, message, label, key=CREDENTIAL, state="resolved")
        ]
    return []


def failed_poll(context: Context, subscription: Subscription, event: Event, label: str) -> list[Item]:
    outcome = str(event.data.get("outcome", ""))
    row = context.states.get(key(subscription, event, CREDENTIAL))
    if (
        outcome not in BROKEN_IF_LASTING
        or row is None
        or row.condition != outcome
        or row.state == thresholds.FIRING
    ):
        return []
    if row.condition_since is None or event.at - row.condition_since < BROKEN_IF_LASTING[outcome]:
        return []
    return _credential_fire(context, subscription, event, label, outcome, str(event.data.get("error", "")))


def _credential_fire(context, subscription, event, label, condition: str, error: str) -> list[Item]:
    row_key = key(subscription, event, CREDENTIAL)
    row = context.states.get(row_key)
    if row is not None and row.state == thresholds.FIRING:
        return []  # already told; one alert per broken spell
    notify = subscription.notify_credentials
    values = {
        "state": thresholds.FIRING,
        "fired_at": event.at,
        "notified": notify,
        "last_notified_at": event.at if notify else None,
        "condition": condition,
        "condition_since": row.condition_since if row and row.condition_since else event.at,
    }
    if not write(context, row_key, values) or not notify:
        return []
    title, message = texts.credential(label, condition, error)
    # An expired credential stops all monitoring of the account: it goes through quiet hours.
    return [item(subscription, event, "credential", title, message, label, key=CREDENTIAL, urgent=True)]
