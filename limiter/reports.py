"""Selectors for the dashboard and the history pages: seat cards, daily usage, blocks, trends. Read only.

Each function answers a whole page in a fixed number of queries, whatever the number of seats or rows:
aggregation happens in the database, grouped by seat, local day or hour in the team's zone.
"""

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db.models import Count, Q, Sum
from django.db.models.functions import ExtractHour, TruncDate

from . import engine
from .models import Device, Rule, Seat, SessionEvent, Team, UsageEvent
from .selectors import _aggregated_usage, _merge_rules, _usage, open_holds_by_seat, window_starts
from .windows import DAILY, window_bounds


@dataclass(frozen=True)
class Bar:
    label: str  # e.g. "opus · daily" or "credits · weekly"
    window: str
    family: str  # "" = every family; "credits" for a credit budget
    used: int
    limit: int | None  # None = unlimited


@dataclass(frozen=True)
class SeatCard:
    id: object
    name: str
    slug: str
    status: str
    status_changed_at: datetime | None
    last_seen_at: datetime | None
    device: str
    bars: list[Bar]
    credit_balance: int | None
    credit_budget: int | None
    today: dict[str, int]
    hourly: list[int]  # turns per local hour of today, 24 values


def team() -> Team:
    found = Team.objects.order_by("pk").first()
    return found if found is not None else Team()


def _bars(rules: list[engine.RuleSpec], usage: engine.Usage) -> list[Bar]:
    bars = []
    for rule in rules:
        if rule.type == engine.PER_MODEL and rule.window:
            counts = usage.counts.get(rule.window, {})
            used = counts.get(rule.model, 0) if rule.model else sum(counts.values())
            limit = None if rule.value == engine.UNLIMITED else rule.value
            bars.append(
                Bar(
                    f"{rule.model or 'all models'} · {rule.window}",
                    rule.window,
                    rule.model or "",
                    used,
                    limit,
                )
            )
    for position in engine.credit_positions(rules, usage):
        window = position.rule.window or ""
        bars.append(Bar(f"credits · {window}", window, "credits", position.used, position.budget))
    return bars


def seat_cards(now: datetime) -> list[SeatCard]:
    """Every seat with its limit bars, credits, device and today's hourly turns: six queries in all."""
    seats = list(Seat.objects.select_related("team").order_by("name"))
    if not seats:
        return []
    the_team = seats[0].team
    rules = list(Rule.objects.all())
    merged = {seat.pk: _merge_rules(seat, rules) for seat in seats}
    windows = {DAILY, *(r.window for specs in merged.values() for r in specs if r.window)}
    usage_rows = _aggregated_usage([s.pk for s in seats], window_starts(the_team, now, windows))
    holds = open_holds_by_seat([s.pk for s in seats], now)
    devices: dict[object, str] = {}
    for seat_id, hostname in Device.objects.order_by("seat_id", "-last_seen_at").values_list(
        "seat_id", "hostname"
    ):
        devices.setdefault(seat_id, hostname)
    day_start = window_bounds(DAILY, now, the_team.tz)[0]
    hourly: dict[object, list[int]] = defaultdict(lambda: [0] * 24)
    for seat_id, hour, turns in (
        UsageEvent.objects.filter(occurred_at__gte=day_start)
        .annotate(hour=ExtractHour("occurred_at", tzinfo=the_team.tz))
        .values("seat_id", "hour")
        .annotate(turns=Count("id"))
        .values_list("seat_id", "hour", "turns")
    ):
        hourly[seat_id][hour] = turns
    cards = []
    for seat in seats:
        counts, credits = usage_rows[seat.pk]
        usage = _usage(seat.pk, merged[seat.pk], counts, credits, holds.get(seat.pk, {}), now)
        position = engine.tightest_credit_position(merged[seat.pk], usage)
        cards.append(
            SeatCard(
                id=seat.pk,
                name=seat.name,
                slug=seat.slug,
                status=seat.status,
                status_changed_at=seat.status_changed_at,
                last_seen_at=seat.last_seen_at,
                device=devices.get(seat.pk, ""),
                bars=_bars(merged[seat.pk], usage),
                credit_balance=position.balance if position else None,
                credit_budget=position.budget if position else None,
                today=dict(counts.get(DAILY, {})),
                hourly=list(hourly[seat.pk]),
            )
        )
    return cards


