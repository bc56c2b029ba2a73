"""End to end: the real client file, fed hook JSON on stdin, against the app on a loopback HTTP server."""

import json
import shutil
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from limiter import services
from limiter.models import HookToken, SessionEvent, UsageEvent

from .conftest import age_state, oldest_python


def opus_daily(seat, value):
    return services.rule_add(owner=seat, type="per_model", model="opus", window="daily", value=value)


def test_allowed_prompt_prints_nothing_and_the_turn_is_counted_once(installed, seat):
    opus_daily(seat, 5)
    result = installed.prompt()
    assert result.stdout == ""
    installed.write_turn("claude-opus-4-1-20250805", "msg_a", output_tokens=321)
    installed.hook("Stop", stop_hook_active=False, last_assistant_message="Done.")

    event = UsageEvent.objects.get(seat=seat)
    assert event.family == "opus"
    assert event.model_raw == "claude-opus-4-1-20250805"
    assert event.event_id is not None
    assert event.output_tokens == 321
    assert installed.queued() == []
    assert SessionEvent.objects.filter(seat=seat, kind="prompt", project_dir="project").count() == 1


def test_session_start_records_model_and_device(installed, seat):
    device = seat.devices.get()
    assert device.platform == "linux"
    assert device.claude_version == "2.1.0 (Claude Code)"
    assert device.client_version.startswith("governor-hook")
    assert SessionEvent.objects.get(seat=seat, kind="session_start").family == "opus"
    state = installed.state()
    assert state["team_timezone"] == "Europe/Berlin"
    assert state["status"] == "active"


def test_blocks_when_limit_reached_with_reason_usage_credits_and_reset(installed, seat):
    opus_daily(seat, 2)
    services.rule_add(owner=seat, type="per_model", model="sonnet", window="weekly", value=20)
    services.rule_add(owner=seat, type="credits", window="daily", value=30)
    installed.turn()
    installed.turn()

    reason = installed.prompt().blocked_reason

    assert reason is not None
    assert reason.startswith("Daily opus limit reached for Alice.\nUsed 2/2 prompts.\nResets ")
    assert "(Europe/Berlin)" in reason
    assert "Usage by model:" in reason
    lines = reason.splitlines()
    assert any(line.split()[:3] == ["opus", "daily", "2/2"] for line in lines)
    assert any(line.split()[:3] == ["sonnet", "weekly", "0/20"] for line in lines)
    assert any(line.split()[:2] == ["haiku", "today"] for line in lines)
    assert any(line.split()[:3] == ["credits", "daily", "20/30"] for line in lines)
    assert "Credit balance: 10/30" in reason
    assert "Allowed again: " in reason
    assert SessionEvent.objects.filter(seat=seat, kind="blocked").count() == 1


def test_switching_model_in_session_is_followed_from_the_status_line(installed, seat):
    opus_daily(seat, 1)
    installed.turn(model="claude-opus-4-1-20250805")
    assert installed.prompt().blocked_reason is not None
    # /model sonnet: Claude Code reports the new model on the status line (the transcript may only fill gaps).
    installed.status_line(model="claude-sonnet-4-5-20250929")
    installed.write_turn("claude-sonnet-4-5-20250929", "msg_sonnet")
    assert installed.prompt().blocked_reason is None
    installed.hook("Stop", last_assistant_message="ok")
    assert UsageEvent.objects.filter(seat=seat, family="sonnet").count() == 1


def test_kill_mid_turn_stops_the_next_tool_call_after_the_recheck_interval(installed, seat):
    installed.prompt()
    assert installed.hook("PreToolUse", tool_name="Bash", tool_input={"command": "ls"}).stdout == ""
    services.seat_set_status(seat=seat, status="killed", by="admin")

    # Within the interval the status learned at the check is trusted: no server round trip.
    probe_before = installed.state().get("probe_at")
    assert installed.hook("PreToolUse", tool_name="Bash").stdout == ""
    assert installed.state().get("probe_at") == probe_before

    age_state(installed, 31, "status_at")
    denied = installed.hook("PreToolUse", tool_name="Bash").decision
    assert denied["continue"] is False
    assert denied["hookSpecificOutput"]["permissionDecision"] == "deny"
    assert "revoked by the admin" in denied["hookSpecificOutput"]["permissionDecisionReason"]
    # Later tool calls are denied from the cache alone.
    assert installed.hook("PreToolUse", tool_name="Edit").decision["continue"] is False
    assert installed.claude_calls.read_text().count("auth logout") == 1

    reason = installed.prompt().blocked_reason
    assert reason.startswith("Your Claude Code access has been revoked by the admin.")
    assert installed.claude_calls.read_text().count("auth logout") == 1


