"""The v1 hook's whole conversation with the server, over real HTTP against a live server (contract §3)."""

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from limiter import services
from limiter.api.presenters import iso
from limiter.models import Seat, SessionEvent, UsageEvent
from limiter.windows import window_bounds

from .conftest import HookApi, credits_rule, per_model, token_for

BERLIN = ZoneInfo("Europe/Berlin")
KILLED_TEXT = "Your Claude Code access has been revoked by the admin. Contact your admin to restore access."
PAUSED_TEXT = "Your Claude Code access has been paused by the admin. Contact your admin to resume."
EMPTY_USAGE = {"opus": 0, "sonnet": 0, "haiku": 0, "default": 0}


def daily_resets() -> set[str]:
    """Tomorrow's Berlin midnight, as the server may see it a moment before or after this call."""
    now = timezone.now()
    return {iso(window_bounds("daily", moment, BERLIN)[1]) for moment in (now, now + timedelta(seconds=5))}


def check(api, model="opus", session="sess-1", **extra):
    body = {
        "model": model,
        "local_usage": {},
        "prompt_length": 42,
        "project_dir": "myproj",
        "session_id": session,
    }
    return api.post("check", {**body, **extra})


def count(api, model="opus", session="sess-1", **extra):
    body = {"model": model, "timestamp": iso(timezone.now()), "session_id": session, "response_length": 1234}
    return api.post("count", {**body, **extra})


def test_v1_flow_register_sync_check_count_until_denied_kill_and_reinstate(live, alice):
    per_model(alice, "opus", "daily", 2)
    credits_rule(alice, "daily", 30)
    code = services.install_code_issue(seat=alice, by="admin")
    api = HookApi(live)

    registered = api.post("register", {"code": code})
    assert registered.status == 200, registered.text
    body = registered.json
    assert body["user"] == {"id": str(alice.id), "name": "Alice", "slug": "alice", "status": "active"}
    assert (body["user_name"], body["status"]) == ("Alice", "active")
    assert body["credit_weights"] == {"opus": 10, "sonnet": 3, "haiku": 1}
    assert [(r["type"], r["model"], r["window"], r["value"]) for r in body["limits"]] == [
        ("per_model", "opus", "daily", 2),
        ("credits", None, "daily", 30),
    ]
    assert set(body["limits"][0]) == {
        "id",
        "type",
        "model",
        "window",
        "value",
        "schedule_start",
        "schedule_end",
        "schedule_tz",
    }
    api.token = body["auth_token"]

    synced = api.post(
        "sync",
        {
            "model": "opus",
            "hostname": "devbox",
            "platform": "linux",
            "arch": "x64",
            "os_version": "6.1",
            "node_version": "v20",
            "claude_version": "2.1.0 (Claude Code)",
            "session_id": "sess-1",
        },
    )
    assert synced.status == 200, synced.text
    assert synced.json["status"] == "active"
    assert synced.json["usage"] == EMPTY_USAGE
    assert (synced.json["credit_balance"], synced.json["credit_budget"], synced.json["message"]) == (
        30,
        30,
        None,
    )
    assert "allowed" not in synced.json
    device = alice.devices.get()
    assert (device.hostname, device.platform) == ("devbox", "linux")
    assert device.claude_version == "2.1.0 (Claude Code)"
    start = SessionEvent.objects.get(seat=alice)
    assert (start.kind, start.session_id, start.family) == ("session_start", "sess-1", "opus")
    alice.refresh_from_db()
    assert timezone.now() - alice.last_seen_at < timedelta(minutes=1)

    for expected_balance in (20, 10):
        allowed = check(api)
        assert allowed.status == 200
        assert (allowed.json["allowed"], allowed.json["reason"]) == (True, None)
        assert allowed.json["resets_at"] is None
        # A check never counts; only the turn's /count does.
        assert UsageEvent.objects.filter(seat=alice).count() == (30 - expected_balance) // 10 - 1
        assert allowed.json["status"] == "active"
        assert count(api).json == {"recorded": True, "new_balance": expected_balance}

    denied = check(api)
    assert denied.status == 200
    assert denied.json["allowed"] is False
    assert denied.json["status"] == "active"
    assert denied.json["resets_at"] in daily_resets()
    local_reset = timezone.datetime.fromisoformat(denied.json["resets_at"]).astimezone(BERLIN)
    assert denied.json["reason"] == (
        "Daily opus limit reached for Alice.\nUsed 2/2 prompts.\n"
        f"Resets {local_reset:%Y-%m-%d} 00:00 (Europe/Berlin).\n\nSwitch to another model or try again later."
    )
    assert denied.json["usage"] == {**EMPTY_USAGE, "opus": 2}
    assert (denied.json["credit_balance"], denied.json["credit_budget"]) == (10, 30)

    services.seat_set_status(seat=alice, status=Seat.KILLED, by="admin")
    killed = check(api, model="haiku")
    assert killed.json["allowed"] is False
    assert killed.json["status"] == "killed"
    assert killed.json["reason"] == KILLED_TEXT
    assert killed.json["resets_at"] is None
    # A turn already running when the kill landed still used the subscription.
    assert count(api, model="haiku").json["recorded"] is True

    services.seat_set_status(seat=alice, status=Seat.ACTIVE, by="admin")
    reinstated = check(api, model="sonnet")
    assert (reinstated.json["allowed"], reinstated.json["status"]) == (True, "active")
    assert UsageEvent.objects.filter(seat=alice).count() == 3