@dataclass
class DailyUsage:
    days: list[date]
    turns: dict[str, list[int]] = field(default_factory=dict)  # family → per day
    credits: dict[str, list[int]] = field(default_factory=dict)


def daily_usage(*, days: int, now: datetime, seat_id=None) -> DailyUsage:
    """Turns and credits per local day and family over the last `days` days (one seat, or every seat)."""
    tz = team().tz
    first = (now.astimezone(tz) - timedelta(days=days - 1)).date()
    start = window_bounds(DAILY, now - timedelta(days=days - 1), tz)[0]
    rows = UsageEvent.objects.filter(occurred_at__gte=start)
    if seat_id is not None:
        rows = rows.filter(seat_id=seat_id)
    result = DailyUsage([first + timedelta(days=i) for i in range(days)])
    index = {day: i for i, day in enumerate(result.days)}
    for day, family, turns, credits in (
        rows.annotate(day=TruncDate("occurred_at", tzinfo=tz))
        .values("day", "family")
        .annotate(turns=Count("id"), credits=Sum("credit_cost"))
        .values_list("day", "family", "turns", "credits")
    ):
        if day in index:
            result.turns.setdefault(family, [0] * days)[index[day]] = turns
            result.credits.setdefault(family, [0] * days)[index[day]] = credits or 0
    return result


@dataclass(frozen=True)
class UsageRow:
    day: date
    seat: str
    family: str
    turns: int
    credits: int
    input_tokens: int
    output_tokens: int


def usage_per_seat_day(*, start: date, end: date) -> list[UsageRow]:
    """The CSV export: per local day, seat and family, from `start` to `end` inclusive."""
    tz = team().tz
    since = window_bounds(DAILY, datetime.combine(start, datetime.min.time(), tz), tz)[0]
    until = window_bounds(DAILY, datetime.combine(end, datetime.min.time(), tz), tz)[1]
    rows = (
        UsageEvent.objects.filter(occurred_at__gte=since, occurred_at__lt=until)
        .annotate(day=TruncDate("occurred_at", tzinfo=tz))
        .values("day", "seat__slug", "family")
        .annotate(
            turns=Count("id"),
            credits=Sum("credit_cost"),
            inp=Sum("input_tokens"),
            out=Sum("output_tokens"),
        )
        .order_by("day", "seat__slug", "family")
    )
    return [
        UsageRow(
            r["day"],
            r["seat__slug"],
            r["family"],
            r["turns"],
            r["credits"] or 0,
            r["inp"] or 0,
            r["out"] or 0,
        )
        for r in rows
    ]


class PromptRates:
    """Block rate and prompts per session, for any figures that carry prompts, blocked and sessions."""

    prompts: int
    blocked: int
    sessions: int

    @property
    def block_rate(self) -> float | None:
        return self.blocked / self.prompts if self.prompts else None

    @property
    def prompts_per_session(self) -> float | None:
        return self.prompts / self.sessions if self.sessions else None


@dataclass(frozen=True)
class Trends(PromptRates):
    peak_hours: list[int]  # prompts per local hour of day
    model_mix: dict[str, int]  # counted turns per family
    prompts: int
    blocked: int
    sessions: int


