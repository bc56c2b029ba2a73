"""Reads for the admin, commands and other apps: latest readings, forecasts, cookie age, the fleet view."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.db.models import OuterRef, Subquery
from django.utils import timezone

from .forecast import RATE_LOOKBACK, Forecast, forecast
from .models import AccountSettings, ClaudeAccount, Source, State, UsageSnapshot, WindowReading

HEADROOM_WINDOWS = ("session", "weekly")
# Numbers older than this many poll intervals are stale (contract §5): a healthy account is read every
# interval, so missing three in a row means polling is stuck or failing.
STALE_AFTER_POLLS = 3


@dataclass(frozen=True)
class Freshness:
    """How current an account's latest numbers are. `stale_reason` says why they must not be trusted."""

    taken_at: datetime | None  # when the latest numbers were read; None = never
    age: timedelta | None
    stale: bool
    stale_reason: str


def freshness(
    account: ClaudeAccount, taken_at: datetime | None, now: datetime, runtime: AccountSettings | None = None
) -> Freshness:
    """`taken_at` is the latest snapshot's time (see `latest_readings`). Stale after a failed poll or once
    older than STALE_AFTER_POLLS poll intervals."""
    if taken_at is None:
        return Freshness(None, None, False, "")
    age = max(now - taken_at, timedelta(0))
    # Every poll writes the state, so anything but ok/new means the latest poll failed.
    if account.state not in (State.OK, State.NEW):
        reason = f"the last poll failed ({account.get_state_display()})"
        return Freshness(taken_at, age, True, reason)
    interval = (runtime or AccountSettings.current()).poll_interval_seconds
    if age > timedelta(seconds=interval * STALE_AFTER_POLLS):
        reason = f"not updated for more than {STALE_AFTER_POLLS} poll intervals"
        return Freshness(taken_at, age, True, reason)
    return Freshness(taken_at, age, False, "")


def latest_snapshot(account: ClaudeAccount) -> UsageSnapshot | None:
    return account.snapshots.order_by("-taken_at").prefetch_related("readings").first()


def latest_readings(account: ClaudeAccount) -> list[WindowReading]:
    """The windows of the latest snapshot; each carries `taken_at`, the time to pass to `freshness`."""
    snapshot = latest_snapshot(account)
    return list(snapshot.readings.all()) if snapshot else []


def snapshot_windows(snapshot_id: int) -> dict[str, tuple[float | None, datetime | None]]:
    """limit type → (utilization, resets_at) of one snapshot: what the alert evaluator reads for a poll."""
    readings = WindowReading.objects.filter(snapshot_id=snapshot_id)
    rows = readings.values_list("limit_type", "utilization", "resets_at")
    return {limit_type: (utilization, resets_at) for limit_type, utilization, resets_at in rows}


def spend_started(snapshot_id: int) -> tuple[Decimal, str] | None:
    """(amount, currency) when this snapshot is the first of its month to show paid usage, else None."""
    snapshot = UsageSnapshot.objects.filter(pk=snapshot_id).first()
    if snapshot is None or not snapshot.spend_used:
        return None
    month = snapshot.taken_at.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    earlier = UsageSnapshot.objects.filter(
        account_id=snapshot.account_id, taken_at__gte=month, taken_at__lt=snapshot.taken_at, spend_used__gt=0
    )
    return None if earlier.exists() else (snapshot.spend_used, snapshot.spend_currency)


@dataclass(frozen=True)
class AccountUsage:
    freshness: Freshness
    forecasts: list[Forecast]


def account_usage(
    account: ClaudeAccount, now: datetime, runtime: AccountSettings | None = None
) -> AccountUsage:
    """The latest windows with their age; pace and ETAs only from fresh numbers (stale ones would mislead)."""
    readings = latest_readings(account)
    fresh = freshness(account, readings[0].taken_at if readings else None, now, runtime)
    if fresh.stale:
        return AccountUsage(fresh, [withheld_forecast(r, fresh.stale_reason) for r in readings])
    return AccountUsage(fresh, _forecasts(account, readings, now))


def withheld_forecast(reading: WindowReading, reason: str) -> Forecast:
    """The reading's numbers as they were, with no pace, ETA or verdict, and why."""
    limit_type, utilization, resets_at = reading.limit_type, reading.utilization, reading.resets_at
    return Forecast(limit_type, utilization, resets_at, None, None, None, None, reason)


