"""Attack: many sessions of one seat ask at the same instant, so each sees the cap not yet reached.

Every count-based rule reserves the admitted turn at /check (contract §6.4, extended to per-model caps), and
admissions of one seat are serialised, so the number of turns let through equals the cap exactly.
"""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from limiter.models import CreditHold, UsageEvent

from .conftest import HookApi, credits_rule, per_model, token_for

SESSIONS = 32


@pytest.fixture(autouse=True)
def patient_database(settings):
    # 32 sessions of one seat queue on its admission lock; on a shared 2-core test box the last of them can
    # wait past the API's 1.5 s database deadline and get a 503 (which the client treats as "unavailable",
    # never as admission). This test is about what is admitted, so the deadline is lifted here.
    settings.DATABASE_DEADLINE_API_SECONDS = 30.0


def race_sessions(api: HookApi, model: str, sessions: int = SESSIONS) -> int:
    """Every session loops check → count until denied; all start together. Returns the turns admitted."""
    start = threading.Barrier(sessions)

    def session(i: int) -> int:
        start.wait(timeout=30)
        admitted = 0
        while True:
            reply = api.post("check", {"model": model, "session_id": f"race-{i}", "prompt_length": 5})
            assert reply.status == 200, reply.text
            if not reply.json["allowed"]:
                return admitted
            admitted += 1
            counted = api.post("count", {"model": model, "session_id": f"race-{i}", "response_length": 5})
            assert counted.status == 200, counted.text

    with ThreadPoolExecutor(max_workers=sessions) as pool:
        return sum(pool.map(session, range(sessions)))


@pytest.mark.parametrize("model_in_rule", ["opus", None], ids=["per-model-cap", "all-models-cap"])
def test_thirty_two_racing_sessions_get_exactly_the_per_model_cap(live, alice, model_in_rule):
    per_model(alice, model_in_rule, "daily", 5)
    api = HookApi(live, token_for(alice))

    admitted = race_sessions(api, "claude-opus-4-1")

    assert admitted == 5
    assert UsageEvent.objects.filter(seat=alice).count() == 5
    assert not CreditHold.objects.filter(seat=alice).exists()
    assert api.get("status").json["per_model"][model_in_rule or "all"]["daily"]["used"] == 5


def test_thirty_two_racing_sessions_never_spend_past_the_credit_budget(live, alice):
    credits_rule(alice, "daily", 50)
    api = HookApi(live, token_for(alice))

    admitted = race_sessions(api, "opus")

    assert admitted == 5
    assert api.get("status").json["usage"]["daily"]["totalCredits"] == 50
    assert api.post("sync", {}).json["credit_balance"] == 0


def test_racing_sessions_are_held_to_the_tightest_of_several_caps(live, alice):
    per_model(alice, "sonnet", "weekly", 7)
    per_model(alice, None, "daily", 9)
    credits_rule(alice, "sliding_24h", 3 * 8)
    api = HookApi(live, token_for(alice))

    assert race_sessions(api, "sonnet") == 7
    assert UsageEvent.objects.filter(seat=alice, family="sonnet").count() == 7


def test_a_check_without_a_session_still_reserves_its_turn(live, alice):
    per_model(alice, "opus", "daily", 1)
    api = HookApi(live, token_for(alice))

    assert api.post("check", {"model": "opus", "prompt_length": 1}).json["allowed"] is True
    assert api.post("check", {"model": "opus", "prompt_length": 1}).json["allowed"] is False
    assert api.post("check", {"model": "opus", "session_id": "s1"}).json["allowed"] is False
    # Its count consumes that reservation, so the turn is charged once, not twice.
    api.post("count", {"model": "opus"})
    assert not CreditHold.objects.filter(seat=alice).exists()
    assert api.get("status").json["per_model"]["opus"]["daily"]["used"] == 1


def test_an_interrupted_turn_frees_its_reservation_for_the_same_session(live, alice):
    per_model(alice, "opus", "daily", 1)
    api = HookApi(live, token_for(alice))

    assert api.post("check", {"model": "opus", "session_id": "s1"}).json["allowed"] is True
    # No count came (Esc before Stop): the session's next prompt replaces its own hold, not stacks on it.
    assert api.post("check", {"model": "opus", "session_id": "s1"}).json["allowed"] is True
    assert api.post("check", {"model": "opus", "session_id": "s2"}).json["allowed"] is False
    assert CreditHold.objects.filter(seat=alice).count() == 1
