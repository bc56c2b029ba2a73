"""The hook runs as the developer, not as root: it can write its own state but not its program or policy."""

import json
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from limiter import services

from .conftest import Machine, mode_of

SYSTEM_PYTHON = "/usr/bin/python3"


@pytest.fixture
def shared_tmp():
    """A scratch tree another user can traverse (pytest's own tmp_path is private to root)."""
    path = Path(tempfile.mkdtemp(prefix="governor-unprivileged-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def test_installed_for_a_non_root_user_who_can_use_but_not_change_it(shared_tmp, live, seat, settings):
    developer = pwd.getpwnam("nobody")
    machine = Machine(shared_tmp, live.url)
    # The system interpreter, as install.sh would find it (the test runner's may sit in root's home).
    machine.python = SYSTEM_PYTHON
    home = Path(f"{machine.root}{developer.pw_dir}")
    home.mkdir(parents=True)
    os.chown(home, developer.pw_uid, developer.pw_gid)
    machine.setup(services.install_code_issue(seat=seat), "--user", "nobody")

    token = machine.install_dir / "token"
    assert (token.stat().st_uid, mode_of(token)) == (developer.pw_uid, 0o400)
    state_dir = home / ".local" / "state" / "claude-governor"
    assert (state_dir.stat().st_uid, mode_of(state_dir)) == (developer.pw_uid, 0o700)

    machine.as_user = developer.pw_uid
    machine.home = home
    hook = machine.install_dir / "run_governor_hook.py"
    machine.hook("SessionStart", source="startup", model="sonnet", script=hook)
    state = json.loads((state_dir / "state.json").read_text())
    assert state["status"] == "active"
    assert machine.prompt(script=hook).stdout == ""

    services.seat_set_status(seat=seat, status="paused", by="admin")
    assert "paused" in machine.prompt(script=hook).blocked_reason
    assert machine.hook("PreToolUse", tool_name="Bash", script=hook).decision["continue"] is False

    program = machine.install_dir / "governor_hook.py"
    for protected in (hook, program, machine.install_dir / "config.json", machine.dropin):
        tamper = subprocess.run(
            ["sh", "-c", f'echo "{{}}" > "{protected}"'],
            user=developer.pw_uid,
            group=developer.pw_gid,
            extra_groups=[],
            capture_output=True,
            check=False,
        )
        assert tamper.returncode != 0, protected
