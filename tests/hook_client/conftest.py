"""Runs the real client file as a subprocess against a live server, every path redirected into tmp_path."""

import json
import os
import stat
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from limiter import services
from limiter.hook_client import build

CLIENT = Path(__file__).resolve().parents[2] / "limiter" / "hook_client" / "governor_hook.py"
PYENV = Path("/root/.pyenv/versions")
# A fresh checkout has no built client until `make install`: build it, so that `pytest` alone works. A built
# file that no longer matches its sources is left as it is, for test_build to say so.
if not CLIENT.exists():
    build.main([])


def oldest_python() -> str:
    """The oldest Python the client supports (3.9, docs/hook-client.md) that this machine has (pyenv),
    else the one running the tests."""
    found = []
    for candidate in sorted(PYENV.glob("3.*/bin/python3")) if PYENV.exists() else []:
        version = tuple(int(p) for p in candidate.parts[-3].split(".")[:2])
        if version >= (3, 9):
            found.append((version, str(candidate)))
    return min(found)[1] if found else sys.executable


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str

    @property
    def decision(self) -> dict | None:
        return json.loads(self.stdout) if self.stdout.strip() else None

    @property
    def blocked_reason(self) -> str | None:
        decision = self.decision
        return decision["reason"] if decision and decision.get("decision") == "block" else None


