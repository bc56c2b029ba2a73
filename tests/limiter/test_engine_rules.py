"""Limit decisions (hook API contract §6): which rule denies, with which text and reset time. Pure."""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from limiter import engine
from limiter.engine import CountedTurn, RuleSpec, Usage

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 11, 22, 18, 42, 29, tzinfo=UTC)  # 19:42 in Berlin, a Sunday
WEIGHTS = {"opus": 10, "sonnet": 3, "haiku": 1}


def cap(model, window, value, rule_id="r1"):
    return RuleSpec(id=rule_id, type="per_model", model=model, window=window, value=value)


def budget(window, value, rule_id="c1"):
    return RuleSpec(id=rule_id, type="credits", window=window, value=value)


def hours(model, start, end, zone="Europe/Berlin", rule_id="t1"):
    return RuleSpec(
        id=rule_id,
        type="time_of_day",
        model=model,
        schedule_start=time.fromisoformat(start),
        schedule_end=time.fromisoformat(end),
        schedule_tz=zone,
    )


def usage(counts=None, credits=None, recent=(), held=0):
    return Usage(counts=counts or {}, credits=credits or {}, recent=list(recent), held_credits=held)


def decide(rules, family="opus", use=None, status="active", weights=None, now=NOW):
    return engine.evaluate(
        status=status,
        seat_name="Alice",
        rules=rules,
        family=family,
        usage=use or usage(),
        weights=WEIGHTS if weights is None else weights,
        tz=BERLIN,
        now=now,
    )


def test_allows_a_seat_without_rules():
    assert decide([], use=usage({"daily": {"opus": 999}}, {"daily": 9999})).allowed


def test_blocks_when_daily_opus_cap_is_reached_with_the_exact_contract_text():
    decision = decide([cap("opus", "daily", 2)], use=usage({"daily": {"opus": 2}}))
    assert not decision.allowed
    assert decision.reason == (
        "Daily opus limit reached for Alice.\nUsed 2/2 prompts.\nResets 2026-11-23 00:00 (Europe/Berlin).\n\n"
        "Switch to another model or try again later."
    )
    assert decision.resets_at == datetime(2026, 11, 22, 23, 0, tzinfo=UTC)


def test_allows_the_last_prompt_below_the_cap():
    assert decide([cap("opus", "daily", 2)], use=usage({"daily": {"opus": 1}})).allowed


@pytest.mark.parametrize(
    ("window", "title", "resets"),
    [
        ("weekly", "Weekly", "2026-11-23 00:00"),
        ("monthly", "Monthly", "2026-12-01 00:00"),
    ],
    ids=["weekly", "monthly"],
)
def test_calendar_caps_name_their_window_and_reset(window, title, resets):
    decision = decide([cap("sonnet", window, 5)], family="sonnet", use=usage({window: {"sonnet": 7}}))
    assert decision.reason.startswith(f"{title} sonnet limit reached for Alice.\nUsed 7/5 prompts.\n")
    assert f"Resets {resets} (Europe/Berlin)." in decision.reason


@pytest.mark.parametrize(
    ("family", "allowed"),
    [("opus", False), ("sonnet", True), ("haiku", True), ("default", False), ("fable", False)],
    ids=["opus-full", "sonnet-below", "haiku-unused", "default-full", "extra-family-full"],
)
def test_a_rule_for_every_model_caps_each_family_separately(family, allowed):
    # Five turns in all, but no single family beyond two: not a combined cap.
    counts = {"daily": {"opus": 2, "sonnet": 1, "default": 2, "fable": 2}}
    decision = decide([cap(None, "daily", 2)], family=family, use=usage(counts))
    assert decision.allowed is allowed
    if not allowed:
        assert decision.reason.startswith(f"Daily {family} limit reached for Alice.\nUsed 2/2 prompts.")


def test_a_rule_for_another_family_does_not_apply():
    assert decide([cap("sonnet", "daily", 0)], family="opus").allowed


def test_unlimited_cap_never_blocks():
    assert decide([cap("opus", "daily", -1)], use=usage({"daily": {"opus": 10_000}})).allowed


def test_value_zero_blocks_without_a_reset_promise():
    decision = decide([cap("opus", "daily", 0)])
    assert not decision.allowed
    assert decision.resets_at is None
    assert decision.reason == (
        "Daily opus limit reached for Alice.\nUsed 0/0 prompts.\n\n"
        "Switch to another model or try again later."
    )


