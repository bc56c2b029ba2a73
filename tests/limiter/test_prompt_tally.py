"""The trends page's prompts, blocks, sessions and peak hours from the tallies equal a count of the rows."""

import uuid
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from limiter import history, prompt_tally, reports, services
from limiter.models import PromptTally, PromptTallyMark, Seat, SessionEvent, TalliedSession, Team
from limiter.windows import local_instant

NOW = datetime(2026, 3, 30, 9, 7, 30, tzinfo=UTC)  # the day after Berlin's switch to summer time
ZONES = ["UTC", "Europe/Berlin", "Asia/Kolkata", "Asia/Kathmandu", "America/Santiago"]

rows = st.lists(
    st.tuples(
        st.integers(0, 1),  # seat
        st.integers(0, 6 * 24 * 3600),  # seconds before NOW
        st.sampled_from(["a", "b", "c", "d"]),  # session
        st.booleans(),  # blocked
    ),
    max_size=40,
)


def _expected(seats, written, first: date, last: date, tz: ZoneInfo, seat_index=None) -> tuple:
    """Straight from the rows: prompts, blocks, sessions first prompted in the range, prompts per hour."""
    since = local_instant(first, datetime.min.time(), tz)
    until = local_instant(last + timedelta(days=1), datetime.min.time(), tz)
    chosen = [seats[seat_index]] if seat_index is not None else seats
    firsts: dict[tuple, datetime] = {}
    for seat, at, session, _ in written:
        firsts[(seat.pk, session)] = min(at, firsts.get((seat.pk, session), at))
    prompts = blocked = 0
    peak = [0] * 24
    for seat, at, _, was_blocked in written:
        if seat in chosen and since <= at < until:
            prompts += 1
            blocked += was_blocked
            peak[at.astimezone(tz).hour] += 1
    sessions = sum(
        1 for (pk, _), at in firsts.items() if pk in {s.pk for s in chosen} and since <= at < until
    )
    return prompts, blocked, sessions, peak


@pytest.mark.django_db
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(zone=st.sampled_from(ZONES), written=rows, days=st.integers(1, 6), data=st.data())
def test_tallied_trends_equal_a_count_of_the_rows(zone, written, days, data):
    # Examples share the test's database: start each from no rows and no tallies.
    for model in (PromptTallyMark, PromptTally, TalliedSession, SessionEvent, Seat, Team):
        model.objects.all().delete()
    team = Team.objects.create(timezone=zone)
    seats = [
        services.seat_create(slug=f"s{i}-{uuid.uuid4().hex[:8]}", name=f"S{i}", team=team) for i in (0, 1)
    ]
    made = []
    for seat_index, seconds_ago, session, blocked in written:
        at = NOW - timedelta(seconds=seconds_ago)
        seat = seats[seat_index]
        SessionEvent.objects.create(seat=seat, kind=SessionEvent.PROMPT, session_id=session, created_at=at)
        if blocked:
            SessionEvent.objects.create(
                seat=seat, kind=SessionEvent.BLOCKED, session_id=session, created_at=at
            )
        made.append((seat, at, session, blocked))
    # The tallies may have been caught up at any earlier moments: the answer must not depend on it.
    for hours_ago in sorted(data.draw(st.lists(st.integers(1, 150), max_size=3)), reverse=True):
        prompt_tally.catch_up(NOW - timedelta(hours=hours_ago))
    last = NOW.astimezone(team.tz).date()
    first = last - timedelta(days=days - 1)
    seat_index = data.draw(st.none() | st.sampled_from([0, 1]))

    found = history.trends(
        first=first, last=last, now=NOW, seat_id=str(seats[seat_index].pk) if seat_index is not None else None
    )

    assert (found.prompts, found.blocked, found.sessions, found.peak_hours) == _expected(
        seats, made, first, last, team.tz, seat_index
    )


@pytest.mark.django_db
def test_catching_up_twice_counts_each_prompt_once():
    seat = services.seat_create(slug="ada", name="Ada", team=Team.objects.create(timezone="UTC"))
    at = NOW - timedelta(hours=3)
    SessionEvent.objects.create(seat=seat, kind=SessionEvent.PROMPT, session_id="s", created_at=at)

    assert prompt_tally.catch_up(NOW) == 1
    assert prompt_tally.catch_up(NOW) == 0

    assert [(t.prompts, t.sessions) for t in PromptTally.objects.all()] == [(1, 1)]


@pytest.mark.django_db
def test_prompts_of_the_last_minutes_show_before_they_are_tallied():
    seat = services.seat_create(slug="ada", name="Ada", team=Team.objects.create(timezone="UTC"))
    SessionEvent.objects.create(seat=seat, kind=SessionEvent.PROMPT, session_id="s", created_at=NOW)

    found = history.trends(first=NOW.date(), last=NOW.date(), now=NOW)

    assert (found.prompts, found.sessions) == (1, 1) and not PromptTally.objects.exists()


@pytest.mark.django_db
def test_tallies_past_the_retention_are_dropped():
    seat = services.seat_create(slug="ada", name="Ada", team=Team.objects.create(timezone="UTC"))
    old = NOW - timedelta(days=40)
    SessionEvent.objects.create(seat=seat, kind=SessionEvent.PROMPT, session_id="s", created_at=old)
    prompt_tally.catch_up(NOW)
    assert PromptTally.objects.count() == 1

    prompt_tally.catch_up(NOW, retention_days=30)

    assert not PromptTally.objects.exists()


@pytest.mark.django_db
def test_block_episodes_find_blocks_both_tallied_and_too_recent_to_be():
    team = Team.objects.create(timezone="UTC")
    ada, bob, cem = (services.seat_create(slug=s, name=s.title(), team=team) for s in ("ada", "bob", "cem"))
    for seat, at in ((ada, NOW - timedelta(hours=5)), (bob, NOW), (cem, NOW - timedelta(days=9))):
        for kind in (SessionEvent.PROMPT, SessionEvent.BLOCKED):
            SessionEvent.objects.create(seat=seat, kind=kind, session_id="s", created_at=at, reason="limit")
    prompt_tally.catch_up(NOW)  # Ada's block is tallied, Bob's is not yet, Cem's is before the range

    episodes = reports.block_episodes(since=NOW - timedelta(days=7), now=NOW)

    assert [(e.subject, e.count) for e in episodes] == [("Ada", 1), ("Bob", 1)]