class Machine:
    """One developer machine: a temporary root for system files, a home, a state dir and a fake `claude`."""

    def __init__(self, tmp_path: Path, server_url: str) -> None:
        self.tmp = tmp_path
        self.server_url = server_url
        self.root = tmp_path / "root"
        self.home = tmp_path / "home"
        self.state_dir = tmp_path / "state"
        self.project = tmp_path / "project"
        for path in (self.root, self.home, self.project):
            path.mkdir()
        self.claude_calls = tmp_path / "claude-calls.txt"
        self.claude_bin = tmp_path / "bin" / "claude"
        self.claude_bin.parent.mkdir()
        self.claude_bin.write_text(
            "#!/bin/sh\n"
            f'echo "$@" >> "{self.claude_calls}"\n'
            'if [ "$1" = "--version" ]; then echo "2.1.0 (Claude Code)"; fi\n'
        )
        self.claude_bin.chmod(0o755)
        self.transcript = self.project / "session-1.jsonl"
        self.env_extra: dict[str, str] = {}
        self.python = sys.executable
        self.as_user: int | None = None

    @property
    def install_dir(self) -> Path:
        return self.root / "etc" / "claude-code" / "claude-governor"

    @property
    def managed_dir(self) -> Path:
        return self.root / "etc" / "claude-code"

    @property
    def dropin(self) -> Path:
        return self.managed_dir / "managed-settings.d" / "50-claude-governor.json"

    @property
    def state_file(self) -> Path:
        return self.state_dir / "state.json"

    def env(self) -> dict[str, str]:
        env = {
            "PATH": f"{self.claude_bin.parent}:/usr/bin:/bin",
            "HOME": str(self.home),
            "GOVERNOR_ROOT": str(self.root),
            "GOVERNOR_HOME": str(self.home),
            "GOVERNOR_CLAUDE_BIN": str(self.claude_bin),
            **self.env_extra,
        }
        if self.as_user is None:
            env["GOVERNOR_STATE_DIR"] = str(self.state_dir)
        return env

    def run(self, *args: str, stdin: str = "", script: Path = CLIENT, timeout: float = 60) -> Result:
        as_user = (
            {} if self.as_user is None else {"user": self.as_user, "group": self.as_user, "extra_groups": []}
        )
        done = subprocess.run(
            [self.python, "-I", "-S", str(script), *args],
            input=stdin,
            capture_output=True,
            text=True,
            env=self.env(),
            timeout=timeout,
            check=False,
            **as_user,
        )
        return Result(done.returncode, done.stdout, done.stderr)

    def hook(self, event: str, session_id: str = "sess-1", script: Path = CLIENT, **fields) -> Result:
        payload = {
            "session_id": session_id,
            "transcript_path": str(self.transcript),
            "cwd": str(self.project),
            "hook_event_name": event,
            **fields,
        }
        result = self.run("hook", event, stdin=json.dumps(payload), script=script)
        assert result.returncode == 0, result.stderr
        return result

    def setup(self, code: str, *extra: str) -> Result:
        result = self.run("setup", "--code", code, "--server", self.server_url, "--yes", *extra)
        assert result.returncode == 0, result.stdout + result.stderr
        return result

    def state(self) -> dict:
        return json.loads(self.state_file.read_text())

    def edit_state(self, **changes) -> None:
        state = self.state()
        state.update(changes)
        self.state_file.write_text(json.dumps(state))

    def queued(self) -> list[dict]:
        queue = self.state_dir / "queue"
        return [json.loads(p.read_text()) for p in sorted(queue.glob("*.json"))] if queue.exists() else []

    def write_turn(
        self, model: str, message_id: str, output_tokens: int = 100, input_tokens: int = 5
    ) -> None:
        """One assistant response as Claude Code writes it: two content lines repeating the same usage."""
        usage = {
            "input_tokens": input_tokens,
            "output_tokens": output_tokens,
            "cache_creation_input_tokens": 1000,
            "cache_read_input_tokens": 20000,
        }
        with self.transcript.open("a") as handle:
            for block in ("thinking", "text"):
                line = {
                    "type": "assistant",
                    "sessionId": "sess-1",
                    "requestId": f"req_{message_id}",
                    "isSidechain": False,
                    "message": {
                        "id": message_id,
                        "model": model,
                        "role": "assistant",
                        "content": [{"type": block}],
                        "usage": usage,
                    },
                }
                handle.write(json.dumps(line) + "\n")

    def status_line(self, model: str, session_id: str = "sess-1", script: Path = CLIENT, **fields) -> Result:
        """One status line update as Claude Code sends it (claude-code-telemetry.md §1.2)."""
        payload = {
            "hook_event_name": "Status",
            "session_id": session_id,
            "transcript_path": str(self.transcript),
            "cwd": str(self.project),
            "model": {"id": model, "display_name": model},
            "workspace": {"current_dir": str(self.project), "project_dir": str(self.project)},
            **fields,
        }
        result = self.run("statusline", stdin=json.dumps(payload), script=script)
        assert result.returncode == 0, result.stderr
        return result

    def prompt(self, text: str = "fix the tests", **kw) -> Result:
        return self.hook("UserPromptSubmit", prompt=text, **kw)

    def turn(self, model: str = "claude-opus-4-1-20250805", message_id: str | None = None) -> Result:
        """A full allowed turn: prompt, the assistant's answer in the transcript, Stop."""
        result = self.prompt()
        assert result.blocked_reason is None, result.blocked_reason
        self.write_turn(model, message_id or f"msg_{os.urandom(6).hex()}")
        return self.hook("Stop", stop_hook_active=False, last_assistant_message="Done.")


def age_state(machine: Machine, seconds: float, *keys: str) -> None:
    """Move timestamps in the client's cache into the past, as if that much time had passed."""
    state = machine.state()
    for key in keys:
        at = datetime.fromisoformat(state[key].replace("Z", "+00:00")) - timedelta(seconds=seconds)
        state[key] = at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    machine.state_file.write_text(json.dumps(state))


@pytest.fixture
def seat(live):
    team = services.team_current()
    team.timezone = "Europe/Berlin"
    team.save()
    return services.seat_create(slug="alice", name="Alice")


@pytest.fixture
def machine(tmp_path, live, settings):
    settings.PUBLIC_URL = live.url
    return Machine(tmp_path, live.url)


@pytest.fixture
def installed(machine, seat):
    """A machine set up with a fresh install code and synced at session start."""
    machine.setup(services.install_code_issue(seat=seat))
    machine.hook("SessionStart", source="startup", model="claude-opus-4-1-20250805")
    return machine


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)
