"""Reads for the hook API, the admin and other apps."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Q, Sum

from . import engine
from .engine import RuleSpec, Usage
from .families import BUILTIN_FAMILIES, DEFAULT_FAMILY
from .models import CreditHold, HookToken, Rule, Seat, Team, UsageEvent
from .windows import DAILY, SLIDING_24H, SLIDING_SPAN, WINDOWS, window_bounds

REPORTED_FAMILIES = (*BUILTIN_FAMILIES, DEFAULT_FAMILY)


def current_team() -> Team:
    team = Team.objects.order_by("pk").first()
    return team if team is not None else Team.objects.create()


def token_holder(token_hash: str) -> HookToken | None:
    return (
        HookToken.objects.select_related("seat", "seat__team")
        .filter(token_hash=token_hash, revoked_at__isnull=True)
        .first()
    )


def effective_rules(seat: Seat) -> list[RuleSpec]:
    """The seat's rules plus the team defaults it does not override, in evaluation order."""
    rows = list(Rule.objects.filter(Q(seat_id=seat.pk) | Q(team_id=seat.team_id)))
    own_keys = {r.override_key() for r in rows if r.seat_id is not None}
    kept = [r for r in rows if r.seat_id is not None or r.override_key() not in own_keys]
    kept.sort(key=lambda r: (r.position, str(r.id)))
    return [r.spec() for r in kept]


def window_starts(team: Team, now: datetime, windows: Iterable[str] = WINDOWS) -> dict[str, datetime]:
    return {w: window_bounds(w, now, team.tz)[0] for w in windows}


def seat_usage(
    seat: Seat,
    *,
    now: datetime,
    rules: Iterable[RuleSpec] = (),
    exclude_session: str | None = None,
    windows: Iterable[str] = WINDOWS,
) -> Usage:
    """Counts and credits per window in one aggregate query; recent turns only for sliding rules."""
    starts = window_starts(seat.team, now, windows)
    aggregates = {}
    for window, start in starts.items():
        in_window = Q(occurred_at__gte=start)
        aggregates[f"n_{window}"] = Count("id", filter=in_window)
        aggregates[f"c_{window}"] = Sum("credit_cost", filter=in_window)
    rows = (
        UsageEvent.objects.filter(seat_id=seat.pk, occurred_at__gte=min(starts.values()))
        .values("family")
        .annotate(**aggregates)
        .order_by()
    )
    counts: dict[str, dict[str, int]] = {w: {} for w in starts}
    credits = dict.fromkeys(starts, 0)
    for row in rows:
        for window in starts:
            if row[f"n_{window}"]:
                counts[window][row["family"]] = row[f"n_{window}"]
                credits[window] += row[f"c_{window}"] or 0
    recent: list[engine.CountedTurn] = []
    rules = list(rules)
    if any(r.window == SLIDING_24H for r in rules):
        recent = [
            engine.CountedTurn(occurred_at=t, family=f, cost=c)
            for t, f, c in UsageEvent.objects.filter(
                seat_id=seat.pk, occurred_at__gte=now - SLIDING_SPAN
            )
            .order_by("occurred_at")
            .values_list("occurred_at", "family", "credit_cost")
        ]
    held = 0
    if any(r.type == engine.CREDITS for r in rules):
        holds = CreditHold.objects.filter(seat_id=seat.pk, expires_at__gt=now)
        if exclude_session:
            holds = holds.exclude(session_id=exclude_session)
        held = holds.aggregate(total=Sum("cost"))["total"] or 0
    return Usage(counts=counts, credits=credits, recent=recent, held_credits=held)


def daily_usage_report(usage: Usage) -> dict[str, int]:
    """Today's turns per family; always has opus, sonnet, haiku and default."""
    report = dict.fromkeys(REPORTED_FAMILIES, 0)
    report.update(usage.counts.get(DAILY, {}))
    return report


@dataclass(frozen=True)
class SeatOverview:
    seat: Seat
    today: dict[str, int]
    credit_balance: int | None
    credit_budget: int | None


def seat_overview(seat: Seat, *, now: datetime) -> SeatOverview:
    rules = effective_rules(seat)
    usage = seat_usage(seat, now=now, rules=rules)
    position = engine.tightest_credit_position(rules, usage)
    return SeatOverview(
        seat=seat,
        today={k: v for k, v in daily_usage_report(usage).items() if v},
        credit_balance=position.balance if position else None,
        credit_budget=position.budget if position else None,
    )
