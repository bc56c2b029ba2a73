"""Where a counted turn lands in time (contract §3.4): receipt time, except recent offline replays."""

import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from limiter.admission import placement
from limiter.api.presenters import iso
from limiter.models import UsageEvent

from .conftest import HookApi, credits_rule, per_model, silent_machine, token_for

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 11, 22, 1, 42, 29, tzinfo=UTC)


SILENT = (NOW - timedelta(days=3), NOW - timedelta(hours=1))
LONG_SILENT = (NOW - timedelta(days=10), NOW)


@pytest.mark.parametrize(
    ("client_time", "has_event_id", "silence", "admitted_at", "placed_at"),
    [
        (NOW - timedelta(days=1), True, SILENT, None, NOW - timedelta(days=1)),
        (SILENT[0], True, SILENT, None, SILENT[0]),
        (SILENT[1], True, SILENT, None, SILENT[1]),
        (SILENT[0] - timedelta(microseconds=1), True, SILENT, None, NOW),
        (NOW - timedelta(minutes=30), True, SILENT, None, NOW),
        (NOW - timedelta(days=7), True, LONG_SILENT, None, NOW - timedelta(days=7)),
        (NOW - timedelta(days=7, microseconds=1), True, LONG_SILENT, None, NOW),
        (NOW + timedelta(days=365), True, LONG_SILENT, None, NOW),
        (NOW - timedelta(days=1), True, None, None, NOW),
        (NOW - timedelta(days=1), False, SILENT, None, NOW),
        (None, True, SILENT, None, NOW),
        (NOW - timedelta(days=1), True, SILENT, NOW - timedelta(minutes=5), NOW - timedelta(minutes=5)),
        (NOW, True, None, NOW - timedelta(minutes=5), NOW - timedelta(minutes=5)),
    ],
    ids=[
        "replay-inside-the-silence-placed-then",
        "replay-at-the-silence-start",
        "replay-at-the-silence-end",
        "replay-before-the-silence-receipt",
        "replay-after-the-machine-was-heard-again-receipt",
        "replay-exactly-7-days-placed-then",
        "replay-older-than-7-days-receipt",
        "replay-in-the-future-receipt",
        "replay-from-a-machine-never-silent-receipt",
        "no-event-id-receipt",
        "no-timestamp-receipt",
        "admitted-turn-at-its-check-whatever-the-client-says",
        "admitted-turn-at-its-check",
    ],
)
def test_placement_rule(client_time, has_event_id, silence, admitted_at, placed_at):
    placed = placement(
        received_at=NOW,
        client_time=client_time,
        has_event_id=has_event_id,
        admitted_at=admitted_at,
        silence=silence,
    )
    assert placed == placed_at


def yesterday_noon() -> datetime:
    today = timezone.now().astimezone(BERLIN).date()
    return datetime.combine(today - timedelta(days=1), datetime.min.time().replace(hour=12), BERLIN)


def count(api, timestamp: str, event_id: str | None = None):
    body = {"model": "opus", "timestamp": timestamp, "session_id": "s1", "response_length": 5}
    if event_id:
        body["event_id"] = event_id
    reply = api.post("count", body)
    assert reply.status == 200, reply.text
    return UsageEvent.objects.get(event_id=event_id) if event_id else UsageEvent.objects.latest("pk")


def test_an_offline_replay_from_yesterday_is_charged_to_yesterday(live, alice):
    per_model(alice, "opus", "daily", 1)
    api = HookApi(live, silent_machine(alice))
    made_at = yesterday_noon()

    event = count(api, iso(made_at), str(uuid.uuid4()))

    assert event.occurred_at == made_at
    assert event.client_timestamp == iso(made_at)
    assert api.post("check", {"model": "opus", "session_id": "s2"}).json["allowed"] is True
    assert api.post("sync", {}).json["usage"]["opus"] == 0


def test_a_backdated_count_without_event_id_counts_now(live, alice):
    per_model(alice, "opus", "daily", 1)
    api = HookApi(live, token_for(alice))
    before = timezone.now()

    event = count(api, iso(yesterday_noon()))

    assert before <= event.occurred_at <= timezone.now()
    assert event.received_at == event.occurred_at
    assert api.post("check", {"model": "opus", "session_id": "s2"}).json["allowed"] is False