def trends(*, since: datetime, until: datetime, seat_id=None) -> Trends:
    tz = team().tz
    sessions = SessionEvent.objects.filter(created_at__gte=since, created_at__lt=until)
    turns = UsageEvent.objects.filter(occurred_at__gte=since, occurred_at__lt=until)
    if seat_id is not None:
        sessions, turns = sessions.filter(seat_id=seat_id), turns.filter(seat_id=seat_id)
    prompts = sessions.filter(kind=SessionEvent.PROMPT)
    peak = [0] * 24
    for hour, count in (
        prompts.annotate(hour=ExtractHour("created_at", tzinfo=tz))
        .values("hour")
        .annotate(n=Count("id"))
        .values_list("hour", "n")
    ):
        peak[hour] = count
    totals = sessions.aggregate(
        prompts=Count("id", filter=Q(kind=SessionEvent.PROMPT)),
        blocked=Count("id", filter=Q(kind=SessionEvent.BLOCKED)),
        sessions=Count("session_id", filter=Q(kind=SessionEvent.PROMPT), distinct=True),
    )
    mix = dict(turns.values("family").annotate(n=Count("id")).values_list("family", "n"))
    return Trends(peak, dict(sorted(mix.items())), totals["prompts"], totals["blocked"], totals["sessions"])


@dataclass(frozen=True)
class Episode:
    subject: str
    started: datetime
    ended: datetime
    count: int
    reason: str

    @property
    def duration(self) -> timedelta:
        return self.ended - self.started


def block_episodes(*, since: datetime, seat_id=None, gap: timedelta = timedelta(minutes=30)) -> list[Episode]:
    """Runs of blocked prompts per seat: blocks less than `gap` apart are one episode."""
    rows = SessionEvent.objects.filter(kind=SessionEvent.BLOCKED, created_at__gte=since)
    if seat_id is not None:
        rows = rows.filter(seat_id=seat_id)
    episodes: list[Episode] = []
    open_by_seat: dict[str, int] = {}
    for name, at, reason in rows.order_by("created_at").values_list("seat__name", "created_at", "reason"):
        index = open_by_seat.get(name)
        if index is not None and at - episodes[index].ended <= gap:
            e = episodes[index]
            episodes[index] = Episode(name, e.started, at, e.count + 1, e.reason)
        else:
            open_by_seat[name] = len(episodes)
            episodes.append(Episode(name, at, at, 1, reason))
    return episodes


def recent_blocks(seat_id, *, limit: int = 20) -> list[tuple[datetime, str, str]]:
    rows = SessionEvent.objects.filter(seat_id=seat_id, kind=SessionEvent.BLOCKED).order_by("-created_at")
    return list(rows.values_list("created_at", "family", "reason")[:limit])


def seat_detail(seat_id) -> Seat | None:
    return Seat.objects.select_related("team").filter(pk=seat_id).first()


def seat_devices(seat_id) -> list[Device]:
    return list(Device.objects.filter(seat_id=seat_id).order_by("-last_seen_at"))


def seat_choices() -> list[tuple[str, str]]:
    return [(str(pk), name) for pk, name in Seat.objects.order_by("name").values_list("pk", "name")]


@dataclass(frozen=True)
class SeatTrend(PromptRates):
    seat: str
    prompts: int
    blocked: int
    sessions: int
    turns: int


def trends_per_seat(*, since: datetime, until: datetime) -> list[SeatTrend]:
    """Prompts, blocks, sessions and turns of every seat in the range: two grouped queries."""
    sessions = (
        SessionEvent.objects.filter(created_at__gte=since, created_at__lt=until)
        .values("seat_id")
        .annotate(
            prompts=Count("id", filter=Q(kind=SessionEvent.PROMPT)),
            blocked=Count("id", filter=Q(kind=SessionEvent.BLOCKED)),
            sessions=Count("session_id", filter=Q(kind=SessionEvent.PROMPT), distinct=True),
        )
    )
    by_seat = {row["seat_id"]: row for row in sessions}
    turns = dict(
        UsageEvent.objects.filter(occurred_at__gte=since, occurred_at__lt=until)
        .values("seat_id")
        .annotate(n=Count("id"))
        .values_list("seat_id", "n")
    )
    result = []
    for pk, name in Seat.objects.order_by("name").values_list("pk", "name"):
        row: Mapping = by_seat.get(pk) or {}
        result.append(
            SeatTrend(
                name, row.get("prompts", 0), row.get("blocked", 0), row.get("sessions", 0), turns.get(pk, 0)
            )
        )
    return result
