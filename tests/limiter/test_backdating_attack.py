"""Attack: a seat holder edits the time their client reports (clock_skew, the offline queue) so that turns
land in a window that has already closed. The server places a turn by what it saw itself."""

import uuid
from datetime import timedelta

from django.utils import timezone

from limiter.api.presenters import iso
from limiter.models import HookToken, UsageEvent

from .conftest import HookApi, per_model, silent_machine, token_for


def backdated_count(api, session: str, at, event_id: str | None = None) -> dict:
    body = {
        "model": "opus",
        "session_id": session,
        "timestamp": iso(at),
        "event_id": event_id or str(uuid.uuid4()),
        "response_length": 3,
    }
    reply = api.post("count", body)
    assert reply.status == 200, reply.text
    return reply.json


def test_backdated_counts_of_admitted_turns_stay_in_todays_window(live, alice):
    per_model(alice, "opus", "daily", 2)
    api = HookApi(live, token_for(alice))
    yesterday = timezone.now() - timedelta(days=1)

    admitted = 0
    for turn in range(4):
        if not api.post("check", {"model": "opus", "session_id": "s1", "prompt_length": 9}).json["allowed"]:
            break
        admitted += 1
        backdated_count(api, "s1", yesterday + timedelta(minutes=turn))

    assert admitted == 2
    status = api.get("status").json
    assert status["per_model"]["opus"]["daily"]["used"] == 2
    today = timezone.now() - timedelta(minutes=5)
    assert all(e.occurred_at > today for e in UsageEvent.objects.filter(seat=alice))


def test_a_replay_claiming_a_time_the_machine_was_online_counts_at_receipt(live, alice):
    per_model(alice, "opus", "daily", 1)
    api = HookApi(live, token_for(alice))
    api.post("sync", {"session_id": "s1"})
    before = timezone.now()

    # No /check admitted it and the server heard from this machine all along: the claim is not believed.
    backdated_count(api, "s2", before - timedelta(hours=20))

    event = UsageEvent.objects.get(seat=alice)
    assert event.occurred_at >= before
    assert api.post("check", {"model": "opus", "session_id": "s3"}).json["allowed"] is False


def test_a_replay_cannot_reach_back_before_the_machine_went_silent(live, alice):
    per_model(alice, "opus", "daily", 1)
    token = silent_machine(alice, since=timedelta(hours=3))
    api = HookApi(live, token)
    before = timezone.now()

    backdated_count(api, "s1", before - timedelta(hours=5))

    assert UsageEvent.objects.get(seat=alice).occurred_at >= before
    silence = HookToken.objects.get(seat=alice)
    assert silence.silent_until >= before
    assert silence.silent_from <= before - timedelta(hours=3) + timedelta(minutes=1)


def test_a_genuine_offline_turn_keeps_its_time_and_counts_exactly_once(live, alice):
    per_model(alice, "opus", "sliding_24h", 5)
    api = HookApi(live, silent_machine(alice, since=timedelta(hours=6)))
    made_at = (timezone.now() - timedelta(hours=2)).replace(microsecond=0)
    event_id = str(uuid.uuid4())

    first = backdated_count(api, "s1", made_at, event_id)
    again = backdated_count(api, "s1", made_at, event_id)

    assert "duplicate" not in first and again["duplicate"] is True
    assert UsageEvent.objects.get(seat=alice, event_id=event_id).occurred_at == made_at
    # The replay ended the silence; a later replay naming that same span is still believed.
    second = (timezone.now() - timedelta(hours=1)).replace(microsecond=0)
    backdated_count(api, "s2", second)
    assert UsageEvent.objects.filter(seat=alice, occurred_at=second).count() == 1


def test_a_count_left_over_from_an_admitted_turn_is_placed_at_its_check(live, alice):
    per_model(alice, "opus", "daily", 3)
    api = HookApi(live, silent_machine(alice, since=timedelta(days=2)))
    assert api.post("check", {"model": "opus", "session_id": "s1", "prompt_length": 1}).json["allowed"]
    checked = timezone.now()

    # The silence before that check does not let the turn's own count move into it.
    backdated_count(api, "s1", checked - timedelta(days=1))

    event = UsageEvent.objects.get(seat=alice)
    assert checked - timedelta(seconds=5) <= event.occurred_at <= checked
