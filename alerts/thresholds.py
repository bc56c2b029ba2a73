"""The threshold state machine of contract §10.2. Pure: rows and the reading in, new rows and notices out.

One row per (subscription, account, limit type, threshold). A notice is what the service turns into an event
and deliveries; the service writes each changed row with a conditional update on its `version`, so two
workers evaluating the same poll produce one transition and one notice.
"""

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

ARMED, FIRING = "armed", "firing"
NEW_WINDOW_SHIFT = timedelta(hours=1)  # resets_at moving later by less than this is drift


@dataclass(frozen=True)
class Policy:
    thresholds: tuple[int, ...]
    cooldown: timedelta = timedelta(hours=4)
    hysteresis: float = 5.0
    send_resolved: bool = False
    repeat_interval: timedelta | None = None


@dataclass(frozen=True)
class Row:
    threshold: int
    state: str = ARMED
    window_key: datetime | None = None
    fired_at: datetime | None = None
    notified: bool = False
    last_notified_at: datetime | None = None
    resolved_at: datetime | None = None
    last_pct: float | None = None
    peak_pct: float | None = None
    version: int = 0


@dataclass(frozen=True)
class Notice:
    kind: str  # firing | reminder | resolved
    threshold: int
    pct: float
    peak_pct: float | None = None
    since: datetime | None = None  # when the threshold was crossed (reminder, resolved)
    reason: str = ""  # resolved: "" (usage fell) or "window reset"


@dataclass(frozen=True)
class Step:
    rows: dict[int, Row]  # threshold → the row as it should be stored (only changed rows)
    notices: list[Notice]


def window_key(resets_at: datetime | None) -> datetime | None:
    return resets_at.replace(second=0, microsecond=0) if resets_at else None


def is_new_window(previous: datetime | None, current: datetime | None) -> bool:
    if current is None:
        return False
    return previous is None or current - previous >= NEW_WINDOW_SHIFT


def step(
    policy: Policy, rows: dict[int, Row], pct: float | None, resets_at: datetime | None, now: datetime
) -> Step:
    if pct is None:
        return Step({}, [])  # unknown is never 0 %: nothing moves
    key = window_key(resets_at)
    current = {t: rows.get(t, Row(threshold=t)) for t in sorted(set(policy.thresholds))}
    changed: dict[int, Row] = {}
    resolved: list[Notice] = []

    for threshold, row in current.items():
        new = replace(row, last_pct=pct)
        if is_new_window(row.window_key, key):
            if new.state == FIRING and new.notified and policy.send_resolved:
                resolved.append(
                    Notice("resolved", threshold, pct, new.peak_pct, new.fired_at, reason="window reset")
                )
            if new.state == FIRING:
                new = replace(new, state=ARMED, resolved_at=now)
            new = replace(new, last_notified_at=None)  # a new window clears the cooldown
        new = replace(new, window_key=key)
        current[threshold] = new

    crossing = [t for t, row in current.items() if row.state == ARMED and pct >= t]
    highest_crossing = max(crossing, default=None)
    notices: list[Notice] = []
    for threshold in crossing:
        row = current[threshold]
        cooling = row.last_notified_at is not None and row.last_notified_at + policy.cooldown > now
        notify = threshold == highest_crossing and not cooling
        current[threshold] = replace(
            row,
            state=FIRING,
            fired_at=now,
            peak_pct=pct,
            notified=notify,
            last_notified_at=now if notify else row.last_notified_at,
        )
        if notify:
            notices.append(Notice("firing", threshold, pct, pct, now))

    falling = []
    for threshold, row in current.items():
        if row.state != FIRING or threshold in crossing:
            continue
        if pct <= threshold - policy.hysteresis:
            falling.append(threshold)
            current[threshold] = replace(row, state=ARMED, resolved_at=now)
        else:
            current[threshold] = replace(row, peak_pct=max(row.peak_pct or pct, pct))
    notified_falling = [t for t in falling if rows.get(t, Row(t)).notified]
    if policy.send_resolved and notified_falling:
        # One message per key: the highest threshold that had told people, with its peak and duration.
        told = rows[max(notified_falling)]
        resolved.append(Notice("resolved", told.threshold, pct, told.peak_pct, told.fired_at))

    still = [t for t, row in current.items() if row.state == FIRING and t not in crossing]
    if policy.repeat_interval and still and not crossing:
        top = max(still)
        row = current[top]
        if row.notified and row.last_notified_at and row.last_notified_at + policy.repeat_interval <= now:
            current[top] = replace(row, last_notified_at=now)
            notices.append(Notice("reminder", top, pct, current[top].peak_pct, row.fired_at))

    for threshold, row in current.items():
        old = rows.get(threshold, Row(threshold=threshold))
        # last_pct alone is not worth a write per row per poll; it is stored with any real change.
        if replace(row, last_pct=old.last_pct) != old:
            changed[threshold] = row
    return Step(changed, resolved + notices)
