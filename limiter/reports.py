"""Selectors for the dashboard and the seat pages: seat cards, devices, blocks and block episodes. Read only.

Each function answers a whole page in a fixed number of queries, whatever the number of seats or rows:
usage from the counters (`selectors.seats_window_usage`), the rest aggregated in the database. Usage over
days (trends, CSV, the seat page's chart) is in `history`.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count

from . import engine, prompt_tally
from .models import Device, Rule, Seat, SessionEvent, Team, UsageEvent
from .selectors import _merge_rules, _usage, open_holds_by_seat, seats_window_usage
from .timebuckets import QuarterHour, local_hour
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


def seat_cards(now: datetime, *, seat_ids: list | None = None) -> list[SeatCard]:
    """Every seat (or those named) with limit bars, credits, device and today's hourly turns: six queries."""
    every = Seat.objects.select_related("team").order_by("name")
    seats = list(every.filter(pk__in=seat_ids) if seat_ids is not None else every)
    if not seats:
        return []
    the_team = seats[0].team
    rules = list(Rule.objects.all())
    merged = {seat.pk: _merge_rules(seat, rules) for seat in seats}
    windows = {DAILY, *(r.window for specs in merged.values() for r in specs if r.window)}
    seat_ids = [s.pk for s in seats]
    usage_rows = seats_window_usage(seat_ids, the_team, now, windows)
    holds = open_holds_by_seat(seat_ids, now)
    devices: dict[object, str] = {}
    for device_seat, hostname in (
        Device.objects.filter(seat_id__in=seat_ids).order_by("seat_id", "-last_seen_at")
    ).values_list("seat_id", "hostname"):
        devices.setdefault(device_seat, hostname)
    day_start = window_bounds(DAILY, now, the_team.tz)[0]
    hourly: dict[object, list[int]] = defaultdict(lambda: [0] * 24)
    # The seat list keeps the read on the (seat, occurred_at) index: one short range per seat.
    for turn_seat, quarter, turns in (
        UsageEvent.objects.filter(seat_id__in=seat_ids, occurred_at__gte=day_start)
        .annotate(quarter=QuarterHour("occurred_at"))
        .values("seat_id", "quarter")
        .annotate(turns=Count("id"))
        .values_list("seat_id", "quarter", "turns")
    ):
        hourly[turn_seat][local_hour(quarter, the_team.tz)] += turns
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


def block_episodes(
    *, since: datetime, now: datetime, seat_id=None, gap: timedelta = timedelta(minutes=30)
) -> list[Episode]:
    """Runs of blocked prompts per seat: blocks less than `gap` apart are one episode.

    Only the seats the prompt tallies say were blocked are read, each on the (seat, created_at) index:
    blocks are rare, and a scan of every session row by time alone is what made this page slow.
    """
    seats = [seat_id] if seat_id is not None else list(prompt_tally.seats_with_blocks(since=since, now=now))
    rows = SessionEvent.objects.filter(seat_id__in=seats, kind=SessionEvent.BLOCKED, created_at__gte=since)
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
