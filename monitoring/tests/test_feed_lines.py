"""The feed's one-line texts for the limiter's and the alerts app's events, and the kind filter offering them.

The texts are built server-side (`monitoring.feed.describe`) for the page's first render; dashboard.js words
live rows the same way, which the browser test checks for the kinds it sees.
"""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from limiter import services, turns
from limiter.models import Team
from monitoring import eventlog, feed, pages
from monitoring.models import Event

pytestmark = pytest.mark.django_db

BERLIN = "Europe/Berlin"


@pytest.fixture
def carol():
    Team.objects.update_or_create(pk=1, defaults={"timezone": BERLIN})
    seat = services.seat_create(slug="carol", name="Carol")
    services.register(code=services.install_code_issue(seat=seat, by="root"), ip="127.0.0.1")
    return seat


def _token(seat):
    return seat.tokens.select_related("seat", "seat__team", "device").get()


def _turn(seat, now: datetime) -> None:
    turns.record_count(
        token=_token(seat),
        model="claude-opus-4",
        session_id="s1",
        response_length=40,
        event_id=None,
        client_timestamp="",
        client_time=None,
        usage=None,
        now=now,
    )


def _prompt(seat, now: datetime):
    return turns.decide_check(
        token=_token(seat),
        model="claude-opus-4",
        session_id="s1",
        project_dir="/src",
        prompt_length=5,
        ip="127.0.0.1",
        now=now,
    )


def _line(kind: str) -> str:
    event = Event.objects.filter(kind=kind).latest("id")
    with timezone.override(BERLIN):  # what TeamTimezoneMiddleware does for an admin page
        return feed.describe(feed.present_event(event))


def test_a_seat_blocked_by_its_model_limit_names_the_limit_and_the_reset_in_the_team_zone(carol):
    services.rule_add(owner=carol, type="per_model", model="opus", window="daily", value=5)
    now = timezone.now()
    for _ in range(5):
        _turn(carol, now)
    _prompt(carol, now)
    assert _line(eventlog.SEAT_BLOCKED) == "Carol blocked: opus 5/day reached (resets 00:00 Europe/Berlin)"


def test_a_seat_blocked_for_another_reason_shows_the_reasons_headline():
    message = feed.present_event(
        Event(
            id=1,
            kind=eventlog.SEAT_BLOCKED,
            at=timezone.now(),
            data={
                "seat": "Carol",
                "cause": "time_of_day",
                "reason": "Opus is only available 08:00 - 20:00.\nTry",
            },
        )
    )
    assert feed.describe(message) == "Carol blocked: Opus is only available 08:00 - 20:00"


def test_a_credit_budget_step_says_the_share_used(carol):
    services.rule_add(owner=carol, type="credits", window="daily", value=100)
    now = timezone.now()
    for _ in range(8):  # opus weighs 10 credits a turn
        _turn(carol, now)
    assert _line(eventlog.SEAT_CREDITS) == "Carol used 80% of the daily credit budget (80/100)"


def test_a_fired_alert_names_what_fired_where_it_goes_and_when_quiet_hours_hold_it():
    at = datetime(2026, 12, 7, 21, 0, tzinfo=UTC)
    event = Event(
        id=1,
        kind=eventlog.ALERT_FIRED,
        at=at,
        data={
            "alerts": [
                {"title": "team-max: 90% of 5-hour limit", "channels": [1, 2]},
                {"title": "team-max: 75% of weekly limit", "channels": [1]},
            ],
            "deferred_until": (at + timedelta(hours=10)).isoformat(),
        },
    )
    with timezone.override(BERLIN):
        line = feed.describe(feed.present_event(event))
    assert line == (
        "Alert fired: team-max: 90% of 5-hour limit (+1 more), to 2 channels, "
        "held for quiet hours until 08:00 Europe/Berlin"
    )


def test_the_feeds_kind_filter_offers_every_kind_the_event_log_writes():
    offered = {value for value, _ in pages.FEED_KINDS}
    written = {
        value
        for name, value in vars(eventlog).items()
        if name.isupper() and isinstance(value, str) and "." in value
    }
    assert written - {eventlog.SEAT_STATUS} <= offered  # status changes are filtered by their v1 names
    assert {"user_status_change", "user_killed"} <= offered


def test_a_fired_alert_without_titles_still_reads_as_a_sentence():
    event = Event(id=1, kind=eventlog.ALERT_FIRED, at=timezone.now(), data={"rule": "weekly 90%"})
    assert feed.describe(feed.present_event(event)) == "Alert fired"