def test_killed_wins_over_everything_and_has_no_reset():
    decision = decide([cap("opus", "daily", -1)], status="killed")
    assert (decision.allowed, decision.resets_at) == (False, None)
    assert decision.reason == (
        "Your Claude Code access has been revoked by the admin. Contact your admin to restore access."
    )


def test_paused_blocks_with_the_paused_text():
    decision = decide([], status="paused")
    assert (decision.allowed, decision.resets_at) == (False, None)
    assert (
        decision.reason
        == "Your Claude Code access has been paused by the admin. Contact your admin to resume."
    )


def test_time_of_day_is_checked_before_caps_and_credits():
    rules = [budget("daily", 0), cap("opus", "daily", 0), hours("opus", "09:00", "18:00")]
    decision = decide(rules)
    assert decision.reason == (
        "Opus is only available 09:00 - 18:00 (Europe/Berlin).\n"
        "Current time: 7:42 PM. Try another model instead."
    )
    assert decision.resets_at == datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


def test_time_of_day_for_every_model_says_this_model():
    decision = decide([hours(None, "09:00", "18:00", "UTC")], family="haiku")
    assert decision.reason == (
        "This model is only available 09:00 - 18:00 (UTC).\nCurrent time: 6:42 PM. Try another model instead."
    )


@pytest.mark.parametrize(
    ("now", "clock"),
    [
        (datetime(2026, 11, 22, 23, 5, tzinfo=UTC), "12:05 AM"),
        (datetime(2026, 11, 22, 11, 5, tzinfo=UTC), "12:05 PM"),
        (datetime(2026, 11, 22, 8, 59, tzinfo=UTC), "9:59 AM"),
    ],
    ids=["just-after-midnight", "just-after-noon", "morning"],
)
def test_time_of_day_deny_shows_a_twelve_hour_clock(now, clock):
    decision = decide([hours("opus", "10:00", "11:00")], now=now)
    assert f"Current time: {clock}. Try another model instead." in decision.reason


def test_caps_are_checked_before_credits():
    decision = decide([budget("daily", 0), cap("opus", "daily", 0)])
    assert decision.cause == "per_model"


def test_first_denying_rule_in_order_wins():
    decision = decide(
        [cap("opus", "weekly", 1, "first"), cap("opus", "daily", 1, "second")],
        use=usage({"daily": {"opus": 1}, "weekly": {"opus": 1}}),
    )
    assert decision.rule_id == "first"
    assert decision.reason.startswith("Weekly opus limit reached")


def test_blocks_when_daily_credit_budget_is_spent_with_the_exact_text():
    decision = decide([budget("daily", 30)], use=usage(credits={"daily": 29}))
    assert not decision.allowed
    assert decision.reason == (
        "Daily credit budget exhausted for Alice.\nUsed 29/30 credits (1 remaining).\n"
        "Opus costs 10 credits per prompt.\nResets 2026-11-23 00:00 (Europe/Berlin).\n\n"
        "Try a cheaper model or wait for the window to reset."
    )
    assert decision.resets_at == datetime(2026, 11, 22, 23, 0, tzinfo=UTC)


def test_credit_text_says_one_credit_in_the_singular():
    decision = decide([budget("weekly", 5)], family="haiku", use=usage(credits={"weekly": 5}))
    assert "Haiku costs 1 credit per prompt.\n" in decision.reason
    assert decision.reason.startswith(
        "Weekly credit budget exhausted for Alice.\nUsed 5/5 credits (0 remaining)."
    )


def test_allows_a_cheaper_model_when_the_balance_still_covers_it():
    use = usage(credits={"daily": 27})
    assert not decide([budget("daily", 30)], family="opus", use=use).allowed
    assert decide([budget("daily", 30)], family="sonnet", use=use).allowed


def test_weight_zero_makes_a_family_free_even_on_a_zero_budget():
    weights = {"opus": 10, "haiku": 0, "default": 2}
    assert decide([budget("daily", 0)], family="haiku", weights=weights).allowed


def test_zero_budget_blocks_priced_families_without_a_reset_promise():
    decision = decide([budget("daily", 0)], family="opus")
    assert (decision.allowed, decision.resets_at) == (False, None)
    assert "Resets" not in decision.reason
    assert decision.reason.endswith(
        "Opus costs 10 credits per prompt.\n\nTry a cheaper model or wait for the window to reset."
    )


