"""setup / uninstall / watchdog in a temporary root, and the one-command installer served by the app."""

import hashlib
import json
import shutil
import subprocess

from limiter import services
from limiter.models import HookToken

from .conftest import mode_of


def _ours(settings: dict) -> list[str]:
    return [
        handler["command"]
        for groups in settings.get("hooks", {}).values()
        for group in groups
        for handler in group["hooks"]
        if "governor_hook.py" in handler["command"]
    ]


def test_setup_registers_the_hooks_and_uninstall_leaves_existing_managed_settings_intact(machine, seat):
    machine.managed_dir.joinpath("managed-settings.d").mkdir(parents=True)
    main = machine.managed_dir / "managed-settings.json"
    main.write_text('{"permissions": {"deny": ["Bash(rm -rf /)"]}, "hooks": {"Stop": []}}\n')
    other = machine.managed_dir / "managed-settings.d" / "10-security.json"
    other.write_text('{"env": {"DISABLE_TELEMETRY": "1"}}\n')
    before = {p: p.read_bytes() for p in (main, other)}

    output = machine.setup(services.install_code_issue(seat=seat)).stdout
    assert "Restart Claude Code" in output

    settings = json.loads(machine.dropin.read_text())
    assert settings["allowManagedHooksOnly"] is True
    assert set(settings["hooks"]) == {"SessionStart", "UserPromptSubmit", "PreToolUse", "Stop"}
    hook = machine.install_dir / "governor_hook.py"
    launcher = machine.install_dir / "run_governor_hook.py"
    assert all(f'-I -S "{launcher}" hook ' in command for command in _ours(settings))
    assert list((machine.install_dir / "__pycache__").glob("governor_hook.*.pyc"))
    assert all(p.read_bytes() == data for p, data in before.items())
    assert mode_of(machine.install_dir) == 0o755
    assert mode_of(hook) == 0o644
    assert mode_of(machine.install_dir / "token") == 0o600
    assert mode_of(machine.install_dir / ".backup") == 0o700
    timer = machine.root / "etc" / "systemd" / "system" / "claude-governor-watchdog.timer"
    service = timer.with_suffix(".service")
    assert "OnUnitActiveSec=5min" in timer.read_text()
    assert "watchdog --once" in service.read_text()
    token = HookToken.objects.get(seat=seat)

    result = machine.run("uninstall", "--yes")
    assert result.returncode == 0, result.stderr
    assert "Revoked this machine's token" in result.stdout
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert not machine.dropin.exists()
    assert all(p.read_bytes() == data for p, data in before.items())
    assert not machine.install_dir.exists()
    assert not timer.exists() and not service.exists()


def test_setup_into_the_main_file_merges_and_uninstall_restores_it_byte_for_byte(machine, seat):
    machine.managed_dir.mkdir(parents=True)
    main = machine.managed_dir / "managed-settings.json"
    original = (
        b'{\n  "model": "sonnet",\n'
        b'  "hooks": {"Stop": [{"hooks": [{"type": "command", "command": "audit"}]}]}\n}\n'
    )
    main.write_bytes(original)

    machine.setup(services.install_code_issue(seat=seat), "--settings", "main", "--allow-user-hooks")
    merged = json.loads(main.read_text())
    assert merged["model"] == "sonnet"
    assert "allowManagedHooksOnly" not in merged
    stop_commands = [h["command"] for g in merged["hooks"]["Stop"] for h in g["hooks"]]
    assert stop_commands[0] == "audit"
    assert len(_ours(merged)) == 4

    assert machine.run("uninstall", "--yes").returncode == 0
    assert main.read_bytes() == original


def test_uninstall_keeps_an_admins_later_edits_and_removes_only_ours(machine, seat):
    machine.managed_dir.mkdir(parents=True)
    main = machine.managed_dir / "managed-settings.json"
    main.write_text('{"model": "sonnet"}')
    machine.setup(services.install_code_issue(seat=seat), "--settings", "main")
    edited = json.loads(main.read_text())
    edited["env"] = {"HTTPS_PROXY": "http://proxy:3128"}
    main.write_text(json.dumps(edited))

    assert machine.run("uninstall", "--yes").returncode == 0
    assert json.loads(main.read_text()) == {"model": "sonnet", "env": {"HTTPS_PROXY": "http://proxy:3128"}}