def test_pause_then_reinstate_lets_prompts_and_tools_through_again(installed, seat):
    services.seat_set_status(seat=seat, status="paused", by="admin")
    assert "paused by the admin" in installed.prompt().blocked_reason
    assert installed.hook("PreToolUse", tool_name="Bash").decision["continue"] is False

    services.seat_set_status(seat=seat, status="active", by="admin")
    age_state(installed, 31, "status_at")
    assert installed.hook("PreToolUse", tool_name="Bash").stdout == ""
    assert installed.prompt().stdout == ""
    assert not installed.claude_calls.exists() or "logout" not in installed.claude_calls.read_text()


def test_offline_enforces_cached_rules_and_replay_makes_server_totals_exact(installed, seat, live):
    opus_daily(seat, 3)
    installed.hook("SessionStart", source="resume", model="claude-opus-4-1-20250805")
    installed.turn()
    live.stop()

    installed.turn()
    installed.turn()
    queued = installed.queued()
    assert len(queued) == 2
    reason = installed.prompt().blocked_reason
    assert reason.startswith("Daily opus limit reached for Alice.\nUsed 3/3 prompts.")
    assert "server unreachable" in reason
    assert UsageEvent.objects.filter(seat=seat).count() == 1

    live.start()
    # The next prompt replays the queue first, so the server decides on exact totals.
    reason = installed.prompt().blocked_reason
    assert reason.startswith("Daily opus limit reached for Alice.\nUsed 3/3 prompts.")
    assert "server unreachable" not in reason
    assert installed.queued() == []
    events = UsageEvent.objects.filter(seat=seat)
    assert events.count() == 3
    assert {str(e.event_id) for e in events} >= {q["event_id"] for q in queued}
    replayed = events.get(event_id=queued[0]["event_id"])
    assert replayed.client_timestamp == queued[0]["timestamp"]

    # A replay the server already has (say the answer was lost) is not counted twice.
    installed.state_dir.joinpath("queue").mkdir(exist_ok=True)
    installed.state_dir.joinpath("queue", queued[0]["event_id"] + ".json").write_text(json.dumps(queued[0]))
    installed.hook("SessionStart", source="resume")
    assert installed.queued() == []
    assert UsageEvent.objects.filter(seat=seat).count() == 3


def test_offline_allows_within_limits_and_blocks_after_the_teams_grace(installed, seat, live):
    opus_daily(seat, 10)
    live.stop()
    assert installed.prompt().stdout == ""

    age_state(installed, 25 * 3600, "contact_at")
    reason = installed.prompt().blocked_reason
    assert reason.startswith("Claude Governor cannot reach its server, last reached ")
    assert "1d 0h of offline use" in reason


def test_fails_closed_when_installed_but_never_synced(machine, seat, live):
    machine.setup(services.install_code_issue(seat=seat))
    live.stop()
    reason = machine.prompt().blocked_reason
    assert "has not synced its rules yet" in reason


def test_first_prompt_syncs_when_session_start_did_not(machine, seat):
    machine.setup(services.install_code_issue(seat=seat))
    assert machine.prompt().stdout == ""
    assert machine.state()["team_timezone"] == "Europe/Berlin"


@pytest.mark.parametrize(
    "corruption",
    ["{not json", '["a list"]', '{"status": "active", "limits": "none"}', ""],
    ids=["garbage", "not-an-object", "wrong-types", "empty"],
)
def test_a_corrupt_cache_never_allows_offline(installed, seat, live, corruption):
    opus_daily(seat, 10)
    installed.state_file.write_text(corruption)
    live.stop()
    assert "has not synced its rules yet" in installed.prompt().blocked_reason


def test_a_corrupt_cache_is_replaced_by_the_next_server_answer(installed, seat):
    installed.state_file.write_text("{not json")
    assert installed.prompt().stdout == ""
    assert installed.state()["status"] == "active"


def test_revoked_token_blocks_with_a_readable_reason_and_is_not_cached(installed, seat, live):
    before = installed.state()
    services.token_revoke(token=HookToken.objects.get(seat=seat))
    reason = installed.prompt().blocked_reason
    assert "token is not valid" in reason
    assert "HTTP 401" in reason
    assert installed.state()["limits"] == before["limits"]
    assert installed.state()["status"] == "active"


class _ErrorServer(ThreadingHTTPServer):
    """Something between the client and Governor (a proxy, a broken deploy) answering JSON errors."""

    daemon_threads = True


