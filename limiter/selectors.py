"""Reads for the hook API, the admin and other apps."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from django.db import connection
from django.db.models import Count, Q, Sum

from . import counters, engine
from .engine import RuleSpec, Usage
from .families import BUILTIN_FAMILIES, DEFAULT_FAMILY
from .models import CreditHold, Rule, Seat, SessionEvent, Team, UsageEvent
from .windows import DAILY, SLIDING_24H, SLIDING_SPAN, WINDOWS, window_bounds

REPORTED_FAMILIES = (*BUILTIN_FAMILIES, DEFAULT_FAMILY)


_RULES_CACHE: dict[tuple, list[RuleSpec]] = {}
_RULES_CACHE_LIMIT = 10_000


def effective_rules(seat: Seat) -> list[RuleSpec]:
    """The seat's rules plus the team defaults it does not override, in evaluation order.

    Cached per process under the seat's and team's rule versions, which every rule write bumps and the
    token lookup already reads: an edit is seen by the very next check, in every worker.
    """
    key = (seat.pk, seat.rules_version, seat.team_id, seat.team.rules_version)
    rules = _RULES_CACHE.get(key)
    if rules is None:
        if len(_RULES_CACHE) >= _RULES_CACHE_LIMIT:
            _RULES_CACHE.clear()
        rules = _merge_rules(seat, Rule.objects.filter(Q(seat_id=seat.pk) | Q(team_id=seat.team_id)))
        _RULES_CACHE[key] = rules
    return rules


def _merge_rules(seat: Seat, rows: Iterable[Rule]) -> list[RuleSpec]:
    own = [r for r in rows if r.seat_id == seat.pk]
    own_keys = {r.override_key() for r in own}
    inherited = [r for r in rows if r.team_id == seat.team_id and r.override_key() not in own_keys]
    kept = sorted([*own, *inherited], key=lambda r: (r.position, str(r.id)))
    return [r.spec() for r in kept]


def window_starts(team: Team, now: datetime, windows: Iterable[str] = WINDOWS) -> dict[str, datetime]:
    return {w: window_bounds(w, now, team.tz)[0] for w in windows}


def _aggregated_usage(
    seat_ids: list, starts: dict[str, datetime]
) -> dict[object, tuple[dict[str, dict[str, int]], dict[str, int]]]:
    """Per seat: counts per window and family, credits per window; one aggregate query for all seats.

    Hand-written SQL because this runs on every /check and the ORM spends longer compiling the conditional
    aggregates than the database spends answering them. CASE WHEN works the same on SQLite and PostgreSQL.
    """
    windows = list(starts)
    table = UsageEvent._meta.db_table
    columns = ", ".join(
        "SUM(CASE WHEN occurred_at >= %s THEN 1 ELSE 0 END), "
        "SUM(CASE WHEN occurred_at >= %s THEN credit_cost ELSE 0 END)"
        for _ in windows
    )
    placeholders = ", ".join(["%s"] * len(seat_ids))
    sql = (
        f"SELECT seat_id, family, {columns} FROM {table} "  # noqa: S608 - only our own names are formatted in
        f"WHERE seat_id IN ({placeholders}) AND occurred_at >= %s GROUP BY seat_id, family"
    )
    field = UsageEvent._meta.get_field("occurred_at")
    seat_field = UsageEvent._meta.get_field("seat").target_field
    with connection.cursor() as cursor:
        bound = [field.get_db_prep_value(starts[w], connection) for w in windows for _ in (0, 1)]
        seats = [seat_field.get_db_prep_value(pk, connection) for pk in seat_ids]
        floor = field.get_db_prep_value(min(starts.values()), connection)
        cursor.execute(sql, [*bound, *seats, floor])
        rows = cursor.fetchall()
    by_db_key = {seat_field.get_db_prep_value(pk, connection): pk for pk in seat_ids}
    result: dict[object, tuple[dict[str, dict[str, int]], dict[str, int]]] = {
        pk: ({w: {} for w in windows}, dict.fromkeys(windows, 0)) for pk in seat_ids
    }
    for seat_key, family, *sums in rows:
        counts, credits = result[by_db_key.get(seat_key, seat_key)]
        for index, window in enumerate(windows):
            count, cost = sums[2 * index], sums[2 * index + 1]
            if count:
                counts[window][family] = int(count)
                credits[window] += int(cost or 0)
    return result


def seats_window_usage(
    seat_ids: list, team: Team, now: datetime, windows: Iterable[str]
) -> dict[object, tuple[dict[str, dict[str, int]], dict[str, int]]]:
    """`seat_usage`'s counts and credits for many seats at once (dashboard, "My seat").

    As for one seat: calendar windows from the usage counters, or from the rows while the counters are
    out of date for the team's zone; the sliding window from the last 24 hours' rows.
    """
    windows = set(windows)
    if not seat_ids:
        return {}
    if not counters.valid_for(team):
        return _aggregated_usage(seat_ids, window_starts(team, now, windows))
    result = counters.seats_calendar_usage(seat_ids, team, now, windows)
    if SLIDING_24H in windows:
        sliding = _aggregated_usage(seat_ids, window_starts(team, now, [SLIDING_24H]))
        for pk, (counts, credits) in sliding.items():
            result[pk][0][SLIDING_24H] = counts[SLIDING_24H]
            result[pk][1][SLIDING_24H] = credits[SLIDING_24H]
    return result


def _recent_turns(seat_id, now: datetime) -> list[engine.CountedTurn]:
    return [
        engine.CountedTurn(occurred_at=t, family=f, cost=c)
        for t, f, c in UsageEvent.objects.filter(seat_id=seat_id, occurred_at__gte=now - SLIDING_SPAN)
        .order_by("occurred_at")
        .values_list("occurred_at", "family", "credit_cost")
    ]


class RecentTurns(Sequence):
    """A seat's turns of the last 24 hours, read on first use.

    The engine needs them only to say when a sliding-window deny lifts; an allowed check never reads them.
    """

    def __init__(self, seat_id, now: datetime):
        self._seat_id, self._now = seat_id, now
        self._turns: list[engine.CountedTurn] | None = None

    def _loaded(self) -> list[engine.CountedTurn]:
        if self._turns is None:
            self._turns = _recent_turns(self._seat_id, self._now)
        return self._turns

    def __getitem__(self, index):
        return self._loaded()[index]

    def __len__(self) -> int:
        return len(self._loaded())

    def __iter__(self):
        return iter(self._loaded())


def seat_usage(
    seat: Seat,
    *,
    now: datetime,
    rules: Iterable[RuleSpec] = (),
    exclude_session: str | None = None,
    windows: Iterable[str] | None = None,
) -> Usage:
    """Counts and credits per window; recent turns only when a sliding rule needs them.

    Without `windows`, only today (always reported) and the windows the rules use are read. Calendar
    windows come from the usage counters (a few rows whatever the history), unless the counters are out
    of date for the team's zone, when the rows are aggregated instead.
    """
    rules = list(rules)
    if windows is None:
        windows = {DAILY, *(r.window for r in rules if r.window)}
    holds = _uses_holds(rules)
    if counters.valid_for(seat.team):
        counts, credits, held = counters.windows_usage(
            seat.pk, seat.team, now, windows, holds=holds, exclude_session=exclude_session
        )
        return _usage(seat.pk, rules, counts, credits, held, now)
    # Holds first, events second: a /count that commits in between (it inserts its event and drops its
    # hold in one transaction) is then seen twice, never not at all, so a race can only over-count.
    held = _open_holds(seat.pk, now, exclude_session) if holds else {}
    counts, credits = _aggregated_usage([seat.pk], window_starts(seat.team, now, windows))[seat.pk]
    return _usage(seat.pk, rules, counts, credits, held, now)


def _uses_holds(rules: Iterable[RuleSpec]) -> bool:
    return any(r.type in engine.COUNT_BASED and r.value != engine.UNLIMITED for r in rules)


def _open_holds(seat_id, now: datetime, exclude_session: str | None) -> dict[str, tuple[int, int]]:
    """Open holds per family: (turns, credits)."""
    holds = CreditHold.objects.filter(seat_id=seat_id, expires_at__gt=now)
    if exclude_session:
        holds = holds.exclude(session_id=exclude_session)
    return {
        family: (turns, cost or 0)
        for family, turns, cost in holds.values("family")
        .annotate(turns=Count("id"), cost=Sum("cost"))
        .values_list("family", "turns", "cost")
    }


def open_holds_by_seat(seat_ids: list, now: datetime) -> dict[object, dict[str, tuple[int, int]]]:
    """Open holds of many seats, per seat and family: (turns, credits)."""
    holds: dict[object, dict[str, tuple[int, int]]] = {}
    for seat_id, family, turns, cost in (
        CreditHold.objects.filter(seat_id__in=seat_ids, expires_at__gt=now)
        .values("seat_id", "family")
        .annotate(turns=Count("id"), cost=Sum("cost"))
        .values_list("seat_id", "family", "turns", "cost")
    ):
        holds.setdefault(seat_id, {})[family] = (turns, cost or 0)
    return holds


def _usage(seat_id, rules: list[RuleSpec], counts, credits, held, now: datetime) -> Usage:
    """A seat's Usage; its turns of the last 24 hours are read only if a sliding rule asks for them."""
    recent = RecentTurns(seat_id, now) if any(r.window == SLIDING_24H for r in rules) else ()
    return Usage(
        counts=counts,
        credits=credits,
        recent=recent,
        held_credits=sum(cost for _, cost in held.values()),
        held={family: turns for family, (turns, _) in held.items()},
    )


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
    return seats_overview([seat], now=now)[seat.pk]