def test_watchdog_restores_a_tampered_hook_config_and_drop_in(machine, seat):
    machine.setup(services.install_code_issue(seat=seat))
    hook = machine.install_dir / "governor_hook.py"
    config = machine.install_dir / "config.json"
    good = {p: p.read_bytes() for p in (hook, config, machine.dropin)}
    clean = machine.run("watchdog", "--once")
    assert "intact" in clean.stdout

    hook.write_text("import sys; sys.exit(0)  # always allow\n")
    config.write_text(json.dumps({**json.loads(good[config]), "server_url": "http://127.0.0.1:9"}))
    settings = json.loads(machine.dropin.read_text())
    del settings["hooks"]["UserPromptSubmit"]
    settings["disableAllHooks"] = True
    machine.dropin.write_text(json.dumps(settings))

    result = machine.run("watchdog", "--once")
    assert result.returncode == 0, result.stderr
    assert all(p.read_bytes() == data for p, data in good.items())
    assert "restored" in result.stdout

    shutil.rmtree(machine.dropin.parent)
    (machine.install_dir / "token").unlink()
    for bytecode in (machine.install_dir / "__pycache__").glob("*.pyc"):
        bytecode.unlink()
    machine.run("watchdog", "--once")
    assert machine.dropin.read_bytes() == good[machine.dropin]
    assert mode_of(machine.dropin.parent) == 0o755
    assert list((machine.install_dir / "__pycache__").glob("governor_hook.*.pyc"))
    assert machine.hook("SessionStart", source="startup").returncode == 0
    assert machine.prompt().stdout == ""


def test_watchdog_re_registers_removed_hooks_in_a_shared_main_file_keeping_other_edits(machine, seat):
    machine.managed_dir.mkdir(parents=True)
    main = machine.managed_dir / "managed-settings.json"
    main.write_text('{"model": "sonnet"}')
    machine.setup(services.install_code_issue(seat=seat), "--settings", "main")
    settings = json.loads(main.read_text())
    settings["hooks"].pop("PreToolUse")
    settings["env"] = {"HTTPS_PROXY": "http://proxy:3128"}
    main.write_text(json.dumps(settings))

    result = machine.run("watchdog", "--once")
    assert "re-registered" in result.stdout
    repaired = json.loads(main.read_text())
    assert len(_ours(repaired)) == 4
    assert repaired["env"] == {"HTTPS_PROXY": "http://proxy:3128"}
    assert repaired["model"] == "sonnet"


def test_installed_copy_ignores_environment_overrides(machine, seat, tmp_path):
    machine.setup(services.install_code_issue(seat=seat))
    installed_hook = machine.install_dir / "run_governor_hook.py"
    machine.hook("SessionStart", source="startup", script=installed_hook)
    services.seat_set_status(seat=seat, status="paused", by="admin")
    # Pointing GOVERNOR_ROOT at an empty tree would make a copy that trusted it think it is not installed.
    machine.env_extra["GOVERNOR_ROOT"] = str(tmp_path / "elsewhere")
    assert "paused" in machine.prompt(script=installed_hook).blocked_reason


def test_one_command_install_from_the_served_script(machine, seat, live):
    code = services.install_code_issue(seat=seat)
    from limiter.hook_client import install_command

    command = install_command(live.url, code)
    assert command == f"curl -fsSL {live.url}/install.sh | sudo sh -s -- --code {code}"
    # As root already: the same pipeline without sudo.
    pipeline = command.replace("| sudo sh", "| sh") + " --yes"
    done = subprocess.run(
        ["sh", "-c", pipeline], capture_output=True, text=True, env=machine.env(), timeout=120, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    installed_hook = machine.install_dir / "governor_hook.py"
    served = subprocess.run(["curl", "-fsS", f"{live.url}/api/v1/client.py"], capture_output=True, check=True)
    assert (
        hashlib.sha256(installed_hook.read_bytes()).hexdigest() == hashlib.sha256(served.stdout).hexdigest()
    )
    assert json.loads((machine.install_dir / "config.json").read_text())["server_url"] == live.url
    assert machine.hook("SessionStart", source="startup").returncode == 0
    assert machine.prompt().stdout == ""


def test_setting_up_again_replaces_the_token_and_retires_the_old_one(machine, seat):
    machine.setup(services.install_code_issue(seat=seat))
    first = HookToken.objects.get(seat=seat)
    machine.setup(services.install_code_issue(seat=seat))

    first.refresh_from_db()
    assert first.revoked_at is not None
    assert HookToken.objects.filter(seat=seat, revoked_at__isnull=True).count() == 1
    assert machine.hook("SessionStart", source="startup").returncode == 0
    assert machine.prompt().stdout == ""


def test_installer_refuses_a_client_that_does_not_match_its_digest(machine, seat, live):
    from limiter.hook_client.files import client_file, installer_script

    _, digest = client_file()
    script = installer_script(live.url).replace(digest, "0" * 64)
    code = services.install_code_issue(seat=seat)
    done = subprocess.run(
        ["sh", "-s", "--", "--code", code, "--yes"],
        input=script,
        capture_output=True,
        text=True,
        env=machine.env(),
        timeout=60,
        check=False,
    )
    assert done.returncode != 0
    assert "does not match its SHA-256" in done.stderr
    assert not machine.install_dir.exists()
    assert not HookToken.objects.filter(seat=seat).exists()