def _error_server(bodies):
    answers = iter(bodies)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            status, body = next(answers)
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = _ErrorServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def test_error_bodies_never_reach_the_cache(installed, seat):
    """Answers that are no decision are "server unavailable" (test_attacks): decided from the cache, which
    they never change."""
    server = _error_server(
        [(500, {"error": "Internal server error"}), (200, {"message": "hello"}), (200, {"allowed": "yes"})]
    )
    config_path = installed.install_dir / "config.json"
    config = json.loads(config_path.read_text())
    config["server_url"] = f"http://127.0.0.1:{server.server_address[1]}"
    config_path.write_text(json.dumps(config))
    before = installed.state_file.read_text()
    try:
        for _ in range(3):
            assert installed.prompt().stdout == ""
    finally:
        server.shutdown()
    assert installed.state_file.read_text() == before


def test_oldest_supported_python_enforces_online_and_offline(machine, seat, live):
    """The oldest supported Python runs the server's own engine offline, in the team's zone."""
    machine.python = oldest_python()
    opus_daily(seat, 1)
    machine.setup(services.install_code_issue(seat=seat))
    machine.hook("SessionStart", source="startup", model="opus")
    machine.turn()
    assert machine.prompt().blocked_reason.startswith("Daily opus limit reached for Alice.")

    live.stop()
    reason = machine.prompt().blocked_reason
    assert reason.startswith("Daily opus limit reached for Alice.\nUsed 1/1 prompts.\nResets ")
    assert "00:00 (Europe/Berlin)" in reason
    assert "server unreachable" in reason


def test_an_unwritable_state_directory_never_overrules_the_server(installed, seat):
    opus_daily(seat, 1)
    shutil.rmtree(installed.state_dir)
    installed.state_dir.write_text("not a directory")

    assert installed.prompt().stdout == ""
    installed.write_turn("claude-opus-4-1-20250805", "msg_1")
    installed.hook("Stop", last_assistant_message="Done.")
    assert UsageEvent.objects.filter(seat=seat).count() == 1
    assert installed.prompt().blocked_reason.startswith("Daily opus limit reached for Alice.")


def test_kill_reaches_a_running_turn_once_the_recheck_interval_passes(installed, seat):
    installed.env_extra["GOVERNOR_RECHECK_SECONDS"] = "1"
    assert installed.prompt().stdout == ""
    services.seat_set_status(seat=seat, status="killed", by="admin")
    time.sleep(1.1)
    denied = installed.hook("PreToolUse", tool_name="Bash").decision
    assert denied["continue"] is False
    assert "revoked by the admin" in denied["stopReason"]


def test_an_allow_from_a_server_still_missing_queued_turns_must_agree_with_the_local_count(
    installed, seat, live
):
    opus_daily(seat, 2)
    installed.hook("SessionStart", source="resume")
    live.stop()
    installed.turn()
    installed.turn()
    live.start()
    # Only one queued count gets through before the check (as when the replay runs out of time).
    installed.env_extra["GOVERNOR_REPLAY_BATCH"] = "1"
    reason = installed.prompt().blocked_reason
    assert reason.startswith("Daily opus limit reached for Alice.\nUsed 2/2 prompts.")
    assert "turns the server has not received yet" in reason
    assert UsageEvent.objects.filter(seat=seat).count() == 1

    del installed.env_extra["GOVERNOR_REPLAY_BATCH"]
    reason = installed.prompt().blocked_reason
    assert "turns the server has not received yet" not in reason
    assert UsageEvent.objects.filter(seat=seat).count() == 2


def test_unknown_missing_and_malformed_hook_input_never_breaks_the_hook(installed, seat):
    opus_daily(seat, 1)
    future = {"prompt": "hi", "prompt_id": "5f0c…", "effort": {"level": "high"}, "brand_new_field": [1, {}]}
    assert installed.run("hook", "UserPromptSubmit", stdin=json.dumps(future)).stdout == ""
    for event in ("SessionStart", "PreToolUse", "Stop"):
        for stdin in ("", "{}", "not json", "[1, 2]"):
            result = installed.run("hook", event, stdin=stdin)
            assert (result.returncode, result.stdout) == (0, ""), (event, stdin, result.stderr)
    # Each Stop still counted its turn; with no model to go by, the server charges it as the costliest
    # family (the team's default policy for unknown names).
    assert list(UsageEvent.objects.filter(seat=seat).values_list("family", flat=True)) == ["opus"] * 4
    assert installed.queued() == []
