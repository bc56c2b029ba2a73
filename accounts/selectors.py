"""Reads for the admin, commands and other apps: latest readings, forecasts, cookie age, the fleet view."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import OuterRef, Subquery

from .forecast import RATE_LOOKBACK, Forecast, forecast
from .models import AccountSettings, ClaudeAccount, Source, UsageSnapshot, WindowReading

HEADROOM_WINDOWS = ("session", "weekly")


def latest_snapshot(account: ClaudeAccount) -> UsageSnapshot | None:
    return account.snapshots.order_by("-taken_at").prefetch_related("readings").first()


def latest_readings(account: ClaudeAccount) -> list[WindowReading]:
    snapshot = latest_snapshot(account)
    return list(snapshot.readings.all()) if snapshot else []


def account_forecasts(account: ClaudeAccount, now: datetime) -> list[Forecast]:
    """One forecast per window of the latest snapshot; burn rate from recent readings of the same window."""
    readings = latest_readings(account)
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


def fleet_overview() -> list[Headroom]:
    """Every enabled account with its latest numbers; most headroom first, unknown last."""
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
        rows.append(
            Headroom(
                account.pk,
                account.label,
                account.state,
                round(100 - max(known), 1) if known else None,
                resets[0][0] if resets else None,
                resets[0][1] if resets else "",
            )
        )
    return sorted(rows, key=lambda h: (h.headroom is None, -(h.headroom or 0)))


def most_headroom() -> Headroom | None:
    usable = [h for h in fleet_overview() if h.headroom is not None and h.state == "ok"]
    return usable[0] if usable else None


def soonest_reset(now: datetime) -> Headroom | None:
    upcoming = [(h.soonest_reset, h) for h in fleet_overview() if h.soonest_reset and h.soonest_reset > now]
    return min(upcoming, key=lambda pair: pair[0])[1] if upcoming else None
