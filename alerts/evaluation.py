"""The alert evaluator: reads the event log by id and turns polls into alerts (contract §10.2-10.3).

One evaluator runs at a time: the cursor row is locked for the whole pass (an UPDATE first, because SQLite
ignores SELECT … FOR UPDATE), and the state rows, the ALERT_FIRED events and their deliveries are written in
the same transaction that moves the cursor. A crash before commit leaves everything to the next pass;
nothing is evaluated twice. Deliveries are handed to Celery only after commit.
"""

import logging
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from monitoring import eventlog
from monitoring.models import Event

from . import health, outlook, seat_events, texts, thresholds
from .fanout import Item, fan_out
from .models import AlertSettings, AlertState, Cursor, Subscription
from .state import Context, StateKey, item, key, write

log = logging.getLogger(__name__)

BATCH = 500
# An id that is missing below the cursor may belong to a transaction that has not committed yet; after this
# long it is taken for a rolled-back one.
GAP_PATIENCE = timedelta(minutes=5)
# Only a handful of transactions are ever open at once; a jump of thousands of ids (a sequence's cache lost in
# a crash, rolled-back bulk writes) is not worth remembering id by id, so only the highest ones are kept.
MAX_GAPS = 1000


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
            if e.kind
            in (
                eventlog.POLL_RESULT,
                eventlog.CREDENTIAL_STATE,
                eventlog.WINDOW_RESET,
                eventlog.SEAT_STATUS,
                eventlog.SEAT_BLOCKED,
                eventlog.SEAT_CREDITS,
            )
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
    from accounts.models import AccountSettings, ClaudeAccount

    return Context(
        now,
        team_zone(),
        AlertSettings.current_thresholds(),
        subscriptions,
        states,
        accounts=ClaudeAccount.objects.defer("credential").in_bulk(accounts),
        account_settings=AccountSettings.current(),
    )


def _evaluate_event(context: Context, event: Event) -> list[Item]:
    data, account_id = event.data or {}, event.account_id
    if event.kind == eventlog.SEAT_STATUS:
        return _seat_status(context, event)
    if event.kind == eventlog.SEAT_BLOCKED:
        return seat_events.blocked(context, event)
    if event.kind == eventlog.SEAT_CREDITS:
        return seat_events.credits(context, event)
    if account_id is None:
        return []
    label = str(data.get("label") or f"account {account_id}")
    items: list[Item] = []
    reset_kind = data.get("kind") if data.get("kind") in ("reset", "early") else None  # drift says nothing
    good_poll = event.kind == eventlog.POLL_RESULT and data.get("outcome") == "ok" and data.get("snapshot")
    seen: outlook.Outlook | None = None
    if good_poll and account_id in context.accounts:  # absent: the account was deleted since
        # Lazy: reads nothing until a subscription asks for forecasts, cookie age or spend.
        seen = outlook.Outlook(
            context.accounts[account_id], context.account_settings, data["snapshot"], event.at
        )
    for subscription in context.subscriptions_for(account_id):
        if good_poll:
            items += _usage(context, subscription, event, label)
            if seen is not None and subscription.notify_forecast:
                items += outlook.forecasts(context, subscription, event, label, seen)
            if seen is not None and subscription.notify_credentials:
                items += outlook.cookie(context, subscription, event, label, seen)
            if seen is not None and subscription.notify_credits:
                items += outlook.credits(subscription, event, label, seen)
        elif event.kind == eventlog.POLL_RESULT:
            items += health.failed_poll(context, subscription, event, label)
        elif event.kind == eventlog.CREDENTIAL_STATE:
            items += health.credential_changed(context, subscription, event, label)
        elif event.kind == eventlog.WINDOW_RESET and subscription.notify_window_reset and reset_kind:
            limit = texts.limit_label(str(data.get("limit_type", "")))
            title, message = texts.window_reset(label, limit, reset_kind == "early")
            items.append(item(subscription, event, "window_reset", title, message, label, key="reset"))
    return items


def _seat_status(context: Context, event: Event) -> list[Item]:
    """A seat paused, killed or back (opt-in on subscriptions to every account: seats share them all)."""
    data = event.data or {}
    after, seat = str(data.get("after", "")), str(data.get("seat", "a seat"))
    title, message = texts.seat_status(seat, str(data.get("before", "")), after, event.actor)
    return [
        Item(
            subscription,
            0,
            {"title": title, "message": message, "account": "", "kind": "seat", "state": "firing"}
            | {"urgent": after == "killed", "key": f"seat:{event.seat_id}", "subscription": subscription.pk},
        )
        for subscription in context.subscriptions
        if subscription.notify_seats and subscription.account_id is None
    ]


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
        keys = {t: key(subscription, event, limit_type, t) for t in policy.thresholds}
        rows = {t: _row(context.states[k]) for t, k in keys.items() if k in context.states}
        step = thresholds.step(policy, rows, pct, resets_at, event.at)
        stored = all(_store(context, keys[t], row) for t, row in step.rows.items())
        if not stored:
            continue  # another writer moved these rows: its transition, its notice
        name = texts.limit_label(limit_type)
        for notice in step.notices:
            title, message = _notice_texts(notice, label, name, resets_at, event.at, context.tz)
            items.append(
                item(
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
    return write(context, key, values)
