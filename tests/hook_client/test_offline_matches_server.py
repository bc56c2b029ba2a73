"""Differential: after replaying a history, the client's offline decision is the server's /check decision.

For random rule sets, time zones, clock times and histories of checks and counts (prompts admitted and
counted, admitted and interrupted, refused, and turns counted with no check), the server answers /check over
real HTTP at a pinned clock, and the client decides from a cache it built the way it does in the field: the
/sync, /status and /check answers folded in by its own code, then one turn record per counted turn as its
Stop hook writes them, with a fresh usage report at a random step. Allowed, deny reason and reset time must be
equal, under each of the team's policies for model names it does not recognise (the cache learns the team's
from /sync). The history's checks come from the session that asks last, as one developer's prompts do:
in-flight turns of other sessions (credit holds) are not modelled offline, by design (docs/hook-client.md).
"""

import itertools
import json
import urllib.request
from datetime import UTC, datetime, time, timedelta
from unittest import mock

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from limiter import services, turns
from limiter.client import offline, server
from limiter.client.base import iso
from limiter.families import UNKNOWN_POLICIES
from limiter.models import HookToken

ZONES = [
    "UTC",
    "Europe/Berlin",
    "America/New_York",
    "America/St_Johns",
    "Asia/Kathmandu",
    "Australia/Lord_Howe",
    "Pacific/Chatham",
]
MODELS = ["claude-opus-4-1-20250805", "sonnet", "claude-3-5-haiku-20241022", "opus[1m]", "gpt-5", "best"]
WINDOWS = ["daily", "weekly", "monthly", "sliding_24h"]
SEATS = itertools.count()

per_model = st.fixed_dictionaries(
    {
        "type": st.just("per_model"),
        "model": st.sampled_from(["opus", "sonnet", "haiku", ""]),
        "window": st.sampled_from(WINDOWS),
        "value": st.integers(-1, 4),
    }
)
credits = st.fixed_dictionaries(
    {"type": st.just("credits"), "window": st.sampled_from(WINDOWS), "value": st.integers(-1, 40)}
)
clock = st.builds(time, st.integers(0, 23), st.sampled_from([0, 30]))
time_of_day = st.fixed_dictionaries(
    {
        "type": st.just("time_of_day"),
        "model": st.sampled_from(["opus", "sonnet", ""]),
        "schedule_start": clock,
        "schedule_end": clock,
        "schedule_tz": st.sampled_from(ZONES),
    }
).filter(lambda r: r["schedule_start"] != r["schedule_end"])
# hypothesis bounds are naive; the zone is attached below.
START, END = datetime(2026, 1, 1), datetime(2027, 12, 31)  # noqa: DTZ001
moments = st.datetimes(min_value=START, max_value=END).map(
    # Half a minute away from any minute: the client's clock is pinned through its measured skew.
    lambda d: d.replace(second=30, microsecond=0, tzinfo=UTC)
)
# Each step of a history: a prompt the gate checked and Claude answered (counted if admitted), a checked
# prompt that was interrupted before its turn ended (admitted, never counted), or a turn counted with no
# check (replayed after an outage, or sent by a v1 hook).
STEPS = ["checked", "checked", "interrupted", "counted"]
histories = st.lists(
    st.tuples(st.sampled_from(MODELS), st.integers(1, 40 * 24 * 60), st.sampled_from(STEPS)),
    max_size=8,
    unique_by=lambda t: t[1],
)
SESSION = "diff-session"