def test_pause_blocks_with_status_paused_and_resume_allows_again(live, alice):
    api = HookApi(live, token_for(alice))
    services.seat_set_status(seat=alice, status=Seat.PAUSED, by="admin")

    paused = check(api)
    assert (paused.json["allowed"], paused.json["status"], paused.json["reason"]) == (
        False,
        "paused",
        PAUSED_TEXT,
    )
    assert paused.json["resets_at"] is None

    services.seat_set_status(seat=alice, status=Seat.ACTIVE, by="admin")
    resumed = check(api)
    assert (resumed.json["allowed"], resumed.json["status"]) == (True, "active")


@pytest.mark.parametrize("status", [Seat.ACTIVE, Seat.PAUSED], ids=["active", "paused"])
def test_only_a_killed_seat_is_ever_sent_status_killed(live, make_seat, status):
    seat = make_seat("bob", status=status)
    per_model(seat, None, "daily", 0)
    api = HookApi(live, token_for(seat))
    for reply in (
        check(api),
        api.post("sync", {}),
        api.post("check", {"model": "default", "local_usage": {}}),
    ):
        assert reply.json["status"] == status


def test_v1_pretooluse_probe_is_answered_but_not_recorded_as_a_prompt(live, alice):
    api = HookApi(live, token_for(alice))
    services.seat_set_status(seat=alice, status=Seat.KILLED, by="admin")

    probe = api.post("check", {"model": "default", "local_usage": {}})

    assert probe.status == 200
    assert (probe.json["allowed"], probe.json["status"], probe.json["reason"]) == (
        False,
        "killed",
        KILLED_TEXT,
    )
    assert not SessionEvent.objects.filter(seat=alice).exists()

    check(api)
    assert sorted(SessionEvent.objects.filter(seat=alice).values_list("kind", flat=True)) == [
        "blocked",
        "prompt",
    ]


def test_a_real_check_records_the_prompt_and_a_deny_records_why(live, alice):
    per_model(alice, "opus", "daily", 0)
    api = HookApi(live, token_for(alice))
    check(api, model="sonnet", session="s1")
    check(api, model="opus", session="s1")
    events = list(
        SessionEvent.objects.filter(seat=alice).order_by("pk").values_list("kind", "family", "project_dir")
    )
    assert events == [
        ("prompt", "sonnet", "myproj"),
        ("prompt", "opus", "myproj"),
        ("blocked", "opus", "myproj"),
    ]
    assert SessionEvent.objects.get(kind="blocked").reason.startswith("Daily opus limit reached for Alice.")


