"""Prompts, blocks and sessions per seat and UTC quarter-hour, rolled up from the session rows.

The trends page asks for prompts per hour of day, block rate and prompts per session over weeks; at a
million rows that is a scan per question. A session row is written at the server's clock (`created_at` is
the /check's `now`) and commits within the request's deadline, so once a quarter-hour is older than
`SETTLE` its rows are final: `catch_up` rolls them into `PromptTally` once, and the page sums the tallies
plus the few rows after `PromptTallyMark.until`, read directly.

"Sessions" are the sessions whose first prompt falls in the range (`TalliedSession` remembers which were
counted), so they add up across quarter-hours; a session that began before the range and goes on in it
adds prompts to the range but not a session.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.db import transaction
from django.db.models import Count, Exists, Min, OuterRef, Q, Sum

from .models import PromptTally, PromptTallyMark, Seat, SessionEvent, TalliedSession
from .timebuckets import QUARTER_SECONDS, QuarterHour

SETTLE = timedelta(minutes=2)
SPAN = timedelta(days=1)  # rolled per transaction, so a first catch-up over months never holds a long lock
LOOKUP_CHUNK = 2000  # session ids per IN list (SQLite's limit on parameters)
KINDS = (SessionEvent.PROMPT, SessionEvent.BLOCKED)


def quarter_of(moment: datetime) -> int:
    return int(moment.timestamp()) // QUARTER_SECONDS


def quarter_start(quarter: int) -> datetime:
    return datetime.fromtimestamp(quarter * QUARTER_SECONDS, UTC)


def _mark(now: datetime) -> datetime:
    """Where the tallies end; the first call starts them at the quarter-hour of the oldest session row."""
    mark = PromptTallyMark.objects.filter(pk=1).values_list("until", flat=True).first()
    if mark is not None:
        return mark
    oldest = SessionEvent.objects.order_by("created_at").values_list("created_at", flat=True).first()
    start = quarter_start(quarter_of(oldest or now))
    return PromptTallyMark.objects.get_or_create(pk=1, defaults={"until": start})[0].until


def catch_up(now: datetime, *, retention_days: int | None = None) -> int:
    """Rolls every whole quarter-hour older than SETTLE into the tallies; returns how many tallies it wrote.

    Of two processes catching up at once, only the one whose conditional UPDATE moves the mark rolls a
    span; the other finds the mark moved and stops. With `retention_days`, tallies past it are dropped too.
    """
    cutoff = quarter_start(quarter_of(now - SETTLE))
    written = 0
    while (start := _mark(now)) < cutoff:
        end = min(start + SPAN, cutoff)
        with transaction.atomic():
            if not PromptTallyMark.objects.filter(pk=1, until=start).update(until=end):
                break
            written += _roll(start, end)
    if retention_days is not None:
        oldest_kept = now - timedelta(days=retention_days)
        PromptTally.objects.filter(quarter__lt=quarter_of(oldest_kept)).delete()
        TalliedSession.objects.filter(first_at__lt=oldest_kept).delete()
    return written


def _rows(since: datetime, until: datetime):
    """Prompt and block rows in [since, until), found through the (seat, created_at) index.

    Naming every seat turns a scan of the whole table (there is no index on the time alone, and /check
    should not pay for one) into one short index range per seat.
    """
    return SessionEvent.objects.filter(
        seat_id__in=list(Seat.objects.values_list("pk", flat=True)),
        created_at__gte=since,
        created_at__lt=until,
        kind__in=KINDS,
    )


def _roll(start: datetime, end: datetime) -> int:
    rows = _rows(start, end)
    tallies: dict[tuple, list[int]] = defaultdict(lambda: [0, 0, 0])
    for seat_id, quarter, prompts, blocked in (
        rows.annotate(quarter=QuarterHour("created_at"))
        .values("seat_id", "quarter")
        .annotate(
            prompts=Count("id", filter=Q(kind=SessionEvent.PROMPT)),
            blocked=Count("id", filter=Q(kind=SessionEvent.BLOCKED)),
        )
        .values_list("seat_id", "quarter", "prompts", "blocked")
    ):
        tallies[(seat_id, quarter)][:2] = [prompts, blocked]
    firsts = {
        (seat_id, session): first
        for seat_id, session, first in rows.filter(kind=SessionEvent.PROMPT)
        .values("seat_id", "session_id")
        .annotate(first=Min("created_at"))
        .values_list("seat_id", "session_id", "first")
    }
    known = _already_tallied(list(firsts))
    fresh = [key for key in firsts if key not in known]
    TalliedSession.objects.bulk_create(
        [
            TalliedSession(seat_id=seat, session_id=session, first_at=firsts[(seat, session)])
            for seat, session in fresh
        ],
        batch_size=2000,
    )
    for seat_id, session in fresh:
        tallies[(seat_id, quarter_of(firsts[(seat_id, session)]))][2] += 1
    PromptTally.objects.bulk_create(
        [
            PromptTally(seat_id=seat_id, quarter=quarter, prompts=p, blocked=b, sessions=s)
            for (seat_id, quarter), (p, b, s) in tallies.items()
        ],
        batch_size=2000,
    )
    return len(tallies)


def _already_tallied(keys: list[tuple]) -> set[tuple]:
    known: set[tuple] = set()
    for index in range(0, len(keys), LOOKUP_CHUNK):
        chunk = keys[index : index + LOOKUP_CHUNK]
        known |= set(
            TalliedSession.objects.filter(
                seat_id__in={seat for seat, _ in chunk}, session_id__in={session for _, session in chunk}
            ).values_list("seat_id", "session_id")
        )
    return known


def seats_with_blocks(*, since: datetime, now: datetime) -> set:
    """Every seat with a blocked prompt at or after `since` (or up to 15 minutes before).

    A block timeline then reads the rows of these seats only, through the (seat, created_at) index.
    """
    catch_up(now)
    mark = _mark(now)
    tallied = PromptTally.objects.filter(quarter__gte=quarter_of(since), blocked__gt=0)
    recent = SessionEvent.objects.filter(
        seat_id__in=list(Seat.objects.values_list("pk", flat=True)),
        created_at__gte=max(since, mark),
        kind=SessionEvent.BLOCKED,
    )
    return {*tallied.values_list("seat_id", flat=True), *recent.values_list("seat_id", flat=True)}


@dataclass
class PromptFigures:
    per_seat: dict[str, list[int]] = field(
        default_factory=dict
    )  # str(seat id) → [prompts, blocked, sessions]
    per_quarter: dict[int, int] = field(default_factory=dict)  # prompts per quarter-hour


def figures(*, since: datetime, until: datetime, now: datetime, seat_id=None) -> PromptFigures:
    """Prompts, blocks and new sessions per seat, and prompts per quarter-hour, in [since, until).

    `since` and `until` must fall on quarter-hours (local midnights do, in every zone). Catches up first, so
    only the last minutes' rows are read directly.
    """
    catch_up(now)
    mark = _mark(now)
    result = PromptFigures()
    per_seat: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    peak: dict[int, int] = defaultdict(int)
    low, high = quarter_of(since), min(quarter_of(until), quarter_of(mark))
    tallies = PromptTally.objects.filter(quarter__gte=low, quarter__lt=high)
    for seat, prompts, blocked, sessions in (
        tallies.values("seat_id")
        .annotate(p=Sum("prompts"), b=Sum("blocked"), s=Sum("sessions"))
        .values_list("seat_id", "p", "b", "s")
    ):
        per_seat[str(seat)] = [prompts, blocked, sessions]
    if seat_id is not None:
        tallies = tallies.filter(seat_id=seat_id)
    for quarter, prompts in tallies.values("quarter").annotate(p=Sum("prompts")).values_list("quarter", "p"):
        peak[quarter] += prompts
    if until > mark:
        _add_rows(max(since, mark), until, seat_id, per_seat, peak)
    result.per_seat, result.per_quarter = dict(per_seat), dict(peak)
    return result


def _add_rows(since: datetime, until: datetime, seat_id, per_seat: dict, peak: dict) -> None:
    """The untallied tail, from the rows: the same figures, the same meaning of a session."""
    rows = _rows(since, until)
    for seat, prompts, blocked in (
        rows.values("seat_id")
        .annotate(
            p=Count("id", filter=Q(kind=SessionEvent.PROMPT)),
            b=Count("id", filter=Q(kind=SessionEvent.BLOCKED)),
        )
        .values_list("seat_id", "p", "b")
    ):
        per_seat[str(seat)][0] += prompts
        per_seat[str(seat)][1] += blocked
    counted = TalliedSession.objects.filter(seat_id=OuterRef("seat_id"), session_id=OuterRef("session_id"))
    for seat, sessions in (
        rows.filter(kind=SessionEvent.PROMPT)
        .exclude(Exists(counted))
        .values("seat_id")
        .annotate(n=Count("session_id", distinct=True))
        .values_list("seat_id", "n")
    ):
        per_seat[str(seat)][2] += sessions
    prompts_only = rows.filter(kind=SessionEvent.PROMPT)
    if seat_id is not None:
        prompts_only = prompts_only.filter(seat_id=seat_id)
    for quarter, prompts in (
        prompts_only.annotate(quarter=QuarterHour("created_at"))
        .values("quarter")
        .annotate(n=Count("id"))
        .values_list("quarter", "n")
    ):
        peak[quarter] += prompts
