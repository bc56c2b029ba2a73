"""The dashboard, trends and CSV figures read from the usage counters say exactly what the rows say."""

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from config.crypto import digest, new_token
from limiter import counters, history, reports, selectors, services
from limiter.models import HookToken, Seat, SessionEvent, Team
from limiter.token_lookup import token_holder
from limiter.turns import TokenUsage, record_count
from limiter.windows import WINDOWS

ZONES = ["UTC", "Europe/Berlin", "America/Santiago", "Asia/Kolkata", "Asia/Kathmandu", "Pacific/Chatham"]
NOW = datetime(2026, 10, 25, 1, 30, tzinfo=UTC)  # Berlin leaves summer time this night
MODELS = ["opus", "sonnet", "haiku", "gpt-x"]


def _seat_with_rules(team: Team, slug: str) -> HookToken:
    seat = services.seat_create(slug=slug, name=slug.title(), team=team)
    services.rule_add(owner=seat, type="per_model", model="opus", window="daily", value=5)
    services.rule_add(owner=seat, type="credits", window="weekly", value=500)
    services.rule_add(owner=seat, type="per_model", model="", window="monthly", value=-1)
    services.rule_add(owner=seat, type="credits", window="sliding_24h", value=300)
    token = new_token()
    HookToken.objects.create(seat=seat, token_hash=digest(token))
    return token_holder(digest(token))


def _count(holder: HookToken, model: str, at: datetime, tokens: int) -> None:
    record_count(
        token=holder,
        model=model,
        session_id="s",
        response_length=10,
        event_id=uuid.uuid4(),
        client_timestamp="",
        client_time=at,
        usage=TokenUsage(input_tokens=tokens, output_tokens=7),
        now=at,
    )


def _figures(team: Team) -> tuple:
    """Everything the pages show about usage, as plain values."""
    seats = list(Seat.objects.filter(team=team).select_related("team"))
    last = counters.window_day(NOW, team.tz)
    first = last - timedelta(days=20)
    trends = history.trends(first=first, last=last, now=NOW)
    return (
        selectors.seats_window_usage([s.pk for s in seats], Team.objects.get(pk=team.pk), NOW, WINDOWS),
        {pk: (o.today, o.credit_balance) for pk, o in selectors.seats_overview(seats, now=NOW).items()},
        reports.seat_cards(NOW),
        history.usage_per_seat_day(start=first, end=last),
        history.daily_usage(days=30, now=NOW, seat_id=seats[0].pk),
        (trends.model_mix, [t.turns for t in trends.per_seat]),
    )


@pytest.mark.django_db
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    zone=st.sampled_from(ZONES),
    turns=st.lists(
        st.tuples(
            st.integers(0, 1), st.integers(0, 40 * 24 * 60), st.sampled_from(MODELS), st.integers(0, 999)
        ),
        max_size=30,
    ),
)
def test_figures_from_the_counters_equal_the_figures_from_the_rows(zone, turns):
    # Examples share the test's database, and a deployment has one team: start each from none.
    for model in (HookToken, Seat, Team):
        model.objects.all().delete()
    team = Team.objects.create(timezone=zone, credit_weights={"opus": 10, "sonnet": 3, "haiku": 1})
    holders = [_seat_with_rules(team, f"s{i}-{uuid.uuid4().hex[:8]}") for i in range(2)]
    for who, minutes_ago, model, tokens in turns:
        _count(holders[who], model, NOW - timedelta(minutes=minutes_ago), tokens)
    assert counters.valid_for(Team.objects.get(pk=team.pk))
    from_counters = _figures(team)

    # Out of date for the zone, as after a zone change: every reader falls back to the rows.
    Team.objects.filter(pk=team.pk).update(counters_timezone="")
    assert _figures(team) == from_counters


@pytest.mark.django_db
@pytest.mark.parametrize(("zone", "hours"), [("Asia/Kolkata", (8, 8)), ("Asia/Kathmandu", (8, 9))])
def test_peak_hours_are_hours_of_the_team_zone_even_with_a_quarter_hour_offset(zone, hours):
    team = Team.objects.create(timezone=zone)
    seat = services.seat_create(slug="ada", name="Ada", team=team)
    # 03:10 and 03:20 UTC: 08:40 and 08:50 in Kolkata (+5:30) but 08:55 and 09:05 in Kathmandu (+5:45).
    for minute in (10, 20):
        SessionEvent.objects.create(
            seat=seat,
            kind=SessionEvent.PROMPT,
            session_id="s",
            created_at=datetime(2026, 3, 2, 3, minute, tzinfo=UTC),
        )
    found = history.trends(
        first=date(2026, 3, 2), last=date(2026, 3, 2), now=datetime(2026, 3, 3, tzinfo=UTC)
    )
    expected = [0] * 24
    for hour in hours:
        expected[hour] += 1
    assert found.peak_hours == expected


@pytest.mark.django_db
def test_the_seat_card_sparkline_counts_todays_turns_by_local_hour():
    team = Team.objects.create(timezone="America/New_York")
    holder = _seat_with_rules(team, "ada")
    now = datetime(2026, 6, 2, 20, 0, tzinfo=UTC)  # 16:00 in New York (-4)
    for at in (datetime(2026, 6, 2, 13, 5, tzinfo=UTC), datetime(2026, 6, 2, 13, 55, tzinfo=UTC)):
        _count(holder, "opus", at, 1)
    _count(holder, "opus", datetime(2026, 6, 2, 3, 0, tzinfo=UTC), 1)  # 23:00 yesterday, local

    (card,) = reports.seat_cards(now)

    assert card.hourly[9] == 2 and sum(card.hourly) == 2
    assert card.today == {"opus": 2}


@pytest.mark.django_db
def test_trend_totals_are_the_chosen_seat_or_the_sum_of_every_seat():
    team = Team.objects.create(timezone="UTC")
    ada = services.seat_create(slug="ada", name="Ada", team=team)
    bob = services.seat_create(slug="bob", name="Bob", team=team)
    at = datetime(2026, 3, 2, 12, tzinfo=UTC)
    for seat, session, kind in (
        (ada, "a1", SessionEvent.PROMPT),
        (ada, "a1", SessionEvent.PROMPT),
        (ada, "a2", SessionEvent.PROMPT),
        (bob, "b1", SessionEvent.PROMPT),
        (bob, "b1", SessionEvent.BLOCKED),
    ):
        SessionEvent.objects.create(seat=seat, kind=kind, session_id=session, created_at=at)
    day = date(2026, 3, 2)

    everyone = history.trends(first=day, last=day, now=at)
    only_bob = history.trends(first=day, last=day, now=at, seat_id=str(bob.pk))

    assert (everyone.prompts, everyone.blocked, everyone.sessions) == (4, 1, 3)
    assert (only_bob.prompts, only_bob.blocked, only_bob.sessions) == (1, 1, 1)
    assert [(t.seat, t.prompts, t.sessions) for t in only_bob.per_seat] == [("Ada", 3, 2), ("Bob", 1, 1)]