def seats_overview(seats: list[Seat], *, now: datetime) -> dict[UUID, SeatOverview]:
    """Today's turns per family and the credit position of many seats in a fixed number of queries."""
    if not seats:
        return {}
    team = seats[0].team
    team_ids = {seat.team_id for seat in seats}
    all_rules = list(Rule.objects.filter(Q(seat__in=seats) | Q(team_id__in=team_ids)))
    merged = {seat.pk: _merge_rules(seat, all_rules) for seat in seats}
    windows = {DAILY, *(r.window for rules in merged.values() for r in rules if r.window)}
    usage_rows = seats_window_usage([seat.pk for seat in seats], team, now, windows)
    holds = open_holds_by_seat([seat.pk for seat in seats], now)
    overviews = {}
    for seat in seats:
        rules = merged[seat.pk]
        counts, credits = usage_rows[seat.pk]
        usage = _usage(seat.pk, rules, counts, credits, holds.get(seat.pk, {}), now)
        position = engine.tightest_credit_position(rules, usage)
        overviews[seat.pk] = SeatOverview(
            seat=seat,
            today=dict(counts.get(DAILY, {})),
            credit_balance=position.balance if position else None,
            credit_budget=position.budget if position else None,
        )
    return overviews


def seats_for_email(email: str) -> list[Seat]:
    """The seats linked to a person by email (case-insensitive); an empty address links none."""
    email = email.strip()
    if not email:
        return []
    return list(Seat.objects.select_related("team").filter(email__iexact=email).order_by("name"))


