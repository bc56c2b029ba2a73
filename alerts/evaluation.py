"""The alert evaluator: reads the event log by id and turns polls into alerts (contract §10.2-10.3).

One evaluator runs at a time: the cursor row is locked for the whole pass (an UPDATE first, because SQLite
ignores SELECT … FOR UPDATE), and the state rows, the ALERT_FIRED events and their deliveries are written in
the same transaction that moves the cursor. A crash before commit leaves everything to the next pass;
nothing is evaluated twice. Deliveries are handed to Celery only after commit.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from monitoring import eventlog
from monitoring.models import Event

from . import texts, thresholds
from .fanout import Item, fan_out
from .models import AlertSettings, AlertState, Cursor, Subscription

log = logging.getLogger(__name__)

BATCH = 500
# An id that is missing below the cursor may belong to a transaction that has not committed yet; after this
# long it is taken for a rolled-back one.
GAP_PATIENCE = timedelta(minutes=5)
# Only a handful of transactions are ever open at once; a jump of thousands of ids (a sequence's cache lost in
# a crash, rolled-back bulk writes) is not worth remembering id by id, so only the highest ones are kept.
MAX_GAPS = 1000
CREDENTIAL = "credential"
# Credential states that alert at once, and those that alert only after lasting (contract §10.2, issue 10).
BROKEN_NOW = {"expired", "invalid", "wrong_org", "denied"}
BROKEN_IF_LASTING = {"blocked": timedelta(hours=1), "rate_limited": timedelta(hours=1)}


StateKey = tuple[int, int, str, int]  # (subscription, account, limit type, threshold)


@dataclass
class Context:
    now: datetime
    tz: ZoneInfo
    default_thresholds: list[int]
    subscriptions: list[Subscription]
    states: dict[StateKey, AlertState]

    def subscriptions_for(self, account_id: int | None) -> list[Subscription]:
        return [s for s in self.subscriptions if s.account_id is None or s.account_id == account_id]


def team_zone() -> ZoneInfo:
    from limiter import reports

    return reports.team().tz


def evaluate(now: datetime | None = None) -> list[int]:
    """Evaluates every new event; returns the ids of deliveries to send now (queued after each commit)."""
    due: list[int] = []
    while True:
        read, ids = _evaluate_batch(now or timezone.now())
        due += ids
        if read < BATCH:
            return due


def _evaluate_batch(now: datetime) -> tuple[int, list[int]]:
    """One transaction over at most BATCH events: how many were read, and the deliveries due now."""
    with transaction.atomic():
        Cursor.objects.get_or_create(pk=1)
        Cursor.objects.filter(pk=1).update(evaluated_at=now)  # takes the lock on every database
        cursor = Cursor.objects.select_for_update().get(pk=1)
        events = _next_events(cursor, now)
        relevant = [
            e
            for e in events
            if e.kind in (eventlog.POLL_RESULT, eventlog.CREDENTIAL_STATE, eventlog.WINDOW_RESET)
        ]
        ids: list[int] = []
        if relevant:
            context = _context(relevant, now)
            items = [item for event in relevant for item in _evaluate_event(context, event)]
            ids = fan_out(items, now)
        cursor.save(update_fields=["last_id", "gaps", "evaluated_at"])
        if ids:
            from . import tasks

            transaction.on_commit(lambda: tasks.dispatch(ids))
    return len(events), ids


def _next_events(cursor: Cursor, now: datetime) -> list[Event]:
    gaps = {
        int(k): datetime.fromisoformat(v)
        for k, v in cursor.gaps.items()
        if now - datetime.fromisoformat(v) < GAP_PATIENCE
    }
    events = list(
        Event.objects.filter(Q(id__gt=cursor.last_id) | Q(id__in=list(gaps))).order_by("id")[:BATCH]
    )
    seen = {e.id for e in events}
    top = max(seen | {cursor.last_id})
    for missing in set(range(max(cursor.last_id + 1, top - MAX_GAPS), top)) - seen:
        gaps[missing] = now
    kept = sorted(k for k in gaps if k not in seen)[-MAX_GAPS:]
    cursor.gaps = {str(k): gaps[k].isoformat() for k in kept}
    cursor.last_id, cursor.evaluated_at = top, now
    return events


def _context(events: list[Event], now: datetime) -> Context:
    accounts = {e.account_id for e in events if e.account_id is not None}
    subscriptions = list(Subscription.objects.filter(enabled=True).prefetch_related("channels"))
    states = {
        (s.subscription_id, s.account_id, s.limit_type, s.threshold): s
        for s in AlertState.objects.filter(account_id__in=accounts, subscription__enabled=True)
    }
    return Context(now, team_zone(), AlertSettings.current_thresholds(), subscriptions, states)


def _evaluate_event(context: Context, event: Event) -> list[Item]:
    data, account_id = event.data or {}, event.account_id
    if account_id is None:
        return []
    label = str(data.get("label") or f"account {account_id}")
    items: list[Item] = []
    reset_kind = data.get("kind") if data.get("kind") in ("reset", "early") else None  # drift says nothing
    for subscription in context.subscriptions_for(account_id):
        if event.kind == eventlog.POLL_RESULT and data.get("outcome") == "ok" and data.get("snapshot"):
            items += _usage(context, subscription, event, label)
        elif event.kind == eventlog.POLL_RESULT:
            items += _lasting_failure(context, subscription, event, label)
        elif event.kind == eventlog.CREDENTIAL_STATE:
            items += _credential(context, subscription, event, label)
        elif event.kind == eventlog.WINDOW_RESET and subscription.notify_window_reset and reset_kind:
            limit = texts.limit_label(str(data.get("limit_type", "")))
            title, message = texts.window_reset(label, limit, reset_kind == "early")
            items.append(_item(subscription, event, "window_reset", title, message, label, key="reset"))
    return items


def _key(subscription: Subscription, event: Event, limit_type: str, threshold: int = 0) -> StateKey:
    # Only events with an account are evaluated (_evaluate_event), so the `or 0` never applies.
    return (subscription.pk, event.account_id or 0, limit_type, threshold)


def _item(subscription, event, kind, title, message, account, *, key, **values) -> Item:
    alert = {"title": title, "message": message, "account": account, "kind": kind, "state": "firing"}
    alert |= values | {"key": f"{event.account_id}:{key}", "subscription": subscription.pk}
    return Item(subscription, event.account_id or 0, alert)


def _usage(context: Context, subscription: Subscription, event: Event, label: str) -> list[Item]:
    from accounts.selectors import snapshot_windows

    items = []
    for limit_type, (pct, resets_at) in snapshot_windows(event.data["snapshot"]).items():
        policy = thresholds.Policy(
            thresholds=subscription.thresholds_for(limit_type, context.default_thresholds),
            cooldown=subscription.cooldown,
            hysteresis=subscription.hysteresis,
            send_resolved=subscription.send_resolved,
            repeat_interval=subscription.repeat_interval,
        )
        keys = {t: _key(subscription, event, limit_type, t) for t in policy.thresholds}
        rows = {t: _row(context.states[k]) for t, k in keys.items() if k in context.states}
        step = thresholds.step(policy, rows, pct, resets_at, event.at)
        stored = all(_store(context, keys[t], row) for t, row in step.rows.items())
        if not stored:
            continue  # another writer moved these rows: its transition, its notice
        name = texts.limit_label(limit_type)
        for notice in step.notices:
            title, message = _notice_texts(notice, label, name, resets_at, event.at, context.tz)
            items.append(
                _item(
                    subscription,
                    event,
                    "threshold",
                    title,
                    message,
                    label,
                    key=limit_type,
                    state=notice.kind,
                    pct=round(notice.pct),
                    threshold=notice.threshold,
                    limit_type=name,
                    resets_at=resets_at.isoformat() if resets_at else None,
                    urgent=notice.kind == "firing" and notice.pct >= 100,
                )
            )
    return items


def _notice_texts(notice, account, label, resets_at, at, tz) -> tuple[str, str]:
    pct = round(notice.pct)
    if notice.kind == "firing":
        return texts.firing(account, label, pct, notice.threshold, resets_at, tz)
    since = at - (notice.since or at)
    if notice.kind == "reminder":
        return texts.reminder(account, label, pct, notice.threshold, since, resets_at, tz)
    peak = round(notice.peak_pct if notice.peak_pct is not None else notice.pct)
    return texts.resolved(account, label, pct, notice.threshold, peak, since, notice.reason)


def _row(state: AlertState) -> thresholds.Row:
    return thresholds.Row(
        threshold=state.threshold,
        state=state.state,
        window_key=state.window_key,
        fired_at=state.fired_at,
        notified=state.notified,
        last_notified_at=state.last_notified_at,
        resolved_at=state.resolved_at,
        last_pct=state.last_pct,
        peak_pct=state.peak_pct,
        version=state.version,
    )


_ROW_FIELDS = (
    "state",
    "window_key",
    "fired_at",
    "notified",
    "last_notified_at",
    "resolved_at",
    "last_pct",
    "peak_pct",
)


def _store(context: Context, key: StateKey, row: thresholds.Row) -> bool:
    """Writes one transition with a conditional update on `version` (contract §10.3); False if it lost."""
    values = {name: getattr(row, name) for name in _ROW_FIELDS}
    return _write(context, key, values)


def _write(context: Context, key: StateKey, values: dict) -> bool:
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


def _credential(context: Context, subscription: Subscription, event: Event, label: str) -> list[Item]:
    after, error = str(event.data.get("after", "")), str(event.data.get("error", ""))
    key = _key(subscription, event, CREDENTIAL)
    row = context.states.get(key)
    if after in BROKEN_NOW:
        return _credential_fire(context, subscription, event, label, after, error)
    if after in BROKEN_IF_LASTING:
        _write(context, key, {"condition": after, "condition_since": event.at})
        return []
    if after == "ok" and row is not None and (row.state == thresholds.FIRING or row.condition):
        was, notified = row.condition, row.notified and row.state == thresholds.FIRING
        values = {
            "state": thresholds.ARMED,
            "resolved_at": event.at,
            "condition": "",
            "condition_since": None,
        }
        if not _write(context, key, values) or not (notified and subscription.notify_credentials):
            return []
        title, message = texts.credential_resolved(label, was)
        return [
            _item(subscription, event, "credential", title, message, label, key=CREDENTIAL, state="resolved")
        ]
    return []


def _lasting_failure(context: Context, subscription: Subscription, event: Event, label: str) -> list[Item]:
    outcome = str(event.data.get("outcome", ""))
    row = context.states.get(_key(subscription, event, CREDENTIAL))
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
    key = _key(subscription, event, CREDENTIAL)
    row = context.states.get(key)
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
    if not _write(context, key, values) or not notify:
        return []
    title, message = texts.credential(label, condition, error)
    # An expired credential stops all monitoring of the account: it goes through quiet hours.
    return [_item(subscription, event, "credential", title, message, label, key=CREDENTIAL, urgent=True)]
