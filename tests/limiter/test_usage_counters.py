"""The per-day usage counters always equal the aggregate of the usage rows they stand for."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from config.crypto import digest, new_token
from limiter import counters, selectors, services
from limiter.models import HookToken, Seat, Team, UsageCounter, UsageEvent
from limiter.token_lookup import token_holder
from limiter.turns import TokenUsage, record_count
from limiter.windows import WINDOWS

# Zones with DST (incl. transitions at midnight: Santiago, Havana; half-hour DST: Lord Howe) and
# fractional offsets (Kolkata, Kathmandu, Chatham), plus UTC.
ZONES = [
    "UTC",
    "Europe/Berlin",
    "America/New_York",
    "America/Santiago",
    "America/Havana",
    "Australia/Lord_Howe",
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "Pacific/Chatham",
]
# Moments next to DST transitions of those zones in 2026 (and one month boundary).
ANCHORS = [
    datetime(2026, 3, 8, 7, tzinfo=UTC),
    datetime(2026, 3, 29, 1, tzinfo=UTC),
    datetime(2026, 4, 5, 3, tzinfo=UTC),
    datetime(2026, 9, 6, 4, tzinfo=UTC),
    datetime(2026, 10, 25, 1, tzinfo=UTC),
    datetime(2026, 11, 1, 6, tzinfo=UTC),
    datetime(2026, 12, 31, 23, tzinfo=UTC),
]
FAMILIES = ["claude-opus-4-1", "sonnet", "haiku", "gpt-x", "best"]

turns = st.lists(
    st.tuples(
        st.integers(-4 * 24 * 60, 4 * 24 * 60),  # minutes from the anchor: when /count arrives
        st.sampled_from(FAMILIES),
        st.none() | st.integers(0, 9),  # an event id out of a few, so replays happen
        st.integers(0, 8 * 24 * 60),  # how long before arrival the client says the turn happened
        st.none() | st.integers(0, 50_000),  # input tokens
    ),
    max_size=25,
)


def _holder(team: Team) -> HookToken:
    seat = services.seat_create(slug=f"s-{uuid.uuid4().hex[:10]}", name="Prop", team=team)
    token = new_token()
    HookToken.objects.create(seat=seat, token_hash=digest(token))
    return token_holder(digest(token))


def _count(holder: HookToken, model: str, event: int | None, at: datetime, before: int, tokens) -> None:
    record_count(
        token=holder,
        model=model,
        session_id="s",
        response_length=10,
        event_id=uuid.UUID(int=event + 1) if event is not None else None,
        client_timestamp="",
        client_time=at - timedelta(minutes=before),
        usage=TokenUsage(input_tokens=tokens, output_tokens=7) if tokens is not None else None,
        now=at,
    )


def assert_counters_match_rows(seat: Seat, moments: list[datetime]) -> None:
    seat = Seat.objects.select_related("team").get(pk=seat.pk)
    assert counters.valid_for(seat.team)
    for now in moments:
        from_counters = counters.windows_usage(seat.pk, seat.team, now, WINDOWS)[:2]
        starts = selectors.window_starts(seat.team, now)
        counts, credits = selectors._aggregated_usage([seat.pk], starts)[seat.pk]
        assert from_counters == (counts, credits), now
    # Tokens too, day by day.
    kept = {(c.day, c.family): c for c in UsageCounter.objects.filter(seat=seat)}
    assert sum(c.turns for c in kept.values()) == UsageEvent.objects.filter(seat=seat).count()
    for row in UsageEvent.objects.filter(seat=seat):
        assert (counters.window_day(row.occurred_at, seat.team.tz), row.family) in kept
    assert sum(c.input_tokens for c in kept.values()) == sum(
        e.input_tokens or 0 for e in UsageEvent.objects.filter(seat=seat)
    )


@pytest.mark.django_db
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(zone=st.sampled_from(ZONES), anchor=st.sampled_from(ANCHORS), history=turns, data=st.data())
def test_counters_equal_the_aggregate_of_the_rows_for_any_history(zone, anchor, history, data):
    team = Team.objects.create(timezone=zone, credit_weights={"opus": 10, "sonnet": 3, "haiku": 1})
    holder = _holder(team)
    for minutes, model, event, before, tokens in history:
        _count(holder, model, event, anchor + timedelta(minutes=minutes), before, tokens)
    moments = [
        anchor + timedelta(minutes=m) for m in data.draw(st.lists(st.integers(-6000, 9000), max_size=4))
    ]
    assert_counters_match_rows(holder.seat, [anchor, *moments])

    # A rebuild from the rows gives the very counters /count kept, in this zone and in another one.
    kept = set(UsageCounter.objects.filter(seat=holder.seat).values_list("day", "family", "turns", "credits"))
    counters.rebuild(team)
    assert kept == set(
        UsageCounter.objects.filter(seat=holder.seat).values_list("day", "family", "turns", "credits")
    )
    team.timezone = data.draw(st.sampled_from(ZONES))
    team.save()
    counters.rebuild(team)
    assert_counters_match_rows(holder.seat, [anchor, *moments])


def test_a_new_zone_sends_checks_to_the_rows_until_the_counters_are_rebuilt(alice):
    holder = token_holder(digest(_token(alice)))
    now = timezone.now()
    _count(holder, "opus", None, now, 0, None)
    team = alice.team
    team.timezone = "Pacific/Kiritimati" if team.timezone != "Pacific/Kiritimati" else "UTC"
    team.save()
    team.refresh_from_db()
    assert not counters.valid_for(team)
    # A count in between adds its row; the counters stay out of use and are not touched.
    _count(token_holder(digest(_token(alice))), "opus", None, now, 0, None)
    usage = selectors.seat_usage(Seat.objects.select_related("team").get(pk=alice.pk), now=now)
    assert usage.counts["daily"] == {"opus": 2}

    call_command("rebuild_usage_counters", "--stale-only", verbosity=0)

    assert_counters_match_rows(alice, [now])
    assert UsageCounter.objects.get(seat=alice).turns == 2


def test_pruning_drops_whole_days_so_counters_still_equal_rows(alice):
    holder = token_holder(digest(_token(alice)))
    now = timezone.now()
    for age in (95, 91, 90, 89, 0):
        _count(holder, "sonnet", None, now - timedelta(days=age, minutes=3), 0, 5)

    services.prune_old_events(now=now)

    assert_counters_match_rows(alice, [now, now - timedelta(days=80)])
    assert min(UsageCounter.objects.filter(seat=alice).values_list("day", flat=True)) == min(
        counters.window_day(e.occurred_at, alice.team.tz) for e in UsageEvent.objects.filter(seat=alice)
    )


def _token(seat: Seat) -> str:
    token = new_token()
    HookToken.objects.create(seat=seat, token_hash=digest(token))
    return token
