"""The limiter's part of alerting: a few durable events in the event log, written in the hook API's own
transaction, which the alert evaluator turns into messages (issue 10, "limiter events").

Blocked prompts and counted turns stay rows of the limiter's tables; only what an alert needs enters the log:

- `seat.blocked`: the first block of a seat in one window of the rule that blocked it. Calendar windows
  (daily, weekly, monthly) are the rule's own; sliding 24-hour, time-of-day and unknown-model blocks are
  grouped per day of the team's zone. Paused and killed seats are left out: `seat.status` already said so.
- `seat.credits`: a counted turn took a credits rule's spend past a multiple of 5 % of its budget, so a
  subscription's percentage (a multiple of 5) is crossed by exactly one event per budget window.

Allowed prompts cost nothing here; a block costs one indexed existence check; a count costs nothing for a
seat without a credits budget and one counters read for a seat with one.
"""

from datetime import datetime, timedelta

from django.db import IntegrityError, transaction

from monitoring import eventlog

from . import engine, selectors
from .models import BlockNotice, Seat, UsageEvent
from .windows import CALENDAR_WINDOWS, DAILY, window_bounds

STEP_PERCENT = 5
# Markers older than the longest calendar window can no longer match a block: safe to drop.
MARKER_KEEP = timedelta(days=32)


def _block_window(rule: engine.RuleSpec | None, seat: Seat, now: datetime) -> tuple[str, datetime]:
    if rule is not None and rule.window in CALENDAR_WINDOWS:
        return rule.window, window_bounds(rule.window, now, seat.team.tz)[0]
    return "day", window_bounds(DAILY, now, seat.team.tz)[0]


def note_block(seat: Seat, rules: list[engine.RuleSpec], decision: engine.Decision, now: datetime) -> None:
    """Inside /check's transaction, on a deny: logs the block if it is the seat's first in its window."""
    if decision.allowed or decision.cause in (engine.PAUSED, engine.KILLED):
        return
    rule = next((r for r in rules if r.id == decision.rule_id), None)
    window, start = _block_window(rule, seat, now)
    rule_key = (f"rule:{decision.rule_id}" if decision.rule_id else str(decision.cause or "other"))[:64]
    if BlockNotice.objects.filter(seat=seat, rule_key=rule_key, window_start=start).exists():
        return
    try:
        with transaction.atomic():  # a savepoint: a concurrent first block wins the key, this one is quiet
            BlockNotice.objects.create(seat=seat, rule_key=rule_key, window_start=start)
    except IntegrityError:
        return
    eventlog.record(
        eventlog.SEAT_BLOCKED,
        seat_id=seat.pk,
        at=now,
        data={
            "seat": seat.name,
            "reason": decision.reason or "",
            "cause": decision.cause or "",
            "rule": decision.rule_id or "",
            # What ran out, for the feed's one line ("opus 5/day reached"); the reason is the long form.
            "family": (rule.model or "") if rule is not None else "",
            "limit": rule.value if rule is not None else None,
            "window": window,
            "window_start": start.isoformat(),
            "resets_at": decision.resets_at.isoformat() if decision.resets_at else None,
        },
    )


def note_count(seat: Seat, event: UsageEvent, now: datetime) -> None:
    """Inside /count's transaction, after the turn is added: logs each credits budget it took past a step."""
    cost = event.credit_cost or 0
    budgets = [
        r
        for r in selectors.effective_rules(seat)
        if r.type == engine.CREDITS and r.window and r.value is not None and r.value > 0
    ]
    if cost <= 0 or not budgets:
        return
    # A turn placed before a window's start (a replay after an outage) did not add to that window.
    starts = {r.window: window_bounds(r.window, now, seat.team.tz)[0] for r in budgets if r.window}
    windows = {w for w, start in starts.items() if event.occurred_at >= start}
    if not windows:
        return
    credits = selectors.seat_usage(seat, now=now, windows=windows).credits
    for rule in budgets:
        if rule.window not in windows or rule.value is None:
            continue
        used = credits.get(rule.window, 0)
        before = max(0, used - cost)
        if before >= rule.value or used * 100 // (rule.value * STEP_PERCENT) <= before * 100 // (
            rule.value * STEP_PERCENT
        ):
            continue
        eventlog.record(
            eventlog.SEAT_CREDITS,
            seat_id=seat.pk,
            at=now,
            data={
                "seat": seat.name,
                "rule": rule.id,
                "window": rule.window,
                "window_start": starts[rule.window].isoformat(),
                "budget": rule.value,
                "used": used,
                "pct_before": round(before * 100 / rule.value, 2),
                "pct": round(used * 100 / rule.value, 2),
            },
        )


def prune(now: datetime) -> int:
    return BlockNotice.objects.filter(window_start__lt=now - MARKER_KEEP).delete()[0]
