"""Usage counters: per seat, local day and family, so a check reads a few rows instead of a month of events.

/count adds its turn to the counter in the same transaction as the usage row (one upsert, so concurrent
counts add up on both databases). Calendar windows (daily, weekly, monthly) start at a local midnight, so a
window is a whole number of local days and its totals are the sum of those days' counters. The sliding
24-hour window does not start at midnight: it is aggregated from the last day's rows (index range scan).

Counters are keyed by days of the team's zone. `Team.counters_timezone` names the zone they were built in;
when it differs from the team's zone (changed, or never built), readers aggregate the rows instead and
/count leaves the counters alone until `rebuild` recomputes them from the rows.
"""

from collections import defaultdict
from datetime import date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.db.models import Q, Sum

from .models import CreditHold, Team, UsageCounter, UsageEvent
from .windows import DAILY, MONTHLY, SLIDING_24H, SLIDING_SPAN, WEEKLY, local_instant

CALENDAR = (DAILY, WEEKLY, MONTHLY)
TOKEN_FIELDS = ("input_tokens", "output_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")


def window_day(moment: datetime, tz: ZoneInfo) -> date:
    """The local day whose calendar window holds `moment`: the D with start(D) <= moment < start(D + 1).

    Usually the local date; defined through `local_instant` so that it agrees with `window_bounds` even
    where a transition moves the clock back across midnight.
    """
    day = moment.astimezone(tz).date()
    if moment < local_instant(day, time(0), tz):
        return day - timedelta(days=1)
    if moment >= local_instant(day + timedelta(days=1), time(0), tz):
        return day + timedelta(days=1)
    return day


def first_days(now: datetime, tz: ZoneInfo) -> dict[str, date]:
    today = window_day(now, tz)
    return {DAILY: today, WEEKLY: today - timedelta(days=today.weekday()), MONTHLY: today.replace(day=1)}


def valid_for(team: Team) -> bool:
    return bool(team.counters_timezone) and team.counters_timezone == team.timezone


# --- write -----------------------------------------------------------------------------------------


@cache
def _upsert_sql() -> str:
    quote = connection.ops.quote_name
    table = quote(UsageCounter._meta.db_table)
    amounts = ("turns", "credits", *TOKEN_FIELDS)
    columns = ", ".join(quote(c) for c in ("seat_id", "day", "family", *amounts))
    added = ", ".join(f"{quote(c)} = {table}.{quote(c)} + excluded.{quote(c)}" for c in amounts)
    # The WHERE makes the increment conditional on the counters being kept in the zone the day was
    # computed in, read in this very statement; it also lets SQLite parse INSERT … SELECT … ON CONFLICT.
    return (
        f"INSERT INTO {table} ({columns}) "  # noqa: S608 - only model metadata is formatted in
        f"SELECT %s, %s, %s, %s, %s, %s, %s, %s, %s WHERE EXISTS (SELECT 1 FROM "
        f"{quote(Team._meta.db_table)} WHERE {quote('id')} = %s AND {quote('counters_timezone')} = %s) "
        f"ON CONFLICT ({quote('seat_id')}, {quote('day')}, {quote('family')}) DO UPDATE SET {added}"
    )


def add_turn(event: UsageEvent, team: Team) -> None:
    """Adds one freshly inserted usage row to its day's counter; call inside the row's transaction."""
    tokens = [getattr(event, name) or 0 for name in TOKEN_FIELDS]
    seat_id = UsageEvent._meta.get_field("seat").target_field.get_db_prep_value(event.seat_id, connection)
    day_field = UsageCounter._meta.get_field("day")

    def upsert(zone: str) -> int:
        day = day_field.get_db_prep_value(window_day(event.occurred_at, ZoneInfo(zone)), connection)
        with connection.cursor() as cursor:
            cursor.execute(
                _upsert_sql(), [seat_id, day, event.family, 1, event.credit_cost, *tokens, team.pk, zone]
            )
            return cursor.rowcount

    if upsert(team.timezone):
        return
    # The zone changed or a rebuild finished since the team was read: the database's word is final.
    current = Team.objects.filter(pk=team.pk).values_list("timezone", "counters_timezone").first()
    if current and current[0] == current[1] and current[0] != team.timezone:
        upsert(current[0])


# --- read ------------------------------------------------------------------------------------------


Held = dict[str, tuple[int, int]]