def test_a_future_timestamp_is_clamped_to_receipt_time(live, alice):
    api = HookApi(live, token_for(alice))
    before = timezone.now()
    future = iso(before + timedelta(days=30))

    event = count(api, future, str(uuid.uuid4()))

    assert before <= event.occurred_at <= timezone.now()
    assert event.client_timestamp == future
    # v1 counted future-dated turns forever; here it leaves the sliding window like any other turn.
    assert event.occurred_at < before + timedelta(minutes=1)


@pytest.mark.parametrize(
    "timestamp",
    ["2019-01-01T00:00:00.000Z", "yesterday", "2026-02-30T10:00:00Z", ""],
    ids=["older-than-7-days", "not-a-time", "impossible-date", "empty"],
)
def test_a_replay_without_a_usable_recent_timestamp_counts_at_receipt(live, alice, timestamp):
    api = HookApi(live, token_for(alice))
    before = timezone.now()
    event = count(api, timestamp, str(uuid.uuid4()))
    assert before <= event.occurred_at <= timezone.now()
    assert event.client_timestamp == timestamp


def test_a_replay_timestamp_without_a_zone_is_read_as_utc(live, alice):
    api = HookApi(live, silent_machine(alice))
    made_at = (timezone.now() - timedelta(hours=3)).replace(microsecond=0)
    event = count(api, made_at.astimezone(UTC).replace(tzinfo=None).isoformat(), str(uuid.uuid4()))
    assert event.occurred_at == made_at


def test_a_replay_timestamp_with_an_offset_is_placed_at_that_instant(live, alice):
    api = HookApi(live, silent_machine(alice))
    made_at = (timezone.now() - timedelta(days=2)).replace(microsecond=0)
    event = count(api, made_at.astimezone(ZoneInfo("Asia/Kolkata")).isoformat(), str(uuid.uuid4()))
    assert event.occurred_at == made_at


def test_a_sliding_cap_frees_up_when_the_oldest_replayed_turn_is_24_hours_old(live, alice):
    per_model(alice, "opus", "sliding_24h", 2)
    api = HookApi(live, silent_machine(alice))
    now = timezone.now().replace(microsecond=0)
    oldest = now - timedelta(hours=23)
    for made_at in (now - timedelta(hours=25), oldest, now - timedelta(hours=1)):
        count(api, iso(made_at), str(uuid.uuid4()))

    denied = api.post("check", {"model": "opus", "session_id": "s2"}).json

    assert denied["allowed"] is False
    assert denied["resets_at"] == iso(oldest + timedelta(hours=24))
    local_reset = (oldest + timedelta(hours=24)).astimezone(BERLIN)
    assert denied["reason"] == (
        "Sliding 24-hour opus limit reached for Alice.\nUsed 2/2 prompts.\n"
        f"Resets {local_reset:%Y-%m-%d %H:%M} (Europe/Berlin).\n\nSwitch to another model or try again later."
    )


def test_a_sliding_credit_budget_frees_up_when_enough_credits_age_out(live, alice):
    credits_rule(alice, "sliding_24h", 25)
    api = HookApi(live, silent_machine(alice))
    now = timezone.now().replace(microsecond=0)
    for hours_ago, model in ((20, "opus"), (10, "sonnet"), (2, "opus")):
        made_at = iso(now - timedelta(hours=hours_ago))
        body = {"model": model, "event_id": str(uuid.uuid4()), "timestamp": made_at}
        assert api.post("count", body).status == 200

    opus = api.post("check", {"model": "opus", "session_id": "s2"}).json
    haiku = api.post("check", {"model": "haiku", "session_id": "s3"}).json

    # 23 of 25 used: opus (10) must wait until the 10-credit turn of 20 hours ago leaves the window.
    assert (opus["allowed"], opus["resets_at"]) == (False, iso(now + timedelta(hours=4)))
    assert "Used 23/25 credits (2 remaining).\nOpus costs 10 credits per prompt." in opus["reason"]
    assert haiku["allowed"] is True