def account_forecasts(account: ClaudeAccount, now: datetime) -> list[Forecast]:
    """One forecast per window of the latest snapshot; burn rate from recent readings of the same window.
    Stale numbers get no pace or ETA, and `Forecast.withheld` says why."""
    return account_usage(account, now).forecasts


def _forecasts(account: ClaudeAccount, readings: list[WindowReading], now: datetime) -> list[Forecast]:
    recent = list(
        WindowReading.objects.filter(account=account, taken_at__gte=now - RATE_LOOKBACK).values_list(
            "limit_type", "resets_at", "taken_at", "utilization"
        )
    )
    result = []
    for reading in readings:
        history = [
            (taken_at, utilization)
            for limit_type, resets_at, taken_at, utilization in recent
            if limit_type == reading.limit_type and resets_at == reading.resets_at and utilization is not None
        ]
        result.append(
            forecast(
                reading.limit_type, reading.utilization, reading.resets_at, reading.window_hours, history, now
            )
        )
    return result


def cookie_warning(account: ClaudeAccount, runtime: AccountSettings, now: datetime) -> str:
    """Empty unless a session cookie is within `cookie_expiry_warn_days` of its usual lifetime."""
    if account.source != Source.COOKIE or account.cookie_issued_at is None:
        return ""
    ends = account.cookie_issued_at + timedelta(days=runtime.cookie_lifetime_days)
    if now < ends - timedelta(days=runtime.cookie_expiry_warn_days):
        return ""
    if now >= ends:
        return f"cookie is past its usual {runtime.cookie_lifetime_days}-day lifetime; paste a new one soon"
    days = (ends - now).total_seconds() / 86400
    return f"cookie likely expires in {days:.1f} days ({ends:%Y-%m-%d}); paste a new one"


@dataclass(frozen=True)
class Headroom:
    account_id: int
    label: str
    state: str
    headroom: float | None  # 100 - the highest known utilization of the 5-hour and weekly windows
    soonest_reset: datetime | None
    soonest_reset_type: str
    taken_at: datetime | None = None  # when these numbers were read
    stale: bool = False
    stale_reason: str = ""


def fleet_overview(now: datetime | None = None) -> list[Headroom]:
    """Every enabled account with its latest numbers and their age; most headroom first, then stale numbers,
    unknown last."""
    now = now or timezone.now()
    runtime = AccountSettings.current()
    latest = UsageSnapshot.objects.filter(account=OuterRef("pk")).order_by("-taken_at").values("pk")[:1]
    accounts = list(
        ClaudeAccount.objects.filter(enabled=True).defer("credential").annotate(latest_id=Subquery(latest))
    )
    by_snapshot: dict[int, list[WindowReading]] = {}
    for reading in WindowReading.objects.filter(
        snapshot_id__in=[a.latest_id for a in accounts if a.latest_id]
    ):
        by_snapshot.setdefault(reading.snapshot_id, []).append(reading)
    rows = []
    for account in accounts:
        readings = by_snapshot.get(account.latest_id, [])
        known = [
            r.utilization for r in readings if r.limit_type in HEADROOM_WINDOWS and r.utilization is not None
        ]
        resets = sorted((r.resets_at, r.limit_type) for r in readings if r.resets_at is not None)
        fresh = freshness(account, readings[0].taken_at if readings else None, now, runtime)
        rows.append(
            Headroom(
                account.pk,
                account.label,
                account.state,
                round(100 - max(known), 1) if known else None,
                resets[0][0] if resets else None,
                resets[0][1] if resets else "",
                fresh.taken_at,
                fresh.stale,
                fresh.stale_reason,
            )
        )
    return sorted(rows, key=lambda h: (h.headroom is None, h.stale, -(h.headroom or 0)))


def most_headroom() -> Headroom | None:
    """The account to send people to: only fresh numbers count."""
    usable = [h for h in fleet_overview() if h.headroom is not None and h.state == "ok" and not h.stale]
    return usable[0] if usable else None


def soonest_reset(now: datetime) -> Headroom | None:
    upcoming = [(h.soonest_reset, h) for h in fleet_overview() if h.soonest_reset and h.soonest_reset > now]
    return min(upcoming, key=lambda pair: pair[0])[1] if upcoming else None