def windows_usage(
    seat_pk, team: Team, now: datetime, windows, *, holds: bool = False, exclude_session: str | None = None
) -> tuple[dict[str, dict[str, int]], dict[str, int], Held]:
    """Turns per window and family, credits per window, and (with `holds`) the open holds per family as
    (turns, credits), leaving out `exclude_session`'s own.

    One statement, so one snapshot: the counters of the days the calendar windows cover, the last 24 hours'
    rows aggregated per family (only when the sliding window is asked for), and the open holds. A /count
    that commits meanwhile (it adds its turn and drops its hold in one transaction) is seen whole or not.
    """
    windows = list(windows)
    calendar = [w for w in windows if w in CALENDAR]
    counts: dict[str, dict[str, int]] = {w: {} for w in windows}
    credits = dict.fromkeys(windows, 0)
    held: Held = {}
    firsts = first_days(now, team.tz)
    seat_id = UsageEvent._meta.get_field("seat").target_field.get_db_prep_value(seat_pk, connection)
    sql, params = [], []
    if calendar:
        floor = min(firsts[w] for w in calendar)
        sql.append(_counter_select())
        params += [seat_id, UsageCounter._meta.get_field("day").get_db_prep_value(floor, connection)]
    if SLIDING_24H in windows:
        sql.append(_sliding_select())
        occurred = UsageEvent._meta.get_field("occurred_at")
        params += [seat_id, occurred.get_db_prep_value(now - SLIDING_SPAN, connection)]
    if holds:
        sql.append(_holds_select(exclude_session is not None))
        expiry = CreditHold._meta.get_field("expires_at")
        params += [seat_id, expiry.get_db_prep_value(now, connection)]
        params += [exclude_session] if exclude_session is not None else []
    if not sql:
        return counts, credits, held
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(sql), params)
        rows = cursor.fetchall()
    for source, day, family, turns, cost in rows:
        if source == HOLDS:
            held[family] = (int(turns), int(cost or 0))
            continue
        if source == SLIDING:
            targets = [SLIDING_24H]
        else:
            day = date.fromisoformat(day) if isinstance(day, str) else day
            targets = [w for w in calendar if day >= firsts[w]]
        for window in targets:
            counts[window][family] = counts[window].get(family, 0) + int(turns)
            credits[window] += int(cost or 0)
    return counts, credits, held


# Which branch of windows_usage's statement a row comes from.
COUNTERS, SLIDING, HOLDS = 1, 2, 3


@cache
def _counter_select() -> str:
    quote = connection.ops.quote_name
    return (
        f"SELECT {COUNTERS}, {quote('day')}, {quote('family')}, {quote('turns')}, {quote('credits')} "  # noqa: S608
        f"FROM {quote(UsageCounter._meta.db_table)} WHERE {quote('seat_id')} = %s AND {quote('day')} >= %s"
    )


@cache
def _sliding_select() -> str:
    quote = connection.ops.quote_name
    # CAST keeps the UNION's second column a date on PostgreSQL, where a bare NULL would be text.
    return (
        f"SELECT {SLIDING}, CAST(NULL AS DATE), {quote('family')}, COUNT(*), "  # noqa: S608
        f"SUM({quote('credit_cost')}) FROM {quote(UsageEvent._meta.db_table)} WHERE {quote('seat_id')} = %s "
        f"AND {quote('occurred_at')} >= %s GROUP BY {quote('family')}"
    )


@cache
def _holds_select(excluding: bool) -> str:
    quote = connection.ops.quote_name
    table = quote(CreditHold._meta.db_table)
    return (
        f"SELECT {HOLDS}, CAST(NULL AS DATE), {quote('family')}, COUNT(*), SUM({quote('cost')}) "  # noqa: S608
        f"FROM {table} WHERE {quote('seat_id')} = %s AND {quote('expires_at')} > %s "
        + (f"AND {quote('session_id')} <> %s " if excluding else "")
        + f"GROUP BY {quote('family')}"
    )


# --- read for reports: many seats, whole days -----------------------------------------------------