def _call(live, path, token, payload=None):
    request = urllib.request.Request(
        live.url + path,
        data=json.dumps(payload).encode() if payload is not None else None,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="POST" if payload is not None else "GET",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    zone=st.sampled_from(ZONES),
    rules=st.lists(st.one_of(per_model, credits, time_of_day), min_size=1, max_size=4),
    history=histories,
    now=moments,
    model=st.sampled_from(MODELS),
    policy=st.sampled_from(UNKNOWN_POLICIES),
    report_after=st.integers(0, 8),
)
def test_offline_decision_after_replaying_a_history_is_the_servers_check_decision(
    live, settings, zone, rules, history, now, model, policy, report_after
):
    settings.REGISTER_RATE_LIMIT = 10**6  # one seat and one registration per example
    team = services.team_current()
    team.timezone = zone
    team.unknown_model_policy = policy
    team.save()
    seat = services.seat_create(slug=f"diff-{next(SEATS)}", name="Dana")
    for rule in rules:
        services.rule_add(owner=seat, **rule)
    token, _ = services.register(code=services.install_code_issue(seat=seat), ip=None)
    hook_token = HookToken.objects.get(seat=seat)
    oldest = now - timedelta(minutes=max([minutes for _, minutes, _ in history], default=0) + 1)

    # The client syncs and fetches its usage report before the history, as at a session start, and again
    # at a random step of it.
    state: dict = {}
    with mock.patch("django.utils.timezone.now", return_value=oldest):
        server.apply_answer(state, _call(live, "/api/v1/sync", token, {"model": model}), oldest, "sync")
        server._apply_report(state, _call(live, "/api/v1/status", token), oldest)
    state["turns"] = []
    for index, (turn_model, minutes, step) in enumerate(sorted(history, key=lambda t: -t[1])):
        at = now - timedelta(minutes=minutes)
        if index == report_after:
            # A later session start, half a minute before this step: a fresh usage report covers the turns
            # so far, the cache keeps the rest.
            reported = at - timedelta(seconds=30)
            with mock.patch("django.utils.timezone.now", return_value=reported):
                server._apply_report(state, _call(live, "/api/v1/status", token), reported)
        if step != "counted":
            # The gate's /check at that time, its answer folded into the cache as the gate does.
            prompt = {"model": turn_model, "session_id": SESSION, "prompt_length": 5}
            with mock.patch("django.utils.timezone.now", return_value=at):
                answer = _call(live, "/api/v1/check", token, prompt)
            server.apply_answer(state, answer, at, "check")
            if step == "interrupted" or not answer["allowed"]:
                continue
        # Counted through the server's own service at that time, so every derived figure (counters) follows;
        # the session's hold, if its check took one, is consumed as /count consumes it.
        turns.record_count(
            token=hook_token,
            model=turn_model,
            session_id=SESSION if step == "checked" else "",
            response_length=None,
            event_id=None,
            client_timestamp="",
            client_time=None,
            usage=None,
            now=at,
        )
        client_family = offline.family_of(state, turn_model)
        state["turns"].append(
            {
                "id": f"t{minutes}",
                "at": iso(at),
                "family": client_family,
                "cost": offline.credit_cost(state, client_family),
                "sent": True,
            }
        )

    # A prompt (session and length), as the client's gate sends it: a bare probe is never refused by policy.
    prompt = {"model": model, "session_id": SESSION, "prompt_length": 5}
    with mock.patch("django.utils.timezone.now", return_value=now):
        answer = _call(live, "/api/v1/check", token, prompt)
    decision = offline.decide(state, model, now)

    assert decision.allowed == answer["allowed"]
    assert (decision.reason or None) == (answer.get("reason") or None)
    assert (iso(decision.resets_at) if decision.resets_at else None) == answer.get("resets_at")


def test_a_team_that_denies_unknown_models_refuses_them_offline_as_online(live, settings):
    """Before /sync carried the policy, the offline client charged an unknown name as the costliest family
    and let the prompt through where the server refused it."""
    settings.REGISTER_RATE_LIMIT = 10**6
    team = services.team_current()
    team.unknown_model_policy = "deny"
    team.save()
    seat = services.seat_create(slug=f"deny-{next(SEATS)}", name="Dana")
    token, _ = services.register(code=services.install_code_issue(seat=seat), ip=None)
    now = datetime.now(UTC)
    state: dict = {}
    server.apply_answer(state, _call(live, "/api/v1/sync", token, {"model": "gpt-5"}), now, "sync")
    server._apply_report(state, _call(live, "/api/v1/status", token), now)
    assert state["unknown_model_policy"] == "deny"

    answer = _call(live, "/api/v1/check", token, {"model": "gpt-5", "session_id": "s1", "prompt_length": 5})
    decision = offline.decide(state, "gpt-5", now)

    assert answer["allowed"] is False
    assert (decision.allowed, decision.reason) == (False, answer["reason"])
    assert offline.decide(state, "claude-opus-4-1", now).allowed


def test_this_machines_reported_turn_that_left_the_sliding_window_frees_its_credits_offline(live, settings):
    """Before, the offline client kept a report's sliding-window figures for a whole day and refused a prompt
    the server allowed: its own turn, already 24 h old, still counted against the budget."""
    settings.REGISTER_RATE_LIMIT = 10**6
    seat = services.seat_create(slug=f"slide-{next(SEATS)}", name="Dana")
    services.rule_add(owner=seat, type="credits", window="sliding_24h", value=3)
    token, _ = services.register(code=services.install_code_issue(seat=seat), ip=None)
    now = datetime(2026, 3, 2, 12, 0, 30, tzinfo=UTC)
    turn_at, reported = now - timedelta(hours=24, minutes=1), now - timedelta(minutes=2)
    state: dict = {}
    with mock.patch("django.utils.timezone.now", return_value=turn_at):
        server.apply_answer(state, _call(live, "/api/v1/sync", token, {"model": "sonnet"}), turn_at, "sync")
    turns.record_count(
        token=HookToken.objects.get(seat=seat), model="sonnet", session_id="", response_length=None,
        event_id=None, client_timestamp="", client_time=None, usage=None, now=turn_at,
    )
    state["turns"] = [{"id": "t1", "at": iso(turn_at), "family": "sonnet", "cost": 3, "sent": True}]
    with mock.patch("django.utils.timezone.now", return_value=reported):
        server._apply_report(state, _call(live, "/api/v1/status", token), reported)
    assert state["report"]["usage"]["sliding_24h"]["totalCredits"] == 3  # the turn was inside the report

    with mock.patch("django.utils.timezone.now", return_value=now):
        prompt = {"model": "sonnet", "session_id": "s1", "prompt_length": 5}
        answer = _call(live, "/api/v1/check", token, prompt)
    decision = offline.decide(state, "sonnet", now)

    assert answer["allowed"] is True
    assert decision.allowed is True
