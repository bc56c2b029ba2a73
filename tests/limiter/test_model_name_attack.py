"""Attack: the model name is text a client reports, so a seat holder dresses an expensive model up as a name
that is not quite a family (invisible characters, look-alike letters, odd spacing or case) or as a name no
family has, hoping it falls to `default` at a price of 1. The server folds names and prices the unknown."""

import pytest

from limiter.models import UsageEvent

from .conftest import HookApi, credits_rule, per_model, token_for

DISGUISED_OPUS = [
    "\u043epus",  # Cyrillic o
    "claude-\u03bfpus-4-1",  # Greek omicron
    "op\u200bus",  # zero-width space
    "o\u2060p\u00adus",  # word joiner, soft hyphen
    "\uff2f\uff30\uff35\uff33",  # fullwidth OPUS
    "\U0001d5fc\U0001d5fd\U0001d602\U0001d600",  # mathematical sans-serif bold
    " O p U s ",
    "Op\u00fas",  # an accent
    "claude\u2010opus\u20104",  # Unicode hyphens
]


def count(api, model: str, session: str = "s1") -> dict:
    reply = api.post("count", {"model": model, "session_id": session, "response_length": 1})
    assert reply.status == 200, reply.text
    return reply.json


def test_disguised_spellings_of_opus_are_counted_and_capped_as_opus(live, alice):
    per_model(alice, "opus", "daily", len(DISGUISED_OPUS))
    credits_rule(alice, "daily", 1000)
    api = HookApi(live, token_for(alice))

    for model in DISGUISED_OPUS:
        assert count(api, model)["new_balance"] is not None

    assert set(UsageEvent.objects.filter(seat=alice).values_list("family", flat=True)) == {"opus"}
    assert api.get("status").json["usage"]["daily"]["totalCredits"] == 10 * len(DISGUISED_OPUS)
    for model in DISGUISED_OPUS:
        denied = api.post("check", {"model": model, "session_id": "s2", "prompt_length": 1}).json
        assert denied["allowed"] is False, model
        assert denied["reason"].startswith("Daily opus limit reached"), model


def test_an_unknown_model_name_is_charged_as_the_costliest_family_by_default(live, alice):
    per_model(alice, "opus", "daily", 1)
    credits_rule(alice, "daily", 30)
    api = HookApi(live, token_for(alice))

    assert count(api, "gpt-5")["new_balance"] == 20
    assert count(api, "claude-nova-2")["new_balance"] == 10
    denied = api.post("check", {"model": "made-up-name", "session_id": "s2", "prompt_length": 1}).json
    assert denied["allowed"] is False
    assert denied["reason"].startswith("Daily opus limit reached for Alice.\nUsed 2/1 prompts.")
    # Families the team knows keep their own price.
    assert api.post("check", {"model": "haiku", "session_id": "s3", "prompt_length": 1}).json["allowed"]


def test_a_priced_extra_family_is_known_and_not_charged_as_the_costliest(live, alice):
    alice.team.extra_families = ["fable"]
    alice.team.credit_weights = {"opus": 10, "sonnet": 3, "haiku": 1, "fable": 2, "nova": 4}
    alice.team.save()
    credits_rule(alice, "daily", 100)
    api = HookApi(live, token_for(alice))

    assert count(api, "fable-2-preview")["new_balance"] == 98
    assert count(api, "claude-nova-2")["new_balance"] == 94


def test_a_team_may_charge_unknown_names_as_default(live, alice):
    alice.team.unknown_model_policy = "default"
    alice.team.credit_weights = {"opus": 10, "sonnet": 3, "haiku": 1, "default": 2}
    alice.team.save()
    credits_rule(alice, "daily", 30)
    api = HookApi(live, token_for(alice))

    assert count(api, "gpt-5")["new_balance"] == 28
    assert UsageEvent.objects.get(seat=alice).family == "default"


@pytest.mark.parametrize("model", ["gpt-5", "default", "claude-nova-2"])
def test_a_team_may_deny_unknown_names_and_still_charges_a_turn_that_ran(live, alice, model):
    alice.team.unknown_model_policy = "deny"
    alice.team.save()
    credits_rule(alice, "daily", 30)
    api = HookApi(live, token_for(alice))

    denied = api.post("check", {"model": model, "session_id": "s1", "prompt_length": 1}).json
    assert denied["allowed"] is False
    assert denied["reason"].startswith(f"Claude Governor does not recognise the model {model!r}")
    assert api.post("check", {"model": "\u043epus", "session_id": "s1", "prompt_length": 1}).json["allowed"]
    # A turn that ran anyway (offline, or an old client) is charged at the costliest price.
    assert count(api, model, session="s9")["new_balance"] == 10
    # The v1 tool-call probe always names `default`; it asks about the seat's status, not a model.
    assert api.post("check", {"model": "default", "local_usage": {}}).json["allowed"] is True
