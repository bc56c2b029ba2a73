"""Credit holds (contract §6.4): an admitted prompt reserves its price, so sessions cannot overspend."""

import time
from datetime import timedelta

from django.utils import timezone

from limiter.models import CreditHold, UsageEvent

from .conftest import HookApi, credits_rule, token_for


def check(api, session, model="opus"):
    return api.post("check", {"model": model, "session_id": session, "prompt_length": 10})


def count(api, session, model="opus"):
    return api.post("count", {"model": model, "session_id": session, "response_length": 10})


def test_an_allowed_check_reserves_its_price_for_the_other_sessions(live, alice):
    credits_rule(alice, "daily", 30)
    api = HookApi(live, token_for(alice))

    assert check(api, "A").json["allowed"] is True

    hold = CreditHold.objects.get(seat=alice)
    assert (hold.session_id, hold.family, hold.cost) == ("A", "opus", 10)
    assert timedelta(minutes=29) < hold.expires_at - timezone.now() <= timedelta(minutes=30)
    assert api.post("sync", {"session_id": "B"}).json["credit_balance"] == 20
    assert api.get("status").json["credit_balance"] == 20


def test_a_second_session_cannot_spend_the_last_credits(live, alice):
    credits_rule(alice, "daily", 10)
    api = HookApi(live, token_for(alice))

    assert check(api, "A").json["allowed"] is True
    denied = check(api, "B")
    assert denied.json["allowed"] is False
    assert "Used 0/10 credits (0 remaining).\nOpus costs 10 credits per prompt.\nResets " in (
        denied.json["reason"]
    )
    assert denied.json["resets_at"] is not None
    assert check(api, "B", model="haiku").json["allowed"] is False

    assert count(api, "A").json == {"recorded": True, "new_balance": 0}
    assert check(api, "B", model="haiku").json["allowed"] is False


def test_a_new_check_from_the_same_session_replaces_its_hold(live, alice):
    credits_rule(alice, "daily", 20)
    api = HookApi(live, token_for(alice))

    assert check(api, "A").json["allowed"] is True
    # The first turn was interrupted (no Stop, no count): the next prompt must not pay twice.
    assert check(api, "A").json["allowed"] is True
    assert CreditHold.objects.filter(seat=alice, session_id="A").count() == 1
    assert check(api, "B").json["allowed"] is True
    assert check(api, "C").json["allowed"] is False


def test_a_denied_check_releases_the_sessions_previous_hold(live, alice):
    credits_rule(alice, "daily", 10)
    api = HookApi(live, token_for(alice))
    assert check(api, "A").json["allowed"] is True
    assert check(api, "A", model="claude-opus-4-1").json["allowed"] is True
    api.post("count", {"model": "haiku", "session_id": "other"})
    assert check(api, "A").json["allowed"] is False
    assert not CreditHold.objects.filter(seat=alice).exists()


def test_counting_the_turn_consumes_its_hold_and_charges_once(live, alice):
    credits_rule(alice, "daily", 30)
    api = HookApi(live, token_for(alice))
    check(api, "A")
    check(api, "B")

    assert count(api, "A").json == {"recorded": True, "new_balance": 10}

    assert list(CreditHold.objects.filter(seat=alice).values_list("session_id", flat=True)) == ["B"]
    assert count(api, "B").json == {"recorded": True, "new_balance": 10}
    assert not CreditHold.objects.filter(seat=alice).exists()


def test_a_turn_without_a_hold_is_still_counted(live, alice):
    credits_rule(alice, "daily", 30)
    api = HookApi(live, token_for(alice))
    assert count(api, "offline-session").json == {"recorded": True, "new_balance": 20}
    assert UsageEvent.objects.get(seat=alice).credit_cost == 10


def test_holds_expire_and_free_the_budget(live, alice):
    alice.team.hold_ttl_seconds = 1
    alice.team.save()
    credits_rule(alice, "daily", 10)
    api = HookApi(live, token_for(alice))
    assert check(api, "A").json["allowed"] is True
    assert check(api, "B").json["allowed"] is False

    time.sleep(1.1)

    assert check(api, "B").json["allowed"] is True
    # A's turn finally reports in after its hold expired: still counted, at the price fixed now.
    assert count(api, "A").json == {"recorded": True, "new_balance": 0}


def test_free_families_and_unlimited_budgets_hold_nothing(live, alice):
    alice.team.credit_weights = {"opus": 10, "haiku": 0}
    alice.team.save()
    credits_rule(alice, "daily", 0)
    api = HookApi(live, token_for(alice))
    assert check(api, "A", model="haiku").json["allowed"] is True
    assert check(api, "B", model="opus").json["allowed"] is False
    assert not CreditHold.objects.exists()


def test_no_hold_without_a_credits_rule(live, alice):
    api = HookApi(live, token_for(alice))
    assert check(api, "A").json["allowed"] is True
    assert not CreditHold.objects.exists()


def test_unlimited_credit_budget_holds_nothing(live, alice):
    credits_rule(alice, "daily", -1)
    api = HookApi(live, token_for(alice))
    reply = check(api, "A")
    assert reply.json["allowed"] is True
    assert (reply.json["credit_balance"], reply.json["credit_budget"]) == (None, None)
    assert not CreditHold.objects.exists()


def test_holds_of_other_seats_do_not_count(live, alice, make_seat):
    bob = make_seat("bob")
    credits_rule(alice, "daily", 10)
    credits_rule(bob, "daily", 10)
    assert check(HookApi(live, token_for(bob)), "A").json["allowed"] is True
    assert check(HookApi(live, token_for(alice)), "A").json["allowed"] is True
