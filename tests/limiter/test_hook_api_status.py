"""GET /status and rule inheritance: what a user and the v1 installer see (contract §3.5, §4)."""

from datetime import timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone

from limiter.api.presenters import iso
from limiter.windows import window_bounds

from .conftest import HookApi, credits_rule, per_model, time_rule, token_for

BERLIN = ZoneInfo("Europe/Berlin")


def count(api, model, times=1):
    for _ in range(times):
        assert api.post("count", {"model": model}).status == 200


def test_status_reports_each_per_model_rule_and_every_window(live, alice):
    per_model(alice, "opus", "daily", 2)
    per_model(alice, None, "weekly", 5)
    per_model(alice, "sonnet", "monthly", -1)
    per_model(alice, "haiku", "sliding_24h", 3)
    api = HookApi(live, token_for(alice))
    count(api, "opus", 2)
    count(api, "claude-sonnet-4-5", 3)
    before = timezone.now()

    status = api.get("status").json

    after = timezone.now()
    assert status["user"] == {"id": str(alice.id), "name": "Alice", "slug": "alice", "status": "active"}
    assert status["credit_weights"] == {"opus": 10, "sonnet": 3, "haiku": 1}
    assert status["per_model"] == {
        "opus": {"daily": {"used": 2, "limit": 2, "remaining": 0}},
        # model null: the family closest to the cap (sonnet with 3), not the 5 turns combined.
        "all": {"weekly": {"used": 3, "limit": 5, "remaining": 2}},
        "sonnet": {"monthly": {"used": 3, "limit": -1, "remaining": None}},
        "haiku": {"sliding_24h": {"used": 0, "limit": 3, "remaining": 3}},
    }
    assert (status["credit_balance"], status["credit_budget"]) == (None, None)
    assert [rule["window"] for rule in status["limits"]] == ["daily", "weekly", "monthly", "sliding_24h"]
    for window in ("daily", "weekly", "monthly", "sliding_24h"):
        report = status["usage"][window]
        assert report["counts"] == {"opus": 2, "sonnet": 3, "haiku": 0, "default": 0}
        assert report["totalCredits"] == 2 * 10 + 3 * 3
    for window in ("daily", "weekly", "monthly"):
        starts = {iso(window_bounds(window, moment, BERLIN)[0]) for moment in (before, after)}
        assert status["usage"][window]["windowStart"] in starts
    sliding_start = status["usage"]["sliding_24h"]["windowStart"]
    assert iso(before - timedelta(hours=24)) <= sliding_start <= iso(after - timedelta(hours=24))


def test_status_windows_start_at_berlin_midnight(live, alice):
    status = HookApi(live, token_for(alice)).get("status").json
    for window in ("daily", "weekly", "monthly"):
        start = timezone.datetime.fromisoformat(status["usage"][window]["windowStart"]).astimezone(BERLIN)
        assert (start.hour, start.minute) == (0, 0)
    weekly = timezone.datetime.fromisoformat(status["usage"]["weekly"]["windowStart"]).astimezone(BERLIN)
    monthly = timezone.datetime.fromisoformat(status["usage"]["monthly"]["windowStart"]).astimezone(BERLIN)
    assert weekly.weekday() == 0
    assert monthly.day == 1


def test_credit_keys_are_present_and_null_without_a_credits_rule(live, alice):
    api = HookApi(live, token_for(alice))
    for reply in (api.get("status"), api.post("sync", {}), api.post("check", {"model": "opus"})):
        assert reply.json["credit_balance"] is None
        assert reply.json["credit_budget"] is None


def test_the_most_constraining_credits_rule_is_reported(live, alice):
    credits_rule(alice, "monthly", 100)
    credits_rule(alice, "weekly", -1)
    credits_rule(alice, "daily", 30)
    api = HookApi(live, token_for(alice))
    count(api, "opus", 2)

    assert (api.get("status").json["credit_balance"], api.get("status").json["credit_budget"]) == (10, 30)

    credits_rule(alice, "sliding_24h", 25)
    synced = api.post("sync", {}).json
    assert (synced["credit_balance"], synced["credit_budget"]) == (5, 25)


def test_equal_credit_balances_report_the_first_rule_in_order(live, alice):
    credits_rule(alice, "weekly", 40, position=2)
    credits_rule(alice, "daily", 30, position=1)
    credits_rule(alice, "monthly", 30, position=3)
    api = HookApi(live, token_for(alice))
    count(api, "opus")
    status = api.get("status").json
    assert (status["credit_balance"], status["credit_budget"]) == (20, 30)
    assert [rule["window"] for rule in status["limits"]] == ["daily", "weekly", "monthly"]


def test_status_needs_no_rules_and_reports_zero_usage(live, alice):
    status = HookApi(live, token_for(alice)).get("status").json
    assert status["per_model"] == {}
    assert status["limits"] == []
    assert status["usage"]["daily"]["counts"] == {"opus": 0, "sonnet": 0, "haiku": 0, "default": 0}
    assert status["usage"]["daily"]["totalCredits"] == 0


def rule_keys(limits):
    return {(r["type"], r["model"], r["window"], r["value"]) for r in limits}


def test_a_seat_inherits_team_default_rules_unless_it_overrides_the_same_rule(live, alice, make_seat, team):
    per_model(team, "opus", "daily", 1)
    per_model(team, "sonnet", "daily", 1)
    credits_rule(team, "daily", 100)
    per_model(alice, "opus", "daily", 3)
    per_model(alice, "opus", "weekly", 10)
    credits_rule(alice, "daily", -1)
    bob = make_seat("bob")
    alice_api, bob_api = HookApi(live, token_for(alice)), HookApi(live, token_for(bob))

    assert rule_keys(alice_api.post("sync", {}).json["limits"]) == {
        ("per_model", "opus", "daily", 3),
        ("per_model", "opus", "weekly", 10),
        ("per_model", "sonnet", "daily", 1),
        ("credits", None, "daily", -1),
    }
    assert rule_keys(bob_api.post("sync", {}).json["limits"]) == {
        ("per_model", "opus", "daily", 1),
        ("per_model", "sonnet", "daily", 1),
        ("credits", None, "daily", 100),
    }

    for api in (alice_api, bob_api):
        count(api, "opus")
        count(api, "sonnet")
    assert alice_api.post("check", {"model": "opus"}).json["allowed"] is True
    assert alice_api.post("check", {"model": "sonnet"}).json["allowed"] is False
    assert alice_api.post("check", {"model": "haiku"}).json["credit_balance"] is None
    bob_opus = bob_api.post("check", {"model": "opus"}).json
    assert bob_opus["allowed"] is False
    assert bob_opus["credit_balance"] == 100 - 13


def test_a_seat_time_rule_replaces_the_team_time_rule_for_that_model(live, alice, team):
    time_rule(team, "opus", "00:00", "00:01")
    time_rule(team, "sonnet", "00:00", "00:01")
    time_rule(alice, "opus", "00:01", "00:00")
    api = HookApi(live, token_for(alice))
    limits = api.post("sync", {}).json["limits"]
    assert {(r["model"], r["schedule_start"], r["schedule_end"], r["schedule_tz"]) for r in limits} == {
        ("opus", "00:01", "00:00", "UTC"),
        ("sonnet", "00:00", "00:01", "UTC"),
    }
    # One of the two minute-long ranges is open right now, whatever the clock says; never both closed.
    opus, sonnet = (api.post("check", {"model": m}).json["allowed"] for m in ("opus", "sonnet"))
    assert opus != sonnet