def test_unknown_models_are_capped_as_default_under_the_legacy_policy(live, alice):
    alice.team.unknown_model_policy = "default"
    alice.team.save()
    per_model(alice, "default", "daily", 1)
    api = HookApi(live, token_for(alice))
    assert count(api, model="gpt-5").json == {"recorded": True, "new_balance": None}
    denied = check(api, model="<synthetic>")
    assert denied.json["allowed"] is False
    assert denied.json["reason"].startswith("Daily default limit reached for Alice.\nUsed 1/1 prompts.")
    assert denied.json["usage"] == {**EMPTY_USAGE, "default": 1}


def test_full_model_ids_count_against_their_family_cap(live, alice):
    per_model(alice, "sonnet", "daily", 1)
    api = HookApi(live, token_for(alice))
    assert count(api, model="claude-sonnet-4-5-20250929").status == 200
    denied = check(api, model="sonnet[1m]")
    assert denied.json["allowed"] is False
    assert denied.json["usage"]["sonnet"] == 1
    assert UsageEvent.objects.get().model_raw == "claude-sonnet-4-5-20250929"


def test_usage_lists_extra_families_counted_today(live, alice):
    alice.team.extra_families = ["fable"]
    alice.team.save()
    api = HookApi(live, token_for(alice))
    count(api, model="fable-2")
    assert api.post("sync", {}).json["usage"] == {**EMPTY_USAGE, "fable": 1}


def test_token_in_the_body_works_and_the_header_wins(live, alice):
    token = token_for(alice)
    api = HookApi(live)
    assert api.post("check", {"auth_token": token, "model": "opus"}).json["allowed"] is True
    assert api.post("check", {"auth_token": "nope", "model": "opus"}, token=token).status == 200
    wrong_header = api.post("check", {"auth_token": token, "model": "opus"}, token="nope")
    assert (wrong_header.status, wrong_header.json["error"]) == (401, "Invalid auth_token")


def test_each_registration_issues_a_new_token_and_old_ones_stay_valid(live, alice):
    api = HookApi(live)
    first = api.post("register", {"code": services.install_code_issue(seat=alice)}).json["auth_token"]
    second = api.post("register", {"code": services.install_code_issue(seat=alice)}).json["auth_token"]
    assert first != second
    assert len(first) >= 22
    for token in (first, second):
        assert api.post("sync", {}, token=token).status == 200


def test_revoked_token_is_refused(live, alice):
    api = HookApi(live, token_for(alice))
    services.token_revoke(token=alice.tokens.get())
    reply = check(api)
    assert reply.status == 401
    assert reply.json["error"] == "Invalid auth_token"
    assert reply.json["allowed"] is False


def test_health_endpoints_answer_without_a_token(live):
    api = HookApi(live)
    health = api.get("health")
    assert health.status == 200
    assert health.json["status"] == "ok"
    assert health.json["timestamp"].endswith("Z")
    root = api.request("GET", "/health")
    assert (root.status, root.json["status"]) == (200, "ok")
    assert root.json["version"]


def test_check_remembers_the_devices_address_trusting_forwarded_for_only_from_proxies(live, alice, settings):
    api = HookApi(live, token_for(alice))
    api.post("sync", {"hostname": "devbox"})
    device = alice.devices.get()

    api.post("check", {"model": "opus"}, headers={"X-Forwarded-For": "203.0.113.9"})
    device.refresh_from_db()
    assert device.last_ip == "127.0.0.1"

    settings.TRUSTED_PROXIES = frozenset({"127.0.0.1"})
    api.post("check", {"model": "opus"}, headers={"X-Forwarded-For": "198.51.100.1, 203.0.113.9"})
    device.refresh_from_db()
    assert device.last_ip == "203.0.113.9"


@pytest.mark.parametrize("forwarded", ["not-an-ip", "203.0.113.9:4711", "unknown, ", "[2001:db8::1]"])
def test_a_garbled_forwarded_for_from_a_proxy_falls_back_to_the_proxy(live, alice, settings, forwarded):
    settings.TRUSTED_PROXIES = frozenset({"127.0.0.1"})
    api = HookApi(live, token_for(alice))
    assert api.post("sync", {"hostname": "devbox"}, headers={"X-Forwarded-For": forwarded}).status == 200
    reply = api.post("check", {"model": "opus"}, headers={"X-Forwarded-For": forwarded})
    assert reply.status == 200, reply.text
    assert alice.devices.get().last_ip == "127.0.0.1"