def seats_calendar_usage(
    seat_pks: list, team: Team, now: datetime, windows
) -> dict[object, tuple[dict[str, dict[str, int]], dict[str, int]]]:
    """Per seat: turns per calendar window and family, credits per window; one grouped counter query.

    The dashboard's counterpart of `windows_usage` (one seat, hot path); only calendar windows, since the
    caller reads the sliding one from rows. Only valid while `valid_for(team)`.
    """
    calendar = [w for w in windows if w in CALENDAR]
    result: dict[object, tuple[dict[str, dict[str, int]], dict[str, int]]] = {
        pk: ({w: {} for w in calendar}, dict.fromkeys(calendar, 0)) for pk in seat_pks
    }
    if not calendar or not seat_pks:
        return result
    firsts = first_days(now, team.tz)
    sums = {}
    for window in calendar:
        sums[f"turns_{window}"] = Sum("turns", filter=Q(day__gte=firsts[window]))
        sums[f"credits_{window}"] = Sum("credits", filter=Q(day__gte=firsts[window]))
    rows = (
        UsageCounter.objects.filter(seat_id__in=seat_pks, day__gte=min(firsts[w] for w in calendar))
        .values("seat_id", "family")
        .annotate(**sums)
    )
    for found in rows:
        row: dict = dict(found)  # keys made from the window names, which the stubs cannot type
        counts, credits = result[row["seat_id"]]
        for window in calendar:
            if row[f"turns_{window}"]:
                counts[window][row["family"]] = int(row[f"turns_{window}"])
                credits[window] += int(row[f"credits_{window}"] or 0)
    return result


DAY_TOTALS = ("turns", "credits", *TOKEN_FIELDS)


def day_totals(
    *, first: date, last: date, seat_id=None, group_by: tuple[str, ...] = ("day", "seat_id", "family")
) -> list[dict]:
    """Counter sums from local day `first` to `last` inclusive, grouped by any of day, seat and family.

    What the trends, the CSV export and the seat page's 30 days read instead of the rows.
    """
    rows = UsageCounter.objects.filter(day__gte=first, day__lte=last)
    if seat_id is not None:
        rows = rows.filter(seat_id=seat_id)
    # Summed under other names: an annotation may not shadow the model's own field.
    summed = rows.values(*group_by).annotate(**{f"sum_{n}": Sum(n) for n in DAY_TOTALS}).order_by(*group_by)
    return [
        {**{key: row[key] for key in group_by}, **{n: int(row[f"sum_{n}"] or 0) for n in DAY_TOTALS}}
        for row in summed
    ]


# --- rebuild ---------------------------------------------------------------------------------------


def rebuild(team: Team) -> int:
    """Recomputes a team's counters from its usage rows in the team's zone; returns how many were written.

    Holds off concurrent /counts for its duration (a table lock on PostgreSQL, the write lock SQLite's
    immediate transactions take), so no turn lands between the aggregate and the switch to the new zone.
    """
    with transaction.atomic():
        if connection.vendor == "postgresql":
            table = connection.ops.quote_name(UsageEvent._meta.db_table)
            with connection.cursor() as cursor:
                cursor.execute(f"LOCK TABLE {table} IN SHARE MODE")
        team = Team.objects.select_for_update().get(pk=team.pk)
        tz = team.tz
        UsageCounter.objects.filter(seat__team=team).delete()
        totals: dict[tuple, list[int]] = defaultdict(lambda: [0] * (2 + len(TOKEN_FIELDS)))
        rows = UsageEvent.objects.filter(seat__team=team).values_list(
            "seat_id", "occurred_at", "family", "credit_cost", *TOKEN_FIELDS
        )
        for seat_id, occurred_at, family, cost, *tokens in rows.iterator(chunk_size=5000):
            total = totals[(seat_id, window_day(occurred_at, tz), family)]
            total[0] += 1
            total[1] += cost
            for index, amount in enumerate(tokens, start=2):
                total[index] += amount or 0
        UsageCounter.objects.bulk_create(
            (
                UsageCounter(
                    seat_id=seat_id,
                    day=day,
                    family=family,
                    turns=total[0],
                    credits=total[1],
                    **dict(zip(TOKEN_FIELDS, total[2:], strict=True)),
                )
                for (seat_id, day, family), total in totals.items()
            ),
            batch_size=2000,
        )
        Team.objects.filter(pk=team.pk).update(counters_timezone=team.timezone)
    return len(totals)


def prune_before(team: Team, day: date) -> None:
    UsageCounter.objects.filter(seat__team=team, day__lt=day).delete()


def stale_teams() -> list[Team]:
    """Teams whose counters are not kept in their zone: new since the counters came, or zone changed."""
    return [team for team in Team.objects.order_by("pk") if not valid_for(team)]
