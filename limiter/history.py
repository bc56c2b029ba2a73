"""Usage over days: the seat page's 30 days, the trends page and the CSV export. Read only.

Turns, credits and tokens per day come from the usage counters (a few rows per seat and day, whatever the
traffic), or from the rows while the counters are out of date for the team's zone. Prompts, blocks and
sessions come from the prompt tallies (`prompt_tally`), kept per UTC quarter-hour so that any zone's hours
and days are whole numbers of them.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from uuid import UUID

from django.db.models import Count, Sum
from django.db.models.functions import TruncDate

from . import counters, prompt_tally
from .models import Seat, SeatAccount, Team, UsageEvent
from .reports import team as _team
from .timebuckets import local_hour
from .windows import local_instant


def _span(first: date, last: date, team: Team) -> tuple[datetime, datetime]:
    """From the local midnight starting `first` to the one ending `last`, in the team's zone."""
    return local_instant(first, time(0), team.tz), local_instant(last + timedelta(days=1), time(0), team.tz)


def usage_days(
    *, first: date, last: date, seat_id=None, group_by: tuple[str, ...] = ("day", "seat_id", "family")
) -> list[dict]:
    """Turns, credits and tokens from local day `first` to `last` inclusive, grouped by `group_by`.

    Each row holds the `group_by` keys (day, seat_id, family) and the sums of `counters.DAY_TOTALS`.
    """
    team = _team()
    if counters.valid_for(team):
        return counters.day_totals(first=first, last=last, seat_id=seat_id, group_by=group_by)
    # The counters are being rebuilt for a new zone: the rows are slow at a million, but right.
    since, until = _span(first, last, team)
    rows = UsageEvent.objects.filter(occurred_at__gte=since, occurred_at__lt=until)
    if seat_id is not None:
        rows = rows.filter(seat_id=seat_id)
    if "day" in group_by:
        rows = rows.annotate(day=TruncDate("occurred_at", tzinfo=team.tz))
    sums = {"sum_turns": Count("id"), "sum_credits": Sum("credit_cost")}
    sums |= {f"sum_{name}": Sum(name) for name in counters.TOKEN_FIELDS}
    return [
        {**{key: row[key] for key in group_by}, **{n: int(row[f"sum_{n}"] or 0) for n in counters.DAY_TOTALS}}
        for row in rows.values(*group_by).annotate(**sums).order_by(*group_by)
    ]


@dataclass
class DailyUsage:
    days: list[date]
    turns: dict[str, list[int]] = field(default_factory=dict)  # family → per day
    credits: dict[str, list[int]] = field(default_factory=dict)


def daily_usage(*, days: int, now: datetime, seat_id=None) -> DailyUsage:
    """Turns and credits per local day and family over the last `days` days (one seat, or every seat)."""
    last = counters.window_day(now, _team().tz)
    result = DailyUsage([last - timedelta(days=days - 1 - i) for i in range(days)])
    index = {day: i for i, day in enumerate(result.days)}
    for row in usage_days(first=result.days[0], last=last, seat_id=seat_id, group_by=("day", "family")):
        position = index[row["day"]]
        result.turns.setdefault(row["family"], [0] * days)[position] = row["turns"]
        result.credits.setdefault(row["family"], [0] * days)[position] = row["credits"]
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
    slugs = dict(Seat.objects.values_list("pk", "slug"))
    rows = [
        UsageRow(
            r["day"], slugs.get(r["seat_id"], ""), r["family"], r["turns"], r["credits"],
            r["input_tokens"], r["output_tokens"],
        )
        for r in usage_days(first=start, last=end)
    ]
    return sorted(rows, key=lambda r: (r.day, r.seat, r.family))


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
class SeatTrend(PromptRates):
    seat_id: str
    seat: str
    prompts: int
    blocked: int
    sessions: int
    turns: int


@dataclass(frozen=True)
class Trends(PromptRates):
    peak_hours: list[int]  # prompts per local hour of day
    model_mix: dict[str, int]  # counted turns per family
    prompts: int
    blocked: int
    sessions: int
    per_seat: list[SeatTrend]  # every seat, whichever one the totals are for


def trends(*, first: date, last: date, now: datetime, seat_id: str | None = None) -> Trends:
    """Peak hours, model mix, block rate and prompts per session from local day `first` to `last`.

    The totals are one seat's, or the sum over seats; `per_seat` always lists every seat. Prompts, blocks
    and sessions come from the prompt tallies, turns from the usage counters: a few queries on a few
    thousand rows, whatever the range or the history.
    """
    team = _team()
    since, until = _span(first, last, team)
    found = prompt_tally.figures(since=since, until=until, now=now, seat_id=seat_id)
    turns = {str(r["seat_id"]): r["turns"] for r in usage_days(first=first, last=last, group_by=("seat_id",))}
    per_seat = []
    for pk, name in Seat.objects.order_by("name").values_list("pk", "name"):
        prompts, blocked, sessions = found.per_seat.get(str(pk), (0, 0, 0))
        per_seat.append(SeatTrend(str(pk), name, prompts, blocked, sessions, turns.get(str(pk), 0)))
    chosen = [t for t in per_seat if seat_id is None or t.seat_id == seat_id]
    peak = [0] * 24
    for quarter, prompts in found.per_quarter.items():
        peak[local_hour(quarter, team.tz)] += prompts
    by_family = usage_days(first=first, last=last, seat_id=seat_id, group_by=("family",))
    mix = {r["family"]: r["turns"] for r in by_family}
    return Trends(
        peak,
        dict(sorted(mix.items())),
        sum(t.prompts for t in chosen),
        sum(t.blocked for t in chosen),
        sum(t.sessions for t in chosen),
        per_seat,
    )


@dataclass(frozen=True)
class AccountSeat:
    seat_id: str
    seat: str
    turns: int
    credits: int
    input_tokens: int
    output_tokens: int
    cache_tokens: int  # cache creation + cache reads


def account_seats(account_id: int, *, first: date, last: date, limit: int = 10) -> list[AccountSeat]:
    """The seats that used a shared account most from local day `first` to `last`, most turns first.

    Only the days each seat was on the account count (its `SeatAccount` periods): one usage read per
    period that overlaps the range.
    """
    periods = SeatAccount.objects.filter(account_id=account_id, since__lte=last).exclude(until__lte=first)
    totals: dict[UUID, dict[str, int]] = {}
    for seat_id, since, until in periods.values_list("seat_id", "since", "until"):
        start, end = max(since, first), min(until - timedelta(days=1), last) if until else last
        for row in usage_days(first=start, last=end, seat_id=seat_id, group_by=("seat_id",)):
            kept = totals.setdefault(seat_id, dict.fromkeys(counters.DAY_TOTALS, 0))
            for name in counters.DAY_TOTALS:
                kept[name] += row[name]
    names = dict(Seat.objects.filter(pk__in=list(totals)).values_list("pk", "name"))
    ranked = sorted(totals.items(), key=lambda item: (-item[1]["turns"], names.get(item[0], "")))
    return [
        AccountSeat(
            str(seat_id),
            names.get(seat_id, ""),
            t["turns"],
            t["credits"],
            t["input_tokens"],
            t["output_tokens"],
            t["cache_creation_input_tokens"] + t["cache_read_input_tokens"],
        )
        for seat_id, t in ranked[:limit]
    ]