@pytest.mark.parametrize(
    ("weights", "family", "cost"),
    [
        ({"opus": 10, "default": 2}, "fable", 2),
        ({"opus": 10}, "fable", 1),
        ({"opus": 10, "default": 2, "haiku": 0}, "haiku", 0),
        ({"default": 0}, "sonnet", 0),
    ],
    ids=["unlisted-uses-default", "no-default-costs-one", "listed-zero-is-free", "default-zero-is-free"],
)
def test_credit_cost_follows_key_presence(weights, family, cost):
    assert engine.credit_cost(family, weights) == cost


def test_unlimited_credit_budget_never_blocks():
    assert decide([budget("daily", -1)], use=usage(credits={"daily": 10_000})).allowed


def test_credits_held_by_other_sessions_reduce_the_balance():
    decision = decide([budget("daily", 30)], use=usage(credits={"daily": 10}, held=11))
    assert not decision.allowed
    assert "Used 10/30 credits (9 remaining)." in decision.reason


def test_most_constraining_credit_rule_is_reported_ties_go_to_the_first():
    rules = [budget("monthly", 100, "month"), budget("daily", 30, "day"), budget("weekly", 40, "week")]
    position = engine.tightest_credit_position(
        rules, usage(credits={"monthly": 90, "daily": 20, "weekly": 30})
    )
    assert (position.rule.id, position.balance, position.budget) == ("month", 10, 100)
    assert engine.tightest_credit_position([budget("daily", -1)], usage()) is None


def turn(at, family="opus", cost=10):
    return CountedTurn(occurred_at=at, family=family, cost=cost)


def test_sliding_cap_resets_when_the_turn_that_frees_a_slot_ages_out():
    first, second, third = NOW - timedelta(hours=20), NOW - timedelta(hours=5), NOW - timedelta(hours=1)
    recent = [turn(first), turn(NOW - timedelta(hours=10), "sonnet", 3), turn(second), turn(third)]
    use = usage({"sliding_24h": {"opus": 3, "sonnet": 1}}, recent=recent)
    decision = decide([cap("opus", "sliding_24h", 2)], use=use)
    # Three opus turns against a cap of two: two must age out before one more is allowed.
    assert decision.resets_at == second + timedelta(hours=24)
    assert decision.reason.startswith("Sliding 24-hour opus limit reached for Alice.\nUsed 3/2 prompts.\n")
    assert "Resets 2026-11-23 14:42 (Europe/Berlin)." in decision.reason


def test_sliding_cap_at_the_limit_resets_when_the_oldest_turn_ages_out():
    first = NOW - timedelta(hours=23, minutes=30)
    use = usage({"sliding_24h": {"opus": 2}}, recent=[turn(first), turn(NOW - timedelta(hours=2))])
    assert decide([cap("opus", "sliding_24h", 2)], use=use).resets_at == first + timedelta(hours=24)


def test_sliding_credits_reset_when_the_balance_covers_the_cost_again():
    recent = [
        turn(NOW - timedelta(hours=22), "haiku", 1),
        turn(NOW - timedelta(hours=20), "sonnet", 3),
        turn(NOW - timedelta(hours=12), "opus", 10),
        turn(NOW - timedelta(hours=2), "opus", 10),
    ]
    use = usage(credits={"sliding_24h": 24}, recent=recent)
    decision = decide([budget("sliding_24h", 30)], use=use)
    # Balance 6; opus needs 10: 4 credits must age out, which happens when the 3-credit turn does.
    assert decision.resets_at == NOW - timedelta(hours=20) + timedelta(hours=24)
    assert decision.reason.startswith(
        "Sliding 24-hour credit budget exhausted for Alice.\nUsed 24/30 credits"
    )


def test_sliding_credits_for_a_cheap_model_reset_sooner():
    recent = [turn(NOW - timedelta(hours=22), "haiku", 1), turn(NOW - timedelta(hours=20), "opus", 10)]
    use = usage(credits={"sliding_24h": 11}, recent=recent)
    decision = decide([budget("sliding_24h", 11)], family="haiku", use=use)
    assert decision.resets_at == NOW + timedelta(hours=2)


def test_budget_below_the_price_never_frees_up():
    decision = decide([budget("daily", 5)], family="opus")
    assert (decision.allowed, decision.resets_at) == (False, None)
    assert "Used 0/5 credits (5 remaining).\nOpus costs 10 credits per prompt.\n\nTry" in decision.reason
