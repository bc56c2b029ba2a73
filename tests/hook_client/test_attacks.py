"""Issue 9, client side: what a seat holder or an outage does to the real client over real HTTP.

Each test is named for the attack or the failure. The server is the app on a loopback HTTP server (SQLite,
or PostgreSQL + Redis when DATABASE_URL / REDIS_URL say so); the client is the built file, run as Claude
Code runs it.
"""

import json
import shutil

import pytest
from django.db import OperationalError

from limiter import services, turns
from limiter.models import HookToken

from .conftest import Machine


def opus_daily(seat, value):
    return services.rule_add(owner=seat, type="per_model", model="opus", window="daily", value=value)


def launcher(machine: Machine):
    """The installed copy, as Claude Code starts it (it trusts only its own directory)."""
    return machine.install_dir / "run_governor_hook.py"


# --- 4. A revoked or killed machine keeps working offline ------------------------------------------


def test_revoked_machine_that_then_cuts_its_network_stays_blocked_offline(installed, seat, live):
    opus_daily(seat, 5)
    assert installed.prompt().stdout == ""
    services.token_revoke(token=HookToken.objects.get(seat=seat))
    assert "token is not valid" in installed.prompt().blocked_reason
    assert installed.state()["token_rejected"]["error"].startswith("HTTP 401")

    live.stop()
    for script in (None, launcher(installed)):
        reason = installed.prompt(**({"script": script} if script else {})).blocked_reason
        assert reason.startswith("Claude Governor cannot reach its server, and the last answer it gave")
    tool = installed.hook("PreToolUse", tool_name="Bash").decision
    assert tool["continue"] is False
    assert "rejected this machine's token" in tool["stopReason"]


def test_revoked_mark_is_lifted_only_by_a_server_accepting_the_machine_again(installed, seat, live):
    services.token_revoke(token=HookToken.objects.get(seat=seat))
    installed.prompt()
    # Editing nothing and waiting does not help: the mark holds through answers that are no verdict.
    live.stop()
    assert installed.prompt().blocked_reason is not None
    live.start()
    installed.setup(services.install_code_issue(seat=seat))
    assert installed.prompt().stdout == ""
    assert "token_rejected" not in installed.state()


def test_killed_seat_that_then_cuts_its_network_stays_killed_offline(installed, seat, live):
    services.seat_set_status(seat=seat, status="killed", by="admin")
    assert "revoked by the admin" in installed.prompt().blocked_reason
    live.stop()
    reason = installed.prompt(script=launcher(installed)).blocked_reason
    assert reason.startswith("Your Claude Code access has been revoked by the admin.")
    assert "server unreachable" in reason
    assert installed.hook("PreToolUse", tool_name="Bash").decision["continue"] is False


# --- 5. Installed but broken is not "not installed" ------------------------------------------------


@pytest.mark.parametrize(
    "removed",
    [("config.json",), ("config.json", "token"), ("config.json", "token", ".backup")],
    ids=["config", "config-and-token", "config-token-and-backup"],
)
def test_deleting_the_configuration_does_not_switch_the_gate_off(installed, seat, removed):
    opus_daily(seat, 0)
    for name in removed:
        path = installed.install_dir / name
        shutil.rmtree(path) if path.is_dir() else path.unlink()

    for script in (None, launcher(installed)):
        reason = installed.prompt(**({"script": script} if script else {})).blocked_reason
        assert reason is not None, script
        assert "configuration" in reason
        assert "is missing, but the rest of its install is present" in reason


def test_deleting_config_only_lasts_until_the_watchdog_restores_it(installed, seat):
    (installed.install_dir / "config.json").unlink()
    assert installed.prompt().blocked_reason is not None
    assert "restored" in installed.run("watchdog", "--once").stdout
    assert installed.prompt(script=launcher(installed)).stdout == ""


def test_a_machine_without_any_trace_of_an_install_is_not_governed(machine, seat):
    assert machine.prompt().stdout == ""


# --- 7. A 5xx is "server unavailable", not a verdict -----------------------------------------------


def database_down(monkeypatch):
    """The server's database fails under /check: the app answers its JSON 503 (which says allowed: false)."""

    def fail(**kwargs):
        raise OperationalError("could not connect to server: Connection refused")

    monkeypatch.setattr(turns, "decide_check", fail)


def test_server_answering_503_during_a_database_outage_does_not_block_within_limits(
    installed, seat, monkeypatch
):
    opus_daily(seat, 2)
    installed.turn()
    database_down(monkeypatch)
    before = installed.state()
    # 1 of 2 used: the cache allows, although the 503 body says `allowed: false`.
    assert installed.prompt().stdout == ""
    installed.write_turn("claude-opus-4-1-20250805", "msg_outage")
    installed.hook("Stop", last_assistant_message="Done.")
    reason = installed.prompt().blocked_reason
    assert reason.startswith("Daily opus limit reached for Alice.\nUsed 2/2 prompts.")
    assert "(Claude Governor server unavailable (HTTP 503: " in reason
    assert "): enforced from the rules synced " in reason
    after = installed.state()
    assert (after["status"], after["limits"]) == (before["status"], before["limits"])


def test_server_answering_503_is_held_to_the_offline_grace_and_says_why(installed, seat, monkeypatch):
    database_down(monkeypatch)
    installed.edit_state(offline_grace_seconds=0)
    reason = installed.prompt().blocked_reason
    assert reason.startswith("Claude Governor's server is unavailable (HTTP 503: ")
    assert "), last reached " in reason


def test_a_json_answer_that_is_no_decision_is_server_unavailable(installed, seat):
    from .test_gate import _error_server

    opus_daily(seat, 1)
    installed.turn()
    server = _error_server(
        [(502, {"error": "Bad gateway"}), (200, {"message": "hello"}), (200, {"allowed": "no"})]
    )
    config_path = installed.install_dir / "config.json"
    config = json.loads(config_path.read_text())
    config["server_url"] = f"http://127.0.0.1:{server.server_address[1]}"
    config_path.write_text(json.dumps(config))
    try:
        reasons = [installed.prompt().blocked_reason for _ in range(3)]
    finally:
        server.shutdown()
    expected = "Daily opus limit reached for Alice.\nUsed 1/1 prompts."
    assert [r.startswith(expected) for r in reasons] == [True] * 3
    assert "server unavailable (HTTP 502: Bad gateway)" in reasons[0]
    assert "server unavailable (HTTP 200: no decision)" in reasons[1]
