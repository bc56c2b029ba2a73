"""Selectors for the dashboard gauges and the account history pages. Read only; never loads a credential.

Every function answers a whole page in a fixed number of queries, whatever the number of accounts.
"""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Case, F, IntegerField, OuterRef, Subquery, Value, When, Window
from django.db.models.functions import Lag

from .forecast import RATE_LOOKBACK, Forecast, forecast
from .models import AccountSettings, ClaudeAccount, UsageSnapshot, WindowReading, WindowReset
from .selectors import freshness, withheld_forecast

SHOWN = ("id", "label", "state", "state_since", "last_error", "last_success_at", "last_poll_at", "enabled")
GAUGE_ORDER = ("session", "weekly")  # then per-model weekly windows, alphabetically


@dataclass(frozen=True)
class Gauge:
    limit_type: str
    label: str
    utilization: float | None
    resets_at: datetime | None
    forecast: Forecast


@dataclass(frozen=True)
class AccountGauges:
    id: int
    label: str
    state: str
    state_label: str
    last_error: str
    updated_at: datetime | None  # the latest successful poll
    gauges: list[Gauge]
    stale_reason: str  # why the numbers are not current and not forecast; empty when they are


def _gauge_key(limit_type: str) -> tuple[int, str]:
    return (GAUGE_ORDER.index(limit_type) if limit_type in GAUGE_ORDER else len(GAUGE_ORDER), limit_type)


def account_gauges(now: datetime, *, account_id: int | None = None) -> list[AccountGauges]:
    """Enabled accounts (or one) with their latest windows and a forecast each (none from stale numbers):
    four queries in all."""
    latest = UsageSnapshot.objects.filter(account=OuterRef("pk")).order_by("-taken_at").values("pk")[:1]
    accounts = ClaudeAccount.objects.only(*SHOWN).annotate(latest_id=Subquery(latest)).order_by("label")
    accounts = accounts.filter(pk=account_id) if account_id is not None else accounts.filter(enabled=True)
    rows = list(accounts)
    readings: dict[int, list[WindowReading]] = {}
    for reading in WindowReading.objects.filter(snapshot_id__in=[a.latest_id for a in rows if a.latest_id]):
        readings.setdefault(reading.account_id, []).append(reading)
    history: dict[tuple, list[tuple[datetime, float]]] = {}
    for account_id_, limit_type, resets_at, taken_at, utilization in WindowReading.objects.filter(
        account_id__in=[a.pk for a in rows], taken_at__gte=now - RATE_LOOKBACK, utilization__isnull=False
    ).values_list("account_id", "limit_type", "resets_at", "taken_at", "utilization"):
        history.setdefault((account_id_, limit_type, resets_at), []).append((taken_at, utilization or 0.0))
    runtime = AccountSettings.current()
    result = []
    for account in rows:
        shown = sorted(readings.get(account.pk, []), key=lambda r: _gauge_key(r.limit_type))
        fresh = freshness(account, shown[0].taken_at if shown else None, now, runtime)
        gauges = [
            Gauge(
                r.limit_type,
                r.label,
                r.utilization,
                r.resets_at,
                withheld_forecast(r, fresh.stale_reason)
                if fresh.stale
                else forecast(
                    r.limit_type,
                    r.utilization,
                    r.resets_at,
                    r.window_hours,
                    history.get((account.pk, r.limit_type, r.resets_at), []),
                    now,
                ),
            )
            for r in shown
        ]
        result.append(
            AccountGauges(
                account.pk,
                account.label,
                account.state,
                account.get_state_display(),
                account.last_error,
                account.last_success_at,
                gauges,
                fresh.stale_reason,
            )
        )
    return result


@dataclass(frozen=True)
class Point:
    taken_at: datetime
    limit_type: str
    utilization: float | None
    resets_at: datetime | None


def account_history(account_id: int, *, since: datetime) -> list[Point]:
    """Every reading of the account since `since`, oldest first."""
    rows = WindowReading.objects.filter(account_id=account_id, taken_at__gte=since).order_by("taken_at")
    return [
        Point(*values) for values in rows.values_list("taken_at", "limit_type", "utilization", "resets_at")
    ]


def account_resets(account_id: int, *, since: datetime) -> list[WindowReset]:
    return list(
        WindowReset.objects.filter(account_id=account_id, detected_at__gte=since).order_by("detected_at")
    )


def account_choices() -> list[tuple[int, str]]:
    return list(ClaudeAccount.objects.order_by("label").values_list("pk", "label"))


@dataclass(frozen=True)
class FullEpisode:
    account: str
    limit_type: str
    started: datetime
    ended: datetime | None  # None: still at 100 % at the latest reading


def full_windows(*, since: datetime, account_id: int | None = None) -> list[FullEpisode]:
    """When a window of an account stood at 100 %, from the first such reading to the first one below."""
    rows = WindowReading.objects.filter(taken_at__gte=since, utilization__isnull=False)
    if account_id is not None:
        rows = rows.filter(account_id=account_id)
    # Only the readings where a window turns full or stops being full matter: the database finds them
    # (LAG over each account's window), so a week of readings every five minutes stays in the database.
    full = Case(When(utilization__gte=100, then=Value(1)), default=Value(0), output_field=IntegerField())
    rows = rows.annotate(
        is_full=full,
        was_full=Window(
            Lag(full, default=Value(0)),
            partition_by=[F("account_id"), F("limit_type")],
            order_by=F("taken_at").asc(),
        ),
    ).exclude(was_full=F("is_full"))
    episodes: list[FullEpisode] = []
    open_: dict[tuple[str, str], datetime] = {}
    ordered = rows.order_by("taken_at").values_list("account__label", "limit_type", "taken_at", "utilization")
    for label, limit_type, taken_at, utilization in ordered:
        key = (label, limit_type)
        utilization = float(utilization or 0)
        if utilization >= 100 and key not in open_:
            open_[key] = taken_at
        elif utilization < 100 and key in open_:
            episodes.append(FullEpisode(label, limit_type, open_.pop(key), taken_at))
    episodes += [FullEpisode(label, limit_type, start, None) for (label, limit_type), start in open_.items()]
    return sorted(episodes, key=lambda e: e.started)
