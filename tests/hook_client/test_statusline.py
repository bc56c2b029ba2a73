"""Issue 9 point 3, client side: the model comes from Claude Code itself, and the managed status line.

The transcript is a file the seat holder can append to; SessionStart's `model` and the status line's
`model.id` come from Claude Code's own process. The real client runs against the app over loopback HTTP.
"""

import json

from limiter import services
from limiter.models import UsageEvent


def opus_daily(seat, value):
    return services.rule_add(owner=seat, type="per_model", model="opus", window="daily", value=value)


def fake_assistant_line(machine, model):
    """What a seat holder appends to their own transcript to pass as a cheaper model."""
    line = {"type": "assistant", "isSidechain": False, "message": {"id": "msg_fake", "model": model}}
    with machine.transcript.open("a") as handle:
        handle.write(json.dumps(line) + "\n")


def test_fake_assistant_line_in_the_transcript_cannot_pass_opus_as_haiku(installed, seat):
    opus_daily(seat, 2)
    installed.turn()
    installed.turn()
    fake_assistant_line(installed, "claude-3-5-haiku-20241022")
    reason = installed.prompt().blocked_reason
    assert reason.startswith("Daily opus limit reached for Alice.\nUsed 2/2 prompts.")


def test_fake_transcript_line_cannot_override_the_model_the_status_line_reported(installed, seat):
    opus_daily(seat, 1)
    installed.status_line(model="claude-opus-4-1-20250805")
    installed.turn()
    fake_assistant_line(installed, "haiku")
    assert installed.prompt().blocked_reason.startswith("Daily opus limit reached for Alice.")
    installed.hook("Stop", last_assistant_message="Done.")
    assert not UsageEvent.objects.filter(seat=seat, family="haiku").exists()


def test_transcript_only_fills_the_gap_when_claude_code_named_no_model(machine, seat):
    opus_daily(seat, 0)
    machine.setup(services.install_code_issue(seat=seat))
    machine.hook("SessionStart", source="resume")  # no `model`: recovery, /clear
    machine.write_turn("claude-opus-4-1-20250805", "msg_1")
    assert machine.prompt().blocked_reason.startswith("Daily opus limit reached for Alice.")


def test_status_line_prints_the_seats_budget_in_one_line(installed, seat):
    opus_daily(seat, 5)
    services.rule_add(owner=seat, type="credits", window="daily", value=100)
    installed.hook("SessionStart", source="startup", model="claude-opus-4-1-20250805")
    installed.turn()
    line = installed.status_line(model="claude-opus-4-1-20250805").stdout
    assert line == "opus 1/5 today · 10/100 credits · resets 00:00\n"


def test_status_line_needs_no_network(installed, seat, live):
    opus_daily(seat, 3)
    installed.hook("SessionStart", source="startup", model="opus")
    live.stop()
    assert installed.status_line(model="claude-sonnet-4-5-20250929").stdout.startswith("sonnet 0 today")
    # The switch it recorded is what the gate (here from the cache) charges.
    installed.write_turn("claude-sonnet-4-5-20250929", "msg_1")
    assert installed.prompt().stdout == ""


def test_status_line_keeps_the_developers_own_status_line(installed, seat):
    opus_daily(seat, 5)
    settings = installed.home / ".claude" / "settings.json"
    settings.parent.mkdir()
    settings.write_text(json.dumps({"statusLine": {"type": "command", "command": "read x; echo mine"}}))
    installed.hook("SessionStart", source="startup", model="opus")
    line = installed.status_line(model="opus").stdout
    assert line.startswith("mine │ opus 0/5 today")


def test_setup_installs_the_status_line_and_keeps_an_admins_managed_one(machine, seat):
    machine.managed_dir.mkdir(parents=True)
    main = machine.managed_dir / "managed-settings.json"
    original = json.dumps({"statusLine": {"type": "command", "command": "echo company"}}).encode()
    main.write_bytes(original)
    machine.setup(services.install_code_issue(seat=seat), "--settings", "main")
    managed = json.loads(main.read_text())
    launcher = machine.install_dir / "run_governor_hook.py"
    assert managed["statusLine"]["command"].endswith(f'-I -S "{launcher}" statusline')
    machine.hook("SessionStart", source="startup", model="opus")
    assert machine.status_line(model="opus", script=launcher).stdout.startswith("company │ opus 0 today")

    assert machine.run("uninstall", "--yes").returncode == 0
    assert main.read_bytes() == original