# --- the live feed's hook activity: the rows /sync, /check and /count write, read by id ----------------


@dataclass(frozen=True)
class HookActivity:
    """One hook API row as the live feed shows it. `stream` is "session" (SessionEvent) or "usage"."""

    stream: str
    id: int
    kind: str  # session_start | prompt | blocked | counted
    seat_id: object
    seat_name: str
    seat_status: str
    family: str
    at: datetime
    model_raw: str = ""
    reason: str = ""
    project_dir: str = ""
    session_id: str = ""
    credit_cost: int | None = None
    hostname: str = ""


FEED_SESSION_KINDS = (SessionEvent.SESSION_START, SessionEvent.PROMPT, SessionEvent.BLOCKED)


def session_activity(row: SessionEvent, seat: Seat, hostname: str = "") -> HookActivity:
    return HookActivity(
        stream="session", id=row.pk, kind=row.kind, seat_id=seat.pk, seat_name=seat.name,
        seat_status=seat.status, family=row.family, at=row.created_at, reason=row.reason,
        project_dir=row.project_dir, session_id=row.session_id, hostname=hostname,
    )


def usage_activity(row: UsageEvent, seat: Seat) -> HookActivity:
    return HookActivity(
        stream="usage", id=row.pk, kind="counted", seat_id=seat.pk, seat_name=seat.name,
        seat_status=seat.status, family=row.family, at=row.received_at, model_raw=row.model_raw,
        session_id=row.session_id, credit_cost=row.credit_cost,
    )


def session_activity_after(after_id: int, *, limit: int = 500) -> tuple[list[HookActivity], bool]:
    """Session starts, prompts and blocks with an id above `after_id`, oldest first; and whether more remain.

    A blocked prompt is two rows (prompt, then blocked): only the blocked one is shown. A full batch that ends
    on a prompt leaves it for the next batch, whose first row may be its block.
    """
    rows = list(
        SessionEvent.objects.filter(id__gt=after_id, kind__in=FEED_SESSION_KINDS)
        .select_related("seat", "device")
        .order_by("id")[:limit]
    )
    more = len(rows) == limit
    if more and rows[-1].kind == SessionEvent.PROMPT:
        rows.pop()
    blocked = {(r.seat_id, r.session_id, r.created_at) for r in rows if r.kind == SessionEvent.BLOCKED}
    activities = [
        session_activity(r, r.seat, r.device.hostname if r.device else "")
        for r in rows
        if not (r.kind == SessionEvent.PROMPT and (r.seat_id, r.session_id, r.created_at) in blocked)
    ]
    return activities, more


def counted_turns_after(after_id: int, *, limit: int = 500) -> list[HookActivity]:
    rows = UsageEvent.objects.filter(id__gt=after_id).select_related("seat").order_by("id")[:limit]
    return [usage_activity(r, r.seat) for r in rows]


def activity_heads() -> tuple[int, int]:
    """The highest session event and usage event ids (0 when empty): where a live feed starts."""
    session = SessionEvent.objects.order_by("-id").values_list("id", flat=True).first()
    usage = UsageEvent.objects.order_by("-id").values_list("id", flat=True).first()
    return session or 0, usage or 0
