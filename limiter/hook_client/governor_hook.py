#!/usr/bin/env python3
"""Claude Governor hook client: the gate Claude Code runs before every prompt, and its installer.

BUILT FILE, do not edit: `python -m limiter.hook_client.build` writes it from the client package
(limiter/client/) and the server's own rule engine (limiter/windows.py, engine.py, families.py,
messages.py), so an offline decision is the server's decision by construction.

Standard library only, Python 3.9+ on Linux, macOS and Windows. Claude Code starts it as
`<python> -I -S governor_hook.py hook <Event>` with the hook JSON on stdin; a terminal user runs
`setup`, `status`, `sync`, `doctor`, `uninstall`, `watchdog` or `statusline`. See docs/hook-client.md.

Below, every module is kept as its source text, readable as written. Each is compiled once into
`__pycache__/` beside this file (by `setup`, as root, for an installed copy; by Python's own rule,
only where the directory is writable, otherwise) and loaded from there like any imported module.
"""

import sys

PACKAGE = "governor_client"
PACKAGES = ("", "client")
SOURCES = {
    '': r'''"""The server's pure rule modules and the hook client package, bundled into one file."""
''',
    'client': r'''"""The hook client developers install: standard library only, Python 3.9+ (docs/hook-client.md).

One module per concern: `paths` and `state` (where files live, the user's cache), `http` and `config`
(talking to the server with this machine's token), `transcript` (model and token usage), `hooks` and
`gate` (the Claude Code events), `offline` and `usage` (deciding and explaining from the cache with the
server's own engine, imported as `..engine`), `counts` and `server` (the count queue, sync), `installer`,
`managed`, `rootfs` and `watchdog` (root's side), `commands` and `cli` (what people type). The server
serves it built into one file with its pure modules: limiter/hook_client/build.py.
"""
''',
    'client.base': r'''"""Constants, the two failure kinds, and small time and file helpers every part of the client uses."""

import os
import sys
from datetime import datetime, timezone

from .jsonfast import json_dumps, json_loads

VERSION = "1.1.0"
EVENTS = ("SessionStart", "UserPromptSubmit", "PreToolUse", "Stop")
# Claude Code's own per-handler timeouts (s); the client's network timeouts stay well inside them.
HANDLER_TIMEOUTS = {"SessionStart": 15, "UserPromptSubmit": 10, "PreToolUse": 5, "Stop": 10}
GATE_TIMEOUT = 2.0
PROBE_TIMEOUT = 2.0
COUNT_TIMEOUT = 3.0
SYNC_TIMEOUT = 5.0
RECHECK_SECONDS = 30.0
REPLAY_BATCH = 200
TURN_RETENTION_DAYS = 35
SESSION_RETENTION_DAYS = 14
SEEN_IDS_KEPT = 2000
LOG_LIMIT = 1024 * 1024
USAGE_FIELDS = ("input_tokens", "output_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")


class Unreachable(Exception):
    """No usable answer: connection refused, timeout, or a body that is not JSON (a proxy's error page)."""


class Broken(Exception):
    """Installed files are missing or unreadable: the gate fails closed with this message."""


def now_utc():
    return datetime.now(timezone.utc)


def iso(moment):
    utc = moment.astimezone(timezone.utc)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def parse_iso(text):
    if not isinstance(text, str) or not text:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def read_json(path):
    """The object in `path`, None if missing; raises ValueError when present but not a JSON object."""
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
    except FileNotFoundError:
        return None
    data = json_loads(raw)
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    return data


def write_atomic(path, data, mode=0o600, sync=False):
    """Write-then-rename, so a reader never sees half a file and a crash never leaves one."""
    directory = os.path.dirname(path)
    os.makedirs(directory, mode=0o700, exist_ok=True)
    tmp = f"{path}.{os.getpid()}.tmp"
    payload = data if isinstance(data, bytes) else json_dumps(data).encode()
    # O_BINARY: Windows would otherwise write \r\n, and the watchdog's checksums would never match.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_BINARY", 0), mode)
    try:
        os.write(fd, payload)
        if sync:
            os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)


def sha256_file(path):
    import hashlib

    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(65536), b""):
            digest.update(block)
    return digest.hexdigest()


def new_event_id():
    """A UUID4 without importing uuid (which costs more start-up time than the rest of the gate)."""
    raw = bytearray(os.urandom(16))
    raw[6] = (raw[6] & 0x0F) | 0x40
    raw[8] = (raw[8] & 0x3F) | 0x80
    text = raw.hex()
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"



def forget(path):
    try:
        os.remove(path)
    except OSError:
        pass


def emit(obj):
    sys.stdout.write(json_dumps(obj))
    sys.stdout.flush()


def block_prompt(message):
    emit({"decision": "block", "reason": message})
''',
    'client.cli': r'''"""Command line: `hook <Event>` for Claude Code, the terminal commands for people."""


from .base import VERSION
from .paths import Paths


def parse_args(argv):
    import argparse

    parser = argparse.ArgumentParser(prog="governor_hook.py", description="Claude Governor hook client")
    parser.add_argument("--version", action="version", version=VERSION)
    sub = parser.add_subparsers(dest="command")
    setup = sub.add_parser("setup", help="register this machine and install the hook (root)")
    setup.add_argument("--code", required=True)
    setup.add_argument("--server", required=True)
    setup.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    setup.add_argument("--user", help="the developer who runs Claude Code (default: the sudo caller)")
    setup.add_argument(
        "--settings",
        choices=("dropin", "main"),
        default="dropin",
        help="register in managed-settings.d/ (default) or merge into managed-settings.json",
    )
    setup.add_argument(
        "--allow-user-hooks",
        action="store_true",
        help="do not set allowManagedHooksOnly (users' own hooks keep running)",
    )
    for name, text in (
        ("status", "usage and limits of every model"),
        ("sync", "fetch rules and status now"),
        ("doctor", "check the installation"),
        ("uninstall", "remove the hook and revoke this machine's token (root)"),
        ("watchdog", "restore the hook, config and managed settings if changed (root)"),
    ):
        command = sub.add_parser(name, help=text)
        if name == "uninstall":
            command.add_argument("--yes", action="store_true")
        if name == "watchdog":
            command.add_argument("--once", action="store_true", help="one pass (what the timer runs)")
    for command in sub.choices.values():
        command.add_argument("--install-dir", help=argparse.SUPPRESS)
    return parser, parser.parse_args(argv)


COMMANDS = {
    "setup": ("installer", "cmd_setup"),
    "uninstall": ("installer", "cmd_uninstall"),
    "watchdog": ("watchdog", "cmd_watchdog"),
    "status": ("commands", "cmd_status"),
    "sync": ("commands", "cmd_sync"),
    "doctor": ("commands", "cmd_doctor"),
}


def main(argv):
    """Hooks first and without argparse: they run on every prompt and tool call."""
    if argv[:1] == ["hook"]:
        from .hooks import run_hook

        return run_hook(Paths(), argv[1] if len(argv) > 1 else None)
    parser, args = parse_args(argv)
    if args.command not in COMMANDS:
        parser.print_help()
        return 1
    from importlib import import_module

    module, name = COMMANDS[args.command]
    return getattr(import_module(f".{module}", __package__), name)(args)
''',
    'client.commands': r'''"""The developer's terminal commands: `status`, `sync`, `doctor`."""

import os
import sys

from .base import Broken, Unreachable, now_utc, parse_iso, read_json, write_atomic
from .config import Install
from .counts import queued_counts
from .http import http_json
from .managed import registered
from .paths import Paths
from .rootfs import bytecode_path
from .server import do_sync, fetch_report
from .state import load_state, server_now
from .transcript import active_model


def _installed(paths):
    try:
        install = Install(paths)
    except Broken as exc:
        raise SystemExit(str(exc)) from None
    if not install.present:
        raise SystemExit(f"Claude Governor is not installed here ({paths.config} missing).")
    return install


def cmd_sync(args):
    paths = Paths(args.install_dir or None)
    install = _installed(paths)
    ok, message = do_sync(install, paths, {}, active_model({}, {"cwd": os.getcwd()}))
    if not ok:
        print(f"Sync failed: {message}", file=sys.stderr)
        return 2
    state = load_state(paths) or {}
    print(
        f"Synced with {install.server}: status {state.get('status')}, "
        f"{len(state.get('limits') or [])} rule(s)."
    )
    return 0


def cmd_status(args):
    from ..messages import format_when
    from .offline import report_from_local, team_zone
    from .usage import usage_lines

    paths = Paths(args.install_dir or None)
    install = _installed(paths)
    why = []
    report = fetch_report(install, paths, timeout=5, why=why)
    state = load_state(paths)
    if report is not None and state is None:
        do_sync(install, paths, {}, "default")
        state = load_state(paths)
    if state is None:
        print(f"Claude Governor has never synced with {install.server}: {why[0]}.")
        return 2
    now = server_now(state)
    if report is None:
        report = report_from_local(state, now)
        synced = format_when(parse_iso(state["synced_at"]), team_zone(state))
        print(f"{why[0][0].upper()}{why[0][1:]}; figures from the cache (last synced {synced}).")
    else:
        print(f"Live from {install.server}.")
    seat = state.get("seat") or {}
    print("Seat: {} ({})".format(seat.get("name") or "?", seat.get("status") or state.get("status")))
    print("")
    for line in usage_lines(report, state, now, bars=True):
        print(line)
    pending = len(queued_counts(paths))
    if pending:
        print(f"\n{pending} counted turn(s) waiting to be sent to the server.")
    return 0


def cmd_doctor(args):
    import stat
    import time

    paths = Paths(args.install_dir or None)
    problems = 0

    def report(ok, text):
        nonlocal problems
        problems += 0 if ok else 1
        print("{} {}".format("ok  " if ok else "FAIL", text))

    try:
        install = Install(paths)
        report(install.present, f"configuration {paths.config}")
    except Broken as exc:
        report(False, str(exc))
        return 1
    if not install.present:
        return 1
    report(os.path.isfile(paths.hook), f"hook {paths.hook}")
    report(os.path.isfile(bytecode_path(paths.hook)), "hook bytecode compiled (fast start)")
    for path in (paths.install_dir, paths.hook, paths.launcher, paths.config):
        try:
            info = os.stat(path)
        except OSError:
            continue
        owner_ok = os.name == "nt" or info.st_uid == 0 or bool(os.environ.get("GOVERNOR_ROOT"))
        writable = info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
        report(owner_ok and not writable, f"{path} is owned by root and not writable by others")
    try:
        token_mode = os.stat(paths.token).st_mode
        report(not token_mode & (stat.S_IRWXG | stat.S_IRWXO), "token readable only by its owner")
    except OSError:
        report(False, f"token {paths.token} missing")
    config = install.config
    try:
        settings = read_json(config.get("settings_file") or "")
    except (OSError, ValueError):
        settings = None
    report(
        registered(settings, config.get("python"), paths.launcher, config.get("managed_hooks_only", True)),
        "hooks registered in {}".format(config.get("settings_file")),
    )
    report(
        bool(config.get("python")) and os.path.isfile(config.get("python")),
        "interpreter {}".format(config.get("python")),
    )
    try:
        os.makedirs(paths.state_dir, mode=0o700, exist_ok=True)
        probe = os.path.join(paths.state_dir, ".doctor")
        write_atomic(probe, b"ok")
        os.remove(probe)
        report(True, f"state directory {paths.state_dir} is writable")
    except OSError as exc:
        report(False, f"state directory {paths.state_dir}: {exc}")
    started = time.monotonic()
    try:
        status, body = http_json("GET", install.server, "/api/v1/health", timeout=5)
        elapsed = (time.monotonic() - started) * 1000
        report(status == 200, f"server {install.server} answers ({elapsed:.0f} ms)")
        server_time = parse_iso(body.get("timestamp"))
        if server_time is not None:
            skew = (now_utc() - server_time).total_seconds()
            report(abs(skew) < 60, f"clock skew {skew:+.1f} s (limit ±60 s)")
        status, body = install.call("GET", "/api/v1/status", timeout=5)
        report(
            status == 200,
            "token accepted" if status == 200 else "token rejected: {}".format(body.get("error")),
        )
    except Unreachable as exc:
        report(False, f"server {install.server} unreachable: {exc}")
    state = load_state(paths)
    report(state is not None, "rules synced {}".format((state or {}).get("synced_at", "never")))
    pending = len(queued_counts(paths))
    report(pending == 0, f"{pending} counted turn(s) waiting to be sent")
    return 1 if problems else 0

''',
    'client.config': r'''"""The root-owned installation: config.json and this machine's token."""

import os

from .base import GATE_TIMEOUT, Broken, read_json
from .http import http_json
from .paths import DROPIN_NAME, HOOK_NAME, install_traces


class Install:
    def __init__(self, paths):
        self.paths = paths
        try:
            config = read_json(paths.config)
        except (OSError, ValueError) as exc:
            raise Broken(f"Claude Governor's configuration ({paths.config}) is unreadable: {exc}.") from None
        self.present = config is not None
        self.config = config or {}
        self.token = ""
        if not self.present:
            traces = leftovers(paths.install_dir)
            if traces:
                # Deleting config.json must not turn an install off: whatever of it remains fails closed
                # until the watchdog (or setup) restores the configuration.
                raise Broken(
                    f"Claude Governor's configuration ({paths.config}) is missing, but the rest of its "
                    f"install is present ({', '.join(traces)})."
                )
            return
        self.server = str(self.config.get("server_url") or "").rstrip("/")
        try:
            with open(paths.token, encoding="utf-8") as handle:
                self.token = handle.read().strip()
        except OSError as exc:
            raise Broken(f"Claude Governor's token ({paths.token}) is unreadable: {exc.strerror}.") from None
        if not self.server or not self.token:
            raise Broken("Claude Governor's configuration is incomplete (server URL or token missing).")

    def call(self, method, path, payload=None, timeout=GATE_TIMEOUT):
        return http_json(method, self.server, path, payload, token=self.token, timeout=timeout)


def leftovers(install_dir):
    """What remains of an install without its configuration: files in its directory, its drop-in."""
    traces = install_traces(install_dir)
    if os.path.exists(os.path.join(install_dir, HOOK_NAME)):
        traces.append(HOOK_NAME)
    dropin = os.path.join(os.path.dirname(install_dir), "managed-settings.d", DROPIN_NAME)
    if os.path.exists(dropin):
        traces.append(dropin)
    return traces
''',
    'client.counts': r'''"""The count queue: every turn is written to disk before it is sent, and replayed until the server has it."""

import os

from .base import REPLAY_BATCH, Unreachable, forget, iso, now_utc, read_json, write_atomic
from .paths import log
from .state import update_state


def queue_count(paths, payload):
    write_atomic(os.path.join(paths.queue, payload["event_id"] + ".json"), payload, sync=True)


def queued_counts(paths):
    try:
        names = sorted(os.listdir(paths.queue))
    except OSError:
        return []
    entries = []
    for name in names:
        if not name.endswith(".json"):
            continue
        path = os.path.join(paths.queue, name)
        try:
            payload = read_json(path)
        except (OSError, ValueError):
            payload = None
        if payload and payload.get("event_id"):
            entries.append((payload.get("timestamp") or "", path, payload))
    entries.sort(key=lambda item: item[0])
    return [(path, payload) for _, path, payload in entries]


def send_count(install, paths, path, payload, timeout):
    """True when the server has the count (recorded now or before); the queue file then goes.
    Raises Unreachable to stop a replay early."""
    status, body = install.call("POST", "/api/v1/count", payload, timeout=timeout)
    if status == 200 and body.get("recorded"):
        forget(path)
        update_state(paths, lambda s: _mark_sent(s, payload["event_id"], now_utc()))
        return True
    if status == 400:
        # The server will never accept this body; keeping it would block the queue forever.
        log(paths, "count {} rejected: {}".format(payload["event_id"], body.get("error")))
        forget(path)
        return False
    raise Unreachable(f"HTTP {status}: {body.get('error')}")


def _mark_sent(state, event_id, now):
    state["contact_at"] = iso(now)
    for turn in state.get("turns") or []:
        if turn.get("id") == event_id:
            turn["sent"] = True


def replay_queue(install, paths, timeout, budget):
    """Send queued counts oldest first with their event_id and original timestamp; the server places
    each in its original window and ignores repeats. Stops after `budget` seconds, well inside Claude
    Code's handler timeout (a killed hook does not block); the rest goes next time.
    Returns (reachable, drained)."""
    import time

    deadline = time.monotonic() + budget
    batch = int(paths.tunable(install.config, "replay_batch", REPLAY_BATCH))
    for path, payload in queued_counts(paths)[:batch]:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return True, False
        try:
            send_count(install, paths, path, payload, min(timeout, remaining))
        except Unreachable:
            return False, False
    return True, not queued_counts(paths)

''',
    'client.gate': r'''"""The prompt gate (UserPromptSubmit): the server decides; without a decision, the cache does."""

import os

from .base import GATE_TIMEOUT, Unreachable, block_prompt, now_utc, parse_iso
from .counts import queued_counts, replay_queue
from .paths import log
from .server import apply_answer, do_sync, fetch_report, react_to_status
from .state import load_session, load_state, save_session, server_now, update_state
from .transcript import active_model, advance_transcript


def on_prompt(paths, install, inp):
    """The gate. Allowed prints nothing; denied prints a block decision with the full message."""
    config = install.config
    session_id = str(inp.get("session_id") or "")
    session = load_session(paths, session_id or "no-session")
    if advance_transcript(session, inp.get("transcript_path") or session.get("transcript")):
        save_session(paths, session_id or "no-session", session)
    model = active_model(session, inp)
    state = load_state(paths)
    timeout = paths.tunable(config, "gate_timeout", GATE_TIMEOUT)
    reachable = True
    if state is None:
        # Never synced (or the cache is corrupt): sync first, so offline enforcement has rules later.
        ok, message = do_sync(install, paths, inp, model, timeout=timeout, replay_budget=timeout, full=False)
        reachable = ok or not message.startswith("server unreachable")
        state = load_state(paths)
    drained = True
    if state is not None and queued_counts(paths):
        # Offline turns go first, so the server decides on exact totals.
        reachable, drained = replay_queue(install, paths, timeout, budget=2 * timeout)
    body = None
    if reachable:
        prompt = inp.get("prompt")
        payload = {
            "model": model,
            "local_usage": {},
            "prompt_length": len(prompt) if isinstance(prompt, str) else 0,
            "project_dir": os.path.basename(str(inp.get("cwd") or "").rstrip("\\/")),
            "session_id": session_id,
        }
        try:
            status, body = install.call("POST", "/api/v1/check", payload, timeout=timeout)
        except Unreachable as exc:
            body, status, reachable = None, None, False
            log(paths, f"check: server unreachable: {exc}")
    if body is None:
        return _offline_gate(paths, state, model)
    if not drained and status == 200 and body.get("allowed") is True:
        # The server has not seen every turn yet: its allow stands only if the local count agrees.
        now = now_utc()
        state = update_state(paths, lambda s: apply_answer(s, body, now, "check"))
        return _offline_gate(paths, load_state(paths) or state, model, checked_online=True)
    return _online_decision(paths, install, state, status, body, timeout)


def _online_decision(paths, install, state, status, body, timeout):
    allowed = body.get("allowed")
    if not isinstance(allowed, bool):
        block_prompt(
            f"Claude Governor's server gave an unexpected answer (HTTP {status}: "
            f"{body.get('error') or 'no decision'}). The prompt was not sent; "
            "try again, and tell your admin if this persists."
        )
        return 0
    if status != 200:
        # Error bodies decide this prompt (never allowing it) but never reach the cache.
        reason = body.get("reason") or body.get("error") or "Claude Governor could not check this prompt."
        block_prompt(f"{reason}\n\n(Claude Governor server: HTTP {status})")
        return 0
    now = now_utc()
    previous = {}

    def change(s):
        previous["status"] = s.get("status")
        apply_answer(s, body, now, "check")

    new_state = update_state(paths, change)
    react_to_status(install, paths, previous.get("status"), new_state)
    if allowed is True and body.get("status") == "active":
        return 0
    report = fetch_report(install, paths, timeout)
    state = load_state(paths)
    if report is None and state is not None:
        from .offline import report_from_local

        report = report_from_local(state, server_now(state))
    if state is None:
        state = dict(new_state, limits=new_state.get("limits") or [], credit_weights={})
    from .usage import deny_message

    message = deny_message(
        body.get("reason") or "Claude Governor blocked this prompt.",
        report,
        state,
        parse_iso(body.get("resets_at")),
        now,
    )
    block_prompt(message)
    return 0


def _offline_gate(paths, state, model, checked_online=False, why="server unreachable"):
    """Decides from the cache, within the team's offline grace. `why` says in the message what made the
    server's answer unusable (unreachable, or an answer that was no decision)."""
    if state is None:
        block_prompt(
            f"{_headline(why)} and this machine has not synced its rules yet, so prompts stay blocked. "
            "Check your network connection and try again; ask your admin if the server is down."
        )
        return 0
    from datetime import timedelta

    from ..messages import format_when
    from . import offline
    from .usage import countdown, deny_message

    now = server_now(state)
    contact = parse_iso(state.get("contact_at"))
    grace = state.get("offline_grace_seconds")
    grace = grace if isinstance(grace, int) and grace >= 0 else 0
    tz = offline.team_zone(state)
    if not checked_online and (contact is None or now - contact > timedelta(seconds=grace)):
        block_prompt(
            "{}, last reached {}. Your team allows {} of offline use, so prompts are blocked until the "
            "server answers again. Check your network connection.".format(
                _headline(why),
                format_when(contact, tz) if contact else "never",
                countdown(grace) if grace else "no time",
            )
        )
        return 0
    decision = offline.decide(state, model, now)
    if decision.allowed:
        return 0
    note = "(Claude Governor {}: enforced from the rules synced {}.)".format(
        why, format_when(parse_iso(state["synced_at"]), tz)
    )
    if checked_online:
        note = "(Counted by this machine, including turns the server has not received yet.)"
    report = offline.report_from_local(state, now)
    block_prompt(deny_message(decision.reason, report, state, decision.resets_at, now, offline_note=note))
    return 0


def _headline(why):
    if why == "server unreachable":
        return "Claude Governor cannot reach its server"
    return f"Claude Governor's server is unavailable ({why})"
''',
    'client.hooks': r'''"""The four Claude Code hook events: session start, the prompt gate, the tool-call stop, the turn count."""

import os
import sys

from .base import (
    COUNT_TIMEOUT,
    PROBE_TIMEOUT,
    RECHECK_SECONDS,
    SESSION_RETENTION_DAYS,
    USAGE_FIELDS,
    Broken,
    Unreachable,
    block_prompt,
    emit,
    iso,
    new_event_id,
    now_utc,
    parse_iso,
)
from .config import Install
from .counts import queue_count, replay_queue, send_count
from .gate import on_prompt
from .jsonfast import json_loads
from .paths import log
from .server import apply_answer, do_sync, react_to_status
from .state import load_session, load_state, save_session, server_now, update_state
from .transcript import active_model, advance_transcript, tail_model


def on_session_start(paths, install, inp):
    session_id = inp.get("session_id") or "no-session"
    session = load_session(paths, session_id)
    transcript = inp.get("transcript_path")
    if isinstance(inp.get("model"), str) and inp["model"].strip():
        session["model"] = inp["model"].strip()
        session["model_source"] = "session_start"
    else:
        # A resumed or cleared session: a model seen before this start no longer outranks settings.
        session.pop("model", None)
    if isinstance(transcript, str) and transcript:
        history = tail_model(transcript)
        if history:
            session["history_model"] = history
        if session.get("transcript") != transcript or not isinstance(session.get("offset"), int):
            try:
                # History written before this session's first start predates the install or was counted
                # already; a compacted or cleared session keeps reading where it was.
                session["offset"] = os.path.getsize(transcript)
            except OSError:
                session["offset"] = 0
        session["transcript"] = transcript
    save_session(paths, session_id, session)
    _prune_sessions(paths)
    if install.present:
        ok, message = do_sync(install, paths, inp, active_model(session, inp))
        if not ok:
            log(paths, f"sync at session start failed: {message}")
    return 0


def _prune_sessions(paths):
    import time

    cutoff = time.time() - SESSION_RETENTION_DAYS * 86400
    try:
        for name in os.listdir(paths.sessions):
            path = os.path.join(paths.sessions, name)
            if os.path.getmtime(path) < cutoff:
                os.remove(path)
    except OSError:
        pass


def on_pre_tool(paths, install, inp):
    """Stops a paused or killed seat mid-turn, from the status learned at the last answer; asks the
    server again at most once per recheck interval."""
    state = load_state(paths)
    if state is None:
        return 0
    now = now_utc()
    interval = paths.tunable(install.config, "recheck_seconds", RECHECK_SECONDS)
    learned = parse_iso(state.get("status_at")) or parse_iso(state.get("contact_at"))
    tried = parse_iso(state.get("probe_at"))
    stale = learned is None or (now - learned).total_seconds() >= interval
    if stale and (tried is None or (now - tried).total_seconds() >= interval):
        update_state(paths, lambda s: s.__setitem__("probe_at", iso(now)))
        timeout = paths.tunable(install.config, "probe_timeout", PROBE_TIMEOUT)
        try:
            status, body = install.call(
                "POST", "/api/v1/check", {"model": "default", "local_usage": {}}, timeout=timeout
            )
        except Unreachable:
            status, body = None, None
        if status == 200 and body.get("status") in ("active", "paused", "killed"):
            previous = state.get("status")
            state = update_state(paths, lambda s: apply_answer(s, {"status": body["status"]}, now, "probe"))
            react_to_status(install, paths, previous, state)
    if state.get("status") in ("killed", "paused"):
        from .. import messages

        reason = messages.KILLED if state["status"] == "killed" else messages.PAUSED
        emit(
            {
                "continue": False,
                "stopReason": reason,
                "hookSpecificOutput": {
                    "hookEventName": "PreToolUse",
                    "permissionDecision": "deny",
                    "permissionDecisionReason": reason,
                },
            }
        )
    return 0


def on_stop(paths, install, inp):
    """Counts the turn: queued on disk first, then sent; a turn is never lost to a network failure."""
    session_id = str(inp.get("session_id") or "")
    session = load_session(paths, session_id or "no-session")
    advance_transcript(session, inp.get("transcript_path") or session.get("transcript"))
    usage = dict(zip(USAGE_FIELDS, session.get("pending") or [0, 0, 0, 0]))
    model = active_model(session, inp)
    state = load_state(paths) or {}
    now = server_now(state)
    last = inp.get("last_assistant_message")
    payload = {
        "model": model,
        "timestamp": iso(now),
        "session_id": session_id,
        "response_length": len(last) if isinstance(last, str) else 0,
        "event_id": new_event_id(),
        "usage": usage,
    }
    try:
        queue_count(paths, payload)
    except OSError as exc:
        log(paths, f"count {payload['event_id']} could not be queued, sending it directly: {exc}")
    session["pending"] = [0, 0, 0, 0]
    save_session(paths, session_id or "no-session", session)
    from . import offline

    family = offline.family_of(state, model)
    turn = {
        "id": payload["event_id"],
        "at": payload["timestamp"],
        "family": family,
        "cost": offline.credit_cost(state, family),
        "sent": False,
    }
    update_state(paths, lambda s: s.setdefault("turns", []).append(turn))
    timeout = paths.tunable(install.config, "count_timeout", COUNT_TIMEOUT)
    path = os.path.join(paths.queue, payload["event_id"] + ".json")
    try:
        send_count(install, paths, path, payload, timeout)
    except Unreachable as exc:
        log(paths, f"count queued for replay: {exc}")
        return 0
    replay_queue(install, paths, timeout, budget=2 * timeout)
    return 0


def run_hook(paths, event):
    raw = sys.stdin.buffer.read() if not sys.stdin.isatty() else b""
    try:
        inp = json_loads(raw) if raw.strip() else {}
    except ValueError:
        inp = {}
    if not isinstance(inp, dict):
        inp = {}
    event = event or inp.get("hook_event_name")
    handler = {
        "SessionStart": on_session_start,
        "UserPromptSubmit": on_prompt,
        "PreToolUse": on_pre_tool,
        "Stop": on_stop,
    }.get(event)
    if handler is None:
        sys.stderr.write(f"claude-governor: unknown hook event {event!r}\n")
        return 0
    try:
        install = Install(paths)
    except Broken as exc:
        if event == "UserPromptSubmit":
            block_prompt(f"{exc} Prompts are blocked until this is repaired; ask your admin.")
        return 0
    if not install.present:
        return 0  # not installed: the hook is not ours to enforce
    try:
        return handler(paths, install, inp)
    except Exception as exc:
        log(paths, f"{event} failed: {exc!r}")
        if event == "UserPromptSubmit":
            block_prompt(f"Claude Governor hit an internal error ({exc}) and blocked this prompt to be safe.")
        return 0

''',
    'client.http': r'''"""HTTP/1.1 over a plain socket: the http and urllib packages cost more start-up than the whole gate."""

from .base import GATE_TIMEOUT, VERSION, Broken, Unreachable
from .jsonfast import json_dumps, json_loads


def _split_url(url):
    scheme, sep, rest = url.partition("://")
    if not sep or scheme not in ("http", "https"):
        raise Broken(f"The server URL {url!r} is not an http(s) URL.")
    hostport, _, base = rest.partition("/")
    base = "/" + base.rstrip("/") if base.strip("/") else ""
    if hostport.startswith("["):
        host, _, port = hostport[1:].partition("]")
        port = port.lstrip(":")
    else:
        host, _, port = hostport.partition(":")
    return scheme, host, int(port) if port else (443 if scheme == "https" else 80), hostport, base


def _read_response(sock, deadline):
    import time

    buf = b""
    head = None
    length = None
    chunked = False
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise Unreachable("timed out")
        sock.settimeout(remaining)
        data = sock.recv(65536)
        if data:
            buf += data
            if len(buf) > 4 * 1024 * 1024:
                raise Unreachable("response too large")
        if head is None and b"\r\n\r\n" in buf:
            head, buf = buf.split(b"\r\n\r\n", 1)
            lines = head.decode("latin-1").split("\r\n")
            parts = lines[0].split(" ", 2)
            if len(parts) < 2 or not parts[1].isdigit():
                raise Unreachable("not an HTTP response")
            status = int(parts[1])
            headers = {}
            for line in lines[1:]:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            chunked = "chunked" in headers.get("transfer-encoding", "").lower()
            if headers.get("content-length", "").isdigit():
                length = int(headers["content-length"])
        if head is not None:
            if length is not None and len(buf) >= length:
                return status, headers, buf[:length]
            if chunked and (buf.endswith(b"0\r\n\r\n") or not data):
                return status, headers, _unchunk(buf)
        if not data:
            if head is None:
                raise Unreachable("connection closed before a response")
            return status, headers, buf


def _unchunk(buf):
    body = b""
    while buf:
        size_line, _, buf = buf.partition(b"\r\n")
        size = int(size_line.split(b";")[0].strip() or b"0", 16)
        if size == 0:
            break
        body += buf[:size]
        buf = buf[size + 2 :]
    return body


def _connect(scheme, host, port, timeout):
    """A connected socket. Plain HTTP uses `_socket` directly: the socket module imports `enum` and
    `selectors`, and a str host name pulls in the idna codec; together several ms per prompt."""
    if scheme == "https":
        import socket
        import ssl

        sock = socket.create_connection((host, port), timeout=timeout)
        return ssl.create_default_context().wrap_socket(sock, server_hostname=host)
    import _socket

    name = host.encode("ascii") if host.isascii() else host
    error = OSError(f"cannot resolve {host}")
    for family, kind, proto, _, address in _socket.getaddrinfo(name, port, 0, _socket.SOCK_STREAM):
        sock = _socket.socket(family, kind, proto)
        sock.settimeout(timeout)
        try:
            sock.connect(address)
            return sock
        except OSError as exc:
            sock.close()
            error = exc
    raise error


def http_json(method, url, path, payload=None, token=None, timeout=GATE_TIMEOUT):
    """(status, JSON object). Raises Unreachable when the server gave no usable JSON answer in time."""
    import time

    scheme, host, port, hostport, base = _split_url(url)
    body = json_dumps(payload).encode() if payload is not None else b""
    lines = [
        f"{method} {base}{path} HTTP/1.1",
        "Host: " + hostport,
        "User-Agent: claude-governor-hook/" + VERSION,
        "Accept: application/json",
        "Connection: close",
    ]
    if token:
        lines.append("Authorization: Bearer " + token)
    if payload is not None:
        lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
    request = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body
    deadline = time.monotonic() + timeout
    try:
        sock = _connect(scheme, host, port, timeout)
        try:
            sock.sendall(request)
            status, _headers, raw = _read_response(sock, deadline)
        finally:
            sock.close()
    except (OSError, ValueError) as exc:
        raise Unreachable(str(exc) or exc.__class__.__name__) from None
    try:
        data = json_loads(raw)
    except ValueError:
        raise Unreachable(f"HTTP {status} with a body that is not JSON") from None
    if not isinstance(data, dict):
        raise Unreachable(f"HTTP {status} with a JSON body that is not an object")
    return status, data

''',
    'client.installer': r'''"""`setup` and `uninstall` (root): register with the server, write the install, restore it all on removal."""

import os
import sys

from .base import VERSION, Broken, Unreachable, forget, iso, now_utc, read_json, sha256_file, write_atomic
from .config import Install
from .http import http_json
from .jsonfast import pretty_json
from .managed import merge_settings, restore_settings
from .paths import DROPIN_NAME, HOOK_NAME, LAUNCHER, LAUNCHER_NAME, Paths, program_file, rooted
from .rootfs import compile_hook, is_root, require_root, target_user, write_file
from .watchdog import LAUNCHD_LABEL, UNIT_NAME, WINDOWS_TASK, install_watchdog


def _ask(question, yes):
    if yes:
        return True
    try:
        with open("/dev/tty" if os.name != "nt" else "CON") as tty:
            sys.stdout.write(question + " [y/N] ")
            sys.stdout.flush()
            return tty.readline().strip().lower() in ("y", "yes")
    except OSError:
        raise SystemExit("No terminal to confirm on; pass --yes.") from None


def cmd_setup(args):
    require_root("setup")

    server = args.server.rstrip("/")
    paths = Paths(args.install_dir or None)
    user = target_user(args.user)
    managed_dir = os.path.dirname(paths.install_dir) if args.install_dir else Paths.managed_dir()
    settings_file = (
        os.path.join(managed_dir, "managed-settings.json")
        if args.settings == "main"
        else os.path.join(managed_dir, "managed-settings.d", DROPIN_NAME)
    )
    if not _ask(
        "Install the Claude Governor hook for {} (server {})?".format(
            user[3] if user else "this machine", server
        ),
        args.yes,
    ):
        print("Nothing installed.")
        return 1
    try:
        status, body = http_json("POST", server, "/api/v1/register", {"code": args.code}, timeout=15)
    except Unreachable as exc:
        print(f"Cannot reach {server}: {exc}", file=sys.stderr)
        return 2
    if status != 200 or not body.get("auth_token"):
        print(f"Registration failed (HTTP {status}): {body.get('error') or 'no token'}", file=sys.stderr)
        return 2
    seat = body.get("user") if isinstance(body.get("user"), dict) else {}
    _revoke_previous_token(paths)
    python = os.path.realpath(sys.executable)
    os.makedirs(paths.install_dir, mode=0o755, exist_ok=True)
    os.chmod(paths.install_dir, 0o755)
    os.makedirs(paths.backup, mode=0o700, exist_ok=True)
    os.chmod(paths.backup, 0o700)
    previous = None
    try:
        previous = read_json(os.path.join(paths.backup, "config.json"))
    except (OSError, ValueError):
        previous = None
    program = program_file()
    if program is None:
        raise SystemExit("setup installs the built file: run limiter/hook_client/governor_hook.py setup …")
    with open(program, "rb") as handle:
        hook_bytes = handle.read()
    write_file(paths.hook, hook_bytes, 0o644)
    write_file(paths.launcher, LAUNCHER.encode(), 0o644)
    compile_hook(paths)
    settings_original = (previous or {}).get("settings_original")
    if previous is None:
        settings_original = None
        if os.path.exists(settings_file):
            with open(settings_file, "rb") as handle:
                original = handle.read()
            write_file(os.path.join(paths.backup, "settings.orig"), original, 0o600)
            settings_original = "settings.orig"
    try:
        current = read_json(settings_file)
    except ValueError:
        raise SystemExit(
            f"{settings_file} is not valid JSON; fix or move it, then run setup again."
        ) from None
    merged = merge_settings(current, python, paths.launcher, not args.allow_user_hooks)
    settings_dir_existed = os.path.isdir(os.path.dirname(settings_file))
    os.makedirs(os.path.dirname(settings_file), mode=0o755, exist_ok=True)
    write_file(settings_file, pretty_json(merged), 0o644)
    token_owner = (user[0], user[1]) if user and is_root() else None
    write_file(
        paths.token, (body["auth_token"] + "\n").encode(), 0o400 if token_owner else 0o600, token_owner
    )
    watchdog = install_watchdog(python, paths, args, dry=bool(os.environ.get("GOVERNOR_ROOT")))
    config = {
        "version": VERSION,
        "server_url": server,
        "seat": {k: seat.get(k) for k in ("id", "name", "slug")},
        "installed_at": iso(now_utc()),
        "python": python,
        "install_dir": paths.install_dir,
        "settings_file": settings_file,
        "settings_original": settings_original,
        "settings_dir_existed": (previous or {}).get("settings_dir_existed", settings_dir_existed),
        "managed_hooks_only": not args.allow_user_hooks,
        "claude_bin": _find_claude(user) or (previous or {}).get("claude_bin"),
        "user": user[3] if user else None,
        "watchdog": watchdog,
    }
    write_file(paths.config, pretty_json(config), 0o644)
    snapshot_backup(paths, config)
    if user and is_root():
        _prepare_state_dir(user)
    print("Claude Governor is installed for {} ({}).".format(seat.get("name") or "this seat", server))
    print(f"  hook:     {paths.hook}")
    print(f"  settings: {settings_file}")
    print("  watchdog: {}".format(watchdog["summary"]))
    print("Restart Claude Code to start using it.")
    return 0


def _find_claude(user):
    """The `claude` the developer runs: sudo's PATH rarely has a per-user install in it."""
    import shutil

    found = shutil.which("claude")
    if found or user is None:
        return found
    home = user[2]
    for candidate in (
        os.path.join(home, ".local", "bin", "claude"),
        os.path.join(home, ".claude", "local", "claude"),
        os.path.join(home, ".npm-global", "bin", "claude"),
        "/usr/local/bin/claude",
        "/opt/homebrew/bin/claude",
    ):
        if os.access(candidate, os.X_OK):
            return candidate
    return None


def _revoke_previous_token(paths):
    """Setting up again replaces this machine's token; the old one is retired on its server."""
    try:
        old = Install(Paths(paths.install_dir))
    except Broken:
        return
    if not old.present:
        return
    try:
        status, _ = old.call("POST", "/api/v1/revoke", {}, timeout=10)
    except Unreachable:
        status = None
    if status != 200:
        print(
            "warning: could not revoke this machine's previous token; ask your admin to revoke it.",
            file=sys.stderr,
        )


def _prepare_state_dir(user):
    """The per-user state directory, created owned by the developer so the hook can always write it."""
    uid, gid, home, _name = user
    parts = (".local", "state") if sys.platform != "darwin" else ("Library", "Application Support")
    directory = rooted(home)
    for part in (*parts, "claude-governor"):
        directory = os.path.join(directory, part)
        if not os.path.isdir(directory):
            os.makedirs(directory, mode=0o700, exist_ok=True)
            os.chown(directory, uid, gid)
    os.chmod(directory, 0o700)
    return directory


def snapshot_backup(paths, config):
    """Root-only copies of everything the watchdog guards, and their SHA-256."""
    import shutil

    sums = {}
    for name in (HOOK_NAME, LAUNCHER_NAME, "config.json", "token"):
        source = os.path.join(paths.install_dir, name)
        target = os.path.join(paths.backup, name)
        shutil.copyfile(source, target)
        os.chmod(target, 0o600)
        sums[name] = sha256_file(source)
    sums["settings"] = sha256_file(config["settings_file"])
    shutil.copyfile(config["settings_file"], os.path.join(paths.backup, "settings.json"))
    os.chmod(os.path.join(paths.backup, "settings.json"), 0o600)
    write_atomic(os.path.join(paths.backup, "checksums.json"), sums, mode=0o600)

def cmd_uninstall(args):
    require_root("uninstall")
    import shutil
    import subprocess

    paths = Paths(args.install_dir or None)
    try:
        config = read_json(os.path.join(paths.backup, "config.json")) or read_json(paths.config)
    except (OSError, ValueError):
        config = None
    if config is None:
        print(f"Claude Governor is not installed in {paths.install_dir}.")
        return 1
    if not _ask("Remove Claude Governor from this machine?", args.yes):
        return 1
    try:
        install = Install(Paths(paths.install_dir))
        status, body = install.call("POST", "/api/v1/revoke", {}, timeout=10)
        if status == 200:
            print(f"Revoked this machine's token on {install.server}.")
        else:
            print(
                f"warning: the server did not revoke the token (HTTP {status}: {body.get('error')}); "
                "ask your admin to revoke it.",
                file=sys.stderr,
            )
    except (Broken, Unreachable) as exc:
        print(
            f"warning: could not revoke the token on the server ({exc}); ask your admin to revoke it.",
            file=sys.stderr,
        )
    watchdog = config.get("watchdog") or {}
    if watchdog.get("activated"):
        kind = watchdog.get("kind")
        commands = {
            "systemd": [["systemctl", "disable", "--now", UNIT_NAME + ".timer"]],
            "launchd": [["launchctl", "bootout", "system/" + LAUNCHD_LABEL]],
            "schtasks": [["schtasks", "/Delete", "/F", "/TN", WINDOWS_TASK]],
        }.get(kind, [])
        for command in commands:
            try:
                subprocess.run(command, capture_output=True, timeout=60, check=False)
            except (OSError, subprocess.SubprocessError):
                pass
    for path in watchdog.get("files") or []:
        forget(path)
    restore_settings(paths, config)
    shutil.rmtree(paths.install_dir, ignore_errors=True)
    print("Claude Governor removed. Restart Claude Code.")
    return 0

''',
    'client.jsonfast': r'''"""JSON through the C accelerator: the json package costs about 7 ms of every hook's start-up."""

# Importing the json package costs about 7 ms of every hook's start-up (its decoder imports `re`, which
# imports `enum`). CPython's `_json` has the same scanner and encoder without those imports; where it is
# missing or differs, the json package is used instead.

_SCANNER = None


class _ScanContext:
    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int
    memo = None

    @staticmethod
    def parse_constant(name):
        return {"NaN": float("nan"), "Infinity": float("inf"), "-Infinity": float("-inf")}[name]


def _scanner():
    global _SCANNER
    if _SCANNER is None:
        try:
            from _json import make_scanner

            _SCANNER = make_scanner(_ScanContext())
        except (ImportError, AttributeError, TypeError):
            _SCANNER = False
    return _SCANNER or None


def json_loads(text):
    """Like json.loads; raises ValueError on anything that is not exactly one JSON document."""
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    scan = _scanner()
    if scan is None:
        import json

        return json.loads(text)
    start = len(text) - len(text.lstrip(" \t\n\r"))
    try:
        value, end = scan(text, start)
    except StopIteration:
        raise ValueError("Expecting value") from None
    except Exception:
        # Malformed input: the json package gives the authoritative error (the C scanner's error path
        # expects json.decoder to be loaded already).
        import json

        return json.loads(text)
    if text[end:].strip(" \t\n\r"):
        raise ValueError("Extra data")
    return value


def _not_serializable(obj):
    raise TypeError(f"{type(obj).__name__} is not JSON serializable")


def json_dumps(obj):
    """Like json.dumps(obj, sort_keys=True, separators=(",", ":")): compact, ASCII, sorted keys."""
    try:
        from _json import encode_basestring_ascii, make_encoder

        encode = make_encoder(
            None, _not_serializable, encode_basestring_ascii, None, ":", ",", True, False, True
        )
    except (ImportError, TypeError):
        import json

        return json.dumps(obj, sort_keys=True, separators=(",", ":"))
    return "".join(encode(obj, 0))


def pretty_json(obj):
    """For files people read (settings, config); never on the per-prompt path."""
    import json

    return json.dumps(obj, indent=2).encode() + b"\n"
''',
    'client.managed': r'''"""Our registrations in Claude Code's managed settings: merged in, checked, and taken out again."""

import os

from .base import EVENTS, HANDLER_TIMEOUTS, forget, read_json, sha256_file
from .jsonfast import json_loads, pretty_json
from .paths import HOOK_NAME
from .rootfs import write_file


def hook_command(python, hook_path, event):
    return f'"{python}" -I -S "{hook_path}" hook {event}'


def governor_hooks(python, hook_path):
    hooks = {}
    for event in EVENTS:
        handler = {
            "type": "command",
            "command": hook_command(python, hook_path, event),
            "timeout": HANDLER_TIMEOUTS[event],
        }
        group = {"hooks": [handler]}
        if event in ("PreToolUse", "SessionStart"):
            group["matcher"] = "*" if event == "PreToolUse" else ""
        hooks[event] = [group]
    return hooks


def _is_ours(handler):
    return isinstance(handler, dict) and HOOK_NAME in str(handler.get("command", ""))


def merge_settings(existing, python, hook_path, managed_only):
    """Our four hook registrations merged into a settings object; everything else is kept."""
    settings = dict(existing) if isinstance(existing, dict) else {}
    hooks = settings.get("hooks") if isinstance(settings.get("hooks"), dict) else {}
    hooks = strip_ours(hooks)
    for event, groups in governor_hooks(python, hook_path).items():
        hooks[event] = list(hooks.get(event) or []) + groups
    settings["hooks"] = hooks
    if managed_only:
        settings["allowManagedHooksOnly"] = True
    return settings


def strip_ours(hooks):
    cleaned = {}
    for event, groups in hooks.items():
        kept_groups = []
        for group in groups if isinstance(groups, list) else []:
            if not isinstance(group, dict):
                kept_groups.append(group)
                continue
            handlers = [h for h in group.get("hooks") or [] if not _is_ours(h)]
            if handlers:
                kept_groups.append(dict(group, hooks=handlers))
        if kept_groups:
            cleaned[event] = kept_groups
    return cleaned


def registered(settings, python, hook_path, managed_only):
    """Whether the settings still run our four hooks (and keep other hooks out, if so configured)."""
    if not isinstance(settings, dict) or not isinstance(settings.get("hooks"), dict):
        return False
    if managed_only and settings.get("allowManagedHooksOnly") is not True:
        return False
    for event in EVENTS:
        commands = [
            h.get("command")
            for g in settings["hooks"].get(event) or []
            if isinstance(g, dict)
            for h in g.get("hooks") or []
            if isinstance(h, dict)
        ]
        if hook_command(python, hook_path, event) not in commands:
            return False
    return True

def restore_settings(paths, config):
    """Put the managed settings back as they were: the original bytes when nobody else changed the file
    since, else only our registrations come out."""
    settings_file = config["settings_file"]
    sums = {}
    try:
        sums = read_json(os.path.join(paths.backup, "checksums.json")) or {}
    except (OSError, ValueError):
        pass
    original = None
    if config.get("settings_original"):
        with open(os.path.join(paths.backup, config["settings_original"]), "rb") as handle:
            original = handle.read()
    try:
        unchanged = sha256_file(settings_file) == sums.get("settings")
    except OSError:
        unchanged = True
    if unchanged:
        if original is None:
            forget(settings_file)
            if not config.get("settings_dir_existed", True):
                try:
                    os.rmdir(os.path.dirname(settings_file))
                except OSError:
                    pass
        else:
            write_file(settings_file, original, 0o644)
        return
    try:
        current = read_json(settings_file) or {}
    except ValueError:
        return
    before = {}
    if original is not None:
        try:
            before = json_loads(original)
        except ValueError:
            before = {}
    hooks = strip_ours(current.get("hooks") if isinstance(current.get("hooks"), dict) else {})
    current["hooks"] = hooks
    if not hooks:
        current.pop("hooks")
    if "allowManagedHooksOnly" in before:
        current["allowManagedHooksOnly"] = before["allowManagedHooksOnly"]
    else:
        current.pop("allowManagedHooksOnly", None)
    write_file(settings_file, pretty_json(current), 0o644)

''',
    'client.offline': r'''"""Offline decisions: the server's own engine (windows, engine, families, messages) fed from the cache.

Nothing here decides by itself: the cached rules become the engine's RuleSpecs, the last usage report
plus this machine's turns since become its Usage, and `engine.evaluate` answers as the server would.
Imported only when the server gave no decision: the engine's imports cost start-up time.
"""

from datetime import datetime, time, timedelta, timezone, tzinfo

from .. import engine, families, windows
from .base import iso, parse_iso


class FixedZone(tzinfo):
    """The team's zone where this Python has no time zone database (Windows without tzdata): the offset
    the server reported for the team's day start, under the zone's name so messages read the same."""

    def __init__(self, offset_seconds, key):
        self.offset = timedelta(seconds=offset_seconds)
        self.key = key

    def utcoffset(self, dt):
        return self.offset

    def dst(self, dt):
        return timedelta(0)

    def tzname(self, dt):
        return self.key


def load_zone(name, fallback_offset=None):
    try:
        from zoneinfo import ZoneInfo

        return ZoneInfo(name or "UTC")
    except Exception:
        if fallback_offset is None:
            fallback_offset = 0 if not name or name == "UTC" else _local_offset()
        return FixedZone(fallback_offset, name or "UTC")


def _local_offset():
    offset = datetime.now(timezone.utc).astimezone().utcoffset()
    return offset.total_seconds() if offset is not None else 0


def team_zone(state):
    """The team's zone; without a zone database, the offset of the last report's daily window start."""
    offset = None
    report = state.get("report") if isinstance(state.get("report"), dict) else {}
    daily = (report.get("usage") or {}).get("daily") or {}
    start = parse_iso(daily.get("windowStart") if isinstance(daily, dict) else None)
    if start is not None:
        seconds = start.hour * 3600 + start.minute * 60
        offset = -seconds if seconds <= 12 * 3600 else 86400 - seconds
    name = state.get("team_timezone") if isinstance(state.get("team_timezone"), str) else "UTC"
    return load_zone(name, offset)


def _clock(text):
    if not isinstance(text, str):
        return None
    hours, sep, minutes = text.partition(":")
    try:
        return time(int(hours), int(minutes[:2])) if sep else None
    except ValueError:
        return None


def _int(value):
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def rule_specs(limits):
    """The cached `limits` (the server's rule JSON) as the engine's rules, in the server's order.
    A rule the server could not have sent (no window, no value, no times) is left out."""
    specs = []
    for rule in limits if isinstance(limits, list) else []:
        if not isinstance(rule, dict) or rule.get("type") not in engine.RULE_TYPES:
            continue
        window = rule.get("window") if rule.get("window") in windows.WINDOWS else None
        start, end = _clock(rule.get("schedule_start")), _clock(rule.get("schedule_end"))
        if rule["type"] == engine.TIME_OF_DAY:
            if start is None or end is None:
                continue
        elif window is None or _int(rule.get("value")) is None:
            continue
        model = rule.get("model")
        specs.append(
            engine.RuleSpec(
                id=str(rule.get("id") or ""),
                type=rule["type"],
                model=model if isinstance(model, str) and model else None,
                window=window,
                value=_int(rule.get("value")),
                schedule_start=start,
                schedule_end=end,
                schedule_tz=rule.get("schedule_tz") if isinstance(rule.get("schedule_tz"), str) else None,
            )
        )
    return specs


def _turns(state):
    """This machine's turns, oldest first: (time, family, cost, already inside the last report)."""
    report_at = parse_iso(state.get("report_at"))
    turns = []
    for turn in state.get("turns") or []:
        at = parse_iso(turn.get("at")) if isinstance(turn, dict) else None
        if at is None:
            continue
        family = turn.get("family") if isinstance(turn.get("family"), str) else families.DEFAULT_FAMILY
        cost = _int(turn.get("cost")) or 0
        reported = bool(turn.get("sent")) and report_at is not None and at <= report_at
        turns.append((at, family, cost, reported))
    turns.sort(key=lambda item: item[0])
    return turns


def local_usage(state, now, tz):
    """The engine's Usage: the last server report, plus this machine's turns since (sent or not).

    A calendar window that began after the report starts empty; the sliding window keeps the report's
    counts for 24 h, which errs on the strict side. `recent` is the turns this machine knows of.
    """
    report = state.get("report") if isinstance(state.get("report"), dict) else {}
    report_at = parse_iso(state.get("report_at"))
    reported = report.get("usage") if isinstance(report.get("usage"), dict) else {}
    turns = _turns(state)
    counts, credits = {}, {}
    for window in windows.WINDOWS:
        start = windows.window_bounds(window, now, tz)[0]
        base = reported.get(window) if isinstance(reported.get(window), dict) else {}
        if window == windows.SLIDING_24H:
            keep = report_at is not None and now - report_at < windows.SLIDING_SPAN
        else:
            keep = report_at is not None and report_at >= start
        window_counts, window_credits = {}, 0
        if keep:
            for family, n in (base.get("counts") or {}).items():
                if _int(n) is not None:
                    window_counts[family] = n
            window_credits = _int(base.get("totalCredits")) or 0
        for at, family, cost, in_report in turns:
            if at < start or at > now or in_report:
                continue
            window_counts[family] = window_counts.get(family, 0) + 1
            window_credits += cost
        counts[window] = window_counts
        credits[window] = window_credits
    recent = [
        engine.CountedTurn(occurred_at=at, family=family, cost=cost)
        for at, family, cost, _ in turns
        if now - windows.SLIDING_SPAN <= at <= now
    ]
    return engine.Usage(counts=counts, credits=credits, recent=recent)


def family_of(state, model):
    """The family the server would charge: same rules, same team aliases and extra families."""
    extra = state.get("extra_families") if isinstance(state.get("extra_families"), list) else ()
    aliases = state.get("model_aliases") if isinstance(state.get("model_aliases"), dict) else None
    return families.normalize_family(model, extra_families=extra, aliases=aliases)


def credit_cost(state, family):
    weights = state.get("credit_weights") if isinstance(state.get("credit_weights"), dict) else {}
    return engine.credit_cost(family, weights)


def decide(state, model, now):
    """The server's decision for `model` at `now` from the cache: an engine.Decision."""
    tz = team_zone(state)
    rules = rule_specs(state.get("limits"))
    seat_name = (state.get("seat") or {}).get("name") or "you"
    return engine.evaluate(
        status=state["status"],
        seat_name=seat_name,
        rules=rules,
        family=family_of(state, model),
        usage=local_usage(state, now, tz),
        weights=state.get("credit_weights") if isinstance(state.get("credit_weights"), dict) else {},
        tz=tz,
        now=now,
    )


def report_from_local(state, now):
    """A /status-shaped report built offline from the cache, for messages, `status` and the status line."""
    tz = team_zone(state)
    usage = local_usage(state, now, tz)
    rules = rule_specs(state.get("limits"))
    position = engine.tightest_credit_position(rules, usage)
    return {
        "user": state.get("seat") or {},
        "limits": state.get("limits") or [],
        "credit_weights": state.get("credit_weights") or {},
        "credit_balance": position.balance if position else None,
        "credit_budget": position.budget if position else None,
        "usage": {
            window: {
                "counts": dict(usage.counts[window]),
                "totalCredits": usage.credits[window],
                "windowStart": iso(windows.window_bounds(window, now, tz)[0]),
            }
            for window in windows.WINDOWS
        },
    }
''',
    'client.paths': r'''"""Where the client's files live on each OS, and the hook log."""

import os
import sys

from .base import LOG_LIMIT, iso, now_utc

HOOK_NAME = "governor_hook.py"
# Claude Code starts this small file; it imports the client, whose bytecode setup compiled ahead. Running
# the built client as a script would compile it on every prompt (about 40 ms).
LAUNCHER_NAME = "run_governor_hook.py"
LAUNCHER = (
    "import os, sys\n"
    "sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))\n"
    "from governor_hook import main\n"
    "sys.exit(main(sys.argv[1:]))\n"
)
DROPIN_NAME = "50-claude-governor.json"


def _system_managed_dir():
    if sys.platform == "darwin":
        return "/Library/Application Support/ClaudeCode"
    if os.name == "nt":
        return os.path.join(os.environ.get("PROGRAMFILES", r"C:\Program Files"), "ClaudeCode")
    return "/etc/claude-code"


def rooted(path):
    """`path` under GOVERNOR_ROOT when set: tests install into a temporary root."""
    root = os.environ.get("GOVERNOR_ROOT")
    if not root:
        return path
    rest = os.path.splitdrive(path)[1].lstrip("\\/")
    return os.path.join(root, rest)


def running_bundle():
    """The built single file's loader (limiter/hook_client/bundle_head.py) when running from it."""
    return getattr(sys.modules.get(__name__.split(".")[0]), "__bundle__", None)


def program_file():
    """The built single file this client runs from; None when running from the package sources."""
    bundle = running_bundle()
    return bundle.path if bundle is not None else None


def install_traces(install_dir):
    """The root-owned parts of an install present in `install_dir`."""
    names = ("config.json", "token", LAUNCHER_NAME, ".backup")
    return [name for name in names if os.path.exists(os.path.join(install_dir, name))]


def home_dir():
    return os.environ.get("GOVERNOR_HOME") or os.path.expanduser("~")


def default_state_dir():
    if os.environ.get("GOVERNOR_STATE_DIR"):
        return os.environ["GOVERNOR_STATE_DIR"]
    if os.name == "nt":
        base = os.environ.get("LOCALAPPDATA") or os.path.join(home_dir(), "AppData", "Local")
        return os.path.join(base, "claude-governor")
    if sys.platform == "darwin":
        return os.path.join(home_dir(), "Library", "Application Support", "claude-governor")
    base = os.environ.get("XDG_STATE_HOME") or os.path.join(home_dir(), ".local", "state")
    return os.path.join(base, "claude-governor")


class Paths:
    """Where things live. An installed copy trusts only the directory it sits in, never the environment:
    a user who could point the hook at another config through an env var could bypass it."""

    def __init__(self, install_dir=None):
        program = program_file()
        here = os.path.dirname(program) if program else None
        # A copy in a directory holding any part of an install is that install, even with config.json
        # gone: it then fails closed instead of falling back to the environment (or to "not installed").
        self.installed_copy = install_dir is None and here is not None and bool(install_traces(here))
        if install_dir:
            self.install_dir = install_dir
        elif self.installed_copy:
            self.install_dir = here
        else:
            self.install_dir = os.environ.get("GOVERNOR_INSTALL_DIR") or os.path.join(
                self.managed_dir(), "claude-governor"
            )
        self.config = os.path.join(self.install_dir, "config.json")
        self.token = os.path.join(self.install_dir, "token")
        self.hook = os.path.join(self.install_dir, HOOK_NAME)
        self.launcher = os.path.join(self.install_dir, LAUNCHER_NAME)
        self.backup = os.path.join(self.install_dir, ".backup")
        self.state_dir = default_state_dir()
        self.state = os.path.join(self.state_dir, "state.json")
        self.lock = os.path.join(self.state_dir, "state.lock")
        self.queue = os.path.join(self.state_dir, "queue")
        self.sessions = os.path.join(self.state_dir, "sessions")
        self.log = os.path.join(self.state_dir, "hook.log")

    @staticmethod
    def managed_dir():
        return os.environ.get("GOVERNOR_MANAGED_DIR") or rooted(_system_managed_dir())

    def tunable(self, config, name, default):
        """Test knobs (timeouts, recheck interval) come from the root-owned config of an installed copy,
        and from the environment only when running outside an install."""
        value = config.get(name) if self.installed_copy else os.environ.get("GOVERNOR_" + name.upper())
        if value is None:
            value = config.get(name, default)
        try:
            return float(value)
        except (TypeError, ValueError):
            return default

def log(paths, message):
    """A line in the state directory's hook.log (kept under about 2 MB: one previous file)."""
    try:
        os.makedirs(paths.state_dir, mode=0o700, exist_ok=True)
        if os.path.exists(paths.log) and os.path.getsize(paths.log) > LOG_LIMIT:
            os.replace(paths.log, paths.log + ".1")
        with open(paths.log, "a", encoding="utf-8") as handle:
            handle.write(f"{iso(now_utc())} {message}\n")
    except OSError:
        pass

''',
    'client.rootfs': r'''"""Root-side file work shared by setup, the watchdog and uninstall: owners, modes, bytecode."""

import os

from .base import write_atomic
from .paths import running_bundle


def is_root():
    if os.name == "nt":
        try:
            import ctypes

            return bool(ctypes.windll.shell32.IsUserAnAdmin())
        except Exception:
            return False
    return os.geteuid() == 0


def require_root(what):
    if os.environ.get("GOVERNOR_ROOT") or is_root():
        return
    raise SystemExit(f"claude-governor {what} must run as root (sudo) or an administrator.")


def write_file(path, data, mode, owner=None):
    """An installed file: its directory readable by everyone (Claude Code reads policy as the user)."""
    os.makedirs(os.path.dirname(path), mode=0o755, exist_ok=True)
    write_atomic(path, data, mode=mode)
    os.chmod(path, mode)
    if owner is not None and hasattr(os, "chown"):
        os.chown(path, owner[0], owner[1])


def target_user(name):
    """(uid, gid, home) of the developer who will run Claude Code: --user, else the sudo caller."""
    name = name or os.environ.get("SUDO_USER")
    if not name or os.name == "nt":
        return None
    import pwd

    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        raise SystemExit(f"No such user: {name}") from None
    return entry.pw_uid, entry.pw_gid, entry.pw_dir, name


def bytecode_path(source):
    import importlib.util

    return importlib.util.cache_from_source(source)


def compile_hook(paths):
    """Bytecode for the interpreter that runs the hook, written by root beside the source: the file's
    own, and one per module it carries (the installed file carries what the running one does)."""
    import py_compile

    target = bytecode_path(paths.hook)
    py_compile.compile(paths.hook, cfile=target, doraise=True)
    os.chmod(os.path.dirname(target), 0o755)
    os.chmod(target, 0o644)
    bundle = running_bundle()
    if bundle is not None:
        type(bundle)(paths.hook, bundle.sources).precompile()


''',
    'client.server': r'''"""Conversations with the server that refresh the cache: sync, usage reports, reacting to a kill."""

import os
import sys

from .base import (
    COUNT_TIMEOUT,
    SYNC_TIMEOUT,
    TURN_RETENTION_DAYS,
    VERSION,
    Unreachable,
    iso,
    now_utc,
    parse_iso,
    read_json,
    write_atomic,
)
from .counts import replay_queue
from .paths import log
from .state import update_state


def apply_answer(state, body, now, kind):
    """Fold a successful (HTTP 200) server answer into the state. Error bodies never get here."""
    state["contact_at"] = iso(now)
    if body.get("status") in ("active", "paused", "killed"):
        state["status"] = body["status"]
        state["status_at"] = iso(now)
    if isinstance(body.get("limits"), list):
        state["limits"] = body["limits"]
    if kind == "sync":
        for key in ("credit_weights", "model_aliases"):
            if isinstance(body.get(key), dict):
                state[key] = body[key]
        if isinstance(body.get("extra_families"), list):
            state["extra_families"] = body["extra_families"]
        if isinstance(body.get("team_timezone"), str):
            state["team_timezone"] = body["team_timezone"]
        if isinstance(body.get("offline_grace_seconds"), int):
            state["offline_grace_seconds"] = body["offline_grace_seconds"]
        server_time = parse_iso(body.get("server_time"))
        if server_time is not None:
            state["clock_skew"] = round((server_time - now_utc()).total_seconds(), 3)
        state["synced_at"] = iso(now)


def _apply_report(state, report, now):
    state["report"] = report
    state["report_at"] = iso(now)
    if isinstance(report.get("user"), dict):
        state["seat"] = report["user"]
    if isinstance(report.get("limits"), list):
        state["limits"] = report["limits"]
    _prune_turns(state, now)


def _prune_turns(state, now):
    from datetime import timedelta

    report_at = parse_iso(state.get("report_at"))
    oldest = now - timedelta(days=TURN_RETENTION_DAYS)
    kept = []
    for turn in state.get("turns") or []:
        at = parse_iso(turn.get("at"))
        if at is None or at < oldest:
            continue
        if turn.get("sent") and report_at is not None and at <= report_at:
            continue
        kept.append(turn)
    state["turns"] = kept


def fetch_report(install, paths, timeout, why=None):
    """GET /status into the state; returns the report, or None (and the reason in `why`, a list)."""
    try:
        status, report = install.call("GET", "/api/v1/status", timeout=timeout)
    except Unreachable as exc:
        if why is not None:
            why.append(f"server unreachable: {exc}")
        return None
    if status != 200 or not isinstance(report.get("usage"), dict):
        if why is not None:
            why.append(f"server answered HTTP {status}: {report.get('error') or 'no usage report'}")
        return None
    now = now_utc()
    update_state(paths, lambda s: _apply_report(s, report, now))
    return report


def do_sync(install, paths, inp, model, timeout=SYNC_TIMEOUT, replay_budget=SYNC_TIMEOUT, full=True):
    """POST /sync, then replay the queue and (`full`) fetch a usage report. Returns (ok, message).
    The gate syncs with `full=False`: no report and no `claude --version`, to stay within its time."""
    payload = {"model": model, "session_id": str(inp.get("session_id") or "")}
    payload.update(device_info(paths, probe_claude=full))
    try:
        status, body = install.call("POST", "/api/v1/sync", payload, timeout=timeout)
    except Unreachable as exc:
        return False, f"server unreachable: {exc}"
    if status != 200 or body.get("status") not in ("active", "paused", "killed"):
        return False, f"server answered HTTP {status}: {body.get('error') or 'unexpected answer'}"
    now = now_utc()
    previous = {}

    def change(state):
        previous["status"] = state.get("status")
        apply_answer(state, body, now, "sync")
        state.setdefault("turns", [])

    state = update_state(paths, change)
    react_to_status(install, paths, previous.get("status"), state)
    replay_queue(install, paths, min(timeout, COUNT_TIMEOUT), budget=replay_budget)
    if full:
        fetch_report(install, paths, timeout)
    return True, "synced"


def device_info(paths, probe_claude=True):
    import _socket

    info = {
        "hostname": _socket.gethostname(),
        "platform": sys.platform,
        "client_version": "governor-hook " + VERSION,
    }
    if hasattr(os, "uname"):
        uname = os.uname()
        info.update(arch=uname.machine, os_version=uname.release)
    else:
        info.update(
            arch=os.environ.get("PROCESSOR_ARCHITECTURE", ""), os_version=sys.getwindowsversion().build
        )
        info["os_version"] = str(info["os_version"])
    info["claude_version"] = _claude_version(paths, probe_claude)
    return info


def _claude_version(paths, probe=True):
    """`claude --version`, cached for a day: it costs a process start."""
    cache = os.path.join(paths.state_dir, "claude-version.json")
    try:
        cached = read_json(cache) or {}
    except (OSError, ValueError):
        cached = {}
    at = parse_iso(cached.get("at"))
    if not probe or (at is not None and (now_utc() - at).total_seconds() < 86400):
        return str(cached.get("version") or "")
    import subprocess

    try:
        out = subprocess.run(
            [claude_binary(paths), "--version"], capture_output=True, text=True, timeout=3, check=False
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        out = ""
    try:
        write_atomic(cache, {"at": iso(now_utc()), "version": out[:255]})
    except OSError:
        pass
    return out[:255]


def claude_binary(paths):
    config = {}
    try:
        config = read_json(paths.config) or {}
    except (OSError, ValueError):
        pass
    if not paths.installed_copy and os.environ.get("GOVERNOR_CLAUDE_BIN"):
        return os.environ["GOVERNOR_CLAUDE_BIN"]
    return config.get("claude_bin") or "claude"


def react_to_status(install, paths, previous_status, state):
    """A fresh, authenticated answer saying `killed` logs Claude Code out, once per kill."""
    if state.get("status") != "killed":
        if state.get("logged_out"):
            update_state(paths, lambda s: s.pop("logged_out", None))
        return
    if previous_status == "killed" and state.get("logged_out"):
        return
    import subprocess

    kwargs = {"stdin": subprocess.DEVNULL, "stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    if os.name == "nt":
        kwargs["creationflags"] = 0x00000008 | 0x00000200  # DETACHED_PROCESS | CREATE_NEW_PROCESS_GROUP
    else:
        kwargs["start_new_session"] = True
    try:
        subprocess.Popen([claude_binary(paths), "auth", "logout"], **kwargs)
        log(paths, "seat killed: started claude auth logout")
    except OSError as exc:
        log(paths, f"seat killed, but claude auth logout could not start: {exc}")
    update_state(paths, lambda s: s.__setitem__("logged_out", True))

''',
    'client.state': r'''"""The user-writable cache: state.json under a lock, and one small file per Claude Code session."""

import os

from .base import iso, now_utc, parse_iso, read_json, write_atomic
from .paths import log


class StateLock:
    """An exclusive lock around read-modify-write of state.json: several sessions run hooks at once."""

    def __init__(self, paths, wait=2.0):
        self.paths = paths
        self.wait = wait
        self.fd = None

    def __enter__(self):
        import time

        os.makedirs(self.paths.state_dir, mode=0o700, exist_ok=True)
        self.fd = os.open(self.paths.lock, os.O_RDWR | os.O_CREAT, 0o600)
        deadline = time.monotonic() + self.wait
        while True:
            try:
                if os.name == "nt":
                    import msvcrt

                    msvcrt.locking(self.fd, msvcrt.LK_NBLCK, 1)
                else:
                    import fcntl

                    fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return self
            except OSError:
                # A stuck peer must not hang the gate: past the deadline we proceed unlocked.
                if time.monotonic() > deadline:
                    return self
                time.sleep(0.01)

    def __exit__(self, *exc):
        os.close(self.fd)

def _valid_state(state):
    if not isinstance(state.get("limits"), list) or not all(isinstance(r, dict) for r in state["limits"]):
        return False
    if state.get("status") not in ("active", "paused", "killed"):
        return False
    if not isinstance(state.get("credit_weights"), dict) or not isinstance(state.get("turns", []), list):
        return False
    return parse_iso(state.get("synced_at")) is not None and parse_iso(state.get("contact_at")) is not None


def load_state(paths):
    """The last synced state, or None when never synced. A corrupt file is treated as never synced."""
    try:
        state = read_json(paths.state)
    except (OSError, ValueError) as exc:
        log(paths, f"state unreadable: {exc}")
        return None
    if state is None or not _valid_state(state):
        return None
    return state


def update_state(paths, change):
    """Apply `change(state)` to the state under the lock; returns the new state. A state directory that
    cannot be written never overrules the server: the change is then applied in memory only."""
    state = {}
    applied = False
    try:
        with StateLock(paths):
            try:
                state = read_json(paths.state) or {}
            except (OSError, ValueError):
                state = {}
            change(state)
            applied = True
            write_atomic(paths.state, state)
    except OSError as exc:
        log(paths, f"state not saved: {exc}")
        if not applied:
            change(state)
    return state


def server_now(state):
    """The local clock corrected by the skew measured at the last sync."""
    from datetime import timedelta

    skew = (state or {}).get("clock_skew") or 0
    return now_utc() + timedelta(seconds=float(skew))


def _session_file(paths, session_id):
    safe = "".join(c for c in str(session_id) if c.isalnum() or c in "-_")[:100] or "no-session"
    return os.path.join(paths.sessions, safe + ".json")


def load_session(paths, session_id):
    try:
        return read_json(_session_file(paths, session_id)) or {}
    except (OSError, ValueError):
        return {}


def save_session(paths, session_id, session):
    session["updated_at"] = iso(now_utc())
    try:
        write_atomic(_session_file(paths, session_id), session)
    except OSError as exc:
        log(paths, f"session not saved: {exc}")

''',
    'client.transcript': r'''"""Claude Code's transcript: the active model and each turn's token usage."""

import os

from .base import SEEN_IDS_KEPT, USAGE_FIELDS, read_json
from .jsonfast import json_loads
from .paths import home_dir


def _usage_numbers(usage):
    values = []
    for key in USAGE_FIELDS:
        value = usage.get(key) if isinstance(usage, dict) else 0
        values.append(value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0)
    return values


def advance_transcript(session, path):
    """Read the transcript lines written since the saved offset. API responses are de-duplicated by
    message id (one response is written as several lines repeating its usage, streaming may write a
    smaller early one); only the growth of a response over what was already counted is added. Returns
    True when the session changed."""
    if not isinstance(path, str) or not path:
        return False
    try:
        size = os.path.getsize(path)
    except OSError:
        return False
    offset = session.get("offset")
    if not isinstance(offset, int) or offset > size:
        offset = 0
    if size == offset:
        return False
    with open(path, "rb") as handle:
        handle.seek(offset)
        chunk = handle.read(size - offset)
    end = chunk.rfind(b"\n")
    if end < 0:
        return False  # a partial line: re-read once it is complete
    seen = session.get("seen") if isinstance(session.get("seen"), dict) else {}
    pending = _usage_numbers(dict(zip(USAGE_FIELDS, session.get("pending") or [0, 0, 0, 0])))
    for entry, message in _assistant_entries(chunk[: end + 1].split(b"\n")):
        model = message.get("model")
        if model == "<synthetic>" or entry.get("isApiErrorMessage"):
            continue
        if isinstance(model, str) and model and not entry.get("isSidechain"):
            session["model"] = model
            session["model_source"] = "transcript"
        key = message.get("id") or entry.get("requestId") or entry.get("uuid")
        if not key or "usage" not in message:
            continue
        numbers = _usage_numbers(message["usage"])
        counted = seen.pop(str(key), [0, 0, 0, 0])
        for i, value in enumerate(numbers):
            if value > counted[i]:
                pending[i] += value - counted[i]
        seen[str(key)] = [max(a, b) for a, b in zip(numbers, counted)]
    while len(seen) > SEEN_IDS_KEPT:
        seen.pop(next(iter(seen)))
    session["seen"] = seen
    session["pending"] = pending
    session["offset"] = offset + end + 1
    session["transcript"] = path
    return True


def _assistant_entries(lines):
    """(entry, message) for each transcript line that is an assistant message; other lines are skipped."""
    for line in lines:
        if b'"assistant"' not in line:
            continue
        try:
            entry = json_loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict) and entry.get("type") == "assistant":
            yield entry, entry.get("message") if isinstance(entry.get("message"), dict) else {}


def tail_model(path, limit=512 * 1024):
    """The model of the transcript's last real assistant line, from its tail (history before we ran)."""
    try:
        with open(path, "rb") as handle:
            handle.seek(0, 2)
            size = handle.tell()
            handle.seek(max(0, size - limit))
            chunk = handle.read()
    except (OSError, TypeError):
        return None
    for entry, message in _assistant_entries(reversed(chunk.split(b"\n"))):
        if entry.get("isSidechain"):
            continue
        model = message.get("model")
        if isinstance(model, str) and model and model != "<synthetic>":
            return model
    return None


def settings_model(cwd):
    """`model` from Claude Code's settings files, user scope first."""
    config_dir = os.environ.get("CLAUDE_CONFIG_DIR") or os.path.join(home_dir(), ".claude")
    candidates = [os.path.join(config_dir, "settings.json")]
    if isinstance(cwd, str) and cwd:
        candidates += [
            os.path.join(cwd, ".claude", "settings.local.json"),
            os.path.join(cwd, ".claude", "settings.json"),
        ]
    for candidate in candidates:
        try:
            model = (read_json(candidate) or {}).get("model")
        except (OSError, ValueError):
            continue
        if isinstance(model, str) and model.strip():
            return model
    return None


def active_model(session, inp):
    """Newest knowledge first: a model seen in the transcript since SessionStart (it follows /model
    switches), else SessionStart's `model`, else the transcript's history, else settings, else env."""
    for candidate in (
        session.get("model"),
        session.get("history_model"),
        settings_model(inp.get("cwd")),
        os.environ.get("ANTHROPIC_MODEL"),
    ):
        if isinstance(candidate, str) and candidate.strip():
            return candidate.strip()
    return "default"

''',
    'client.usage': r'''"""The usage table shown in deny messages and by `status`: the server's windows and message formats."""

from ..families import BUILTIN_FAMILIES
from ..messages import format_when
from ..windows import SLIDING_24H, WINDOWS, window_bounds
from .offline import team_zone


def countdown(delta_seconds):
    minutes = max(0, int(delta_seconds // 60))
    days, minutes = divmod(minutes, 1440)
    hours, minutes = divmod(minutes, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes:02d}m"
    return f"{minutes}m"


def _bar(used, limit, width=12):
    if limit is None or limit < 0:
        return "·" * width
    if limit == 0:
        return "█" * width
    filled = min(width, round(width * used / float(limit)))
    return "█" * filled + "░" * (width - filled)


def usage_lines(report, state, now, bars=False):
    """One line per model family and window it is limited in, then the credit line."""
    tz = team_zone(state)
    limits = report.get("limits") if isinstance(report.get("limits"), list) else state.get("limits") or []
    usage = report.get("usage") if isinstance(report.get("usage"), dict) else {}
    families = list(BUILTIN_FAMILIES) + [f for f in state.get("extra_families") or [] if isinstance(f, str)]
    for window in WINDOWS:
        for family in (usage.get(window) or {}).get("counts") or {}:
            if family not in families and family != "default":
                families.append(family)
    if any(((usage.get(w) or {}).get("counts") or {}).get("default") for w in WINDOWS):
        families.append("default")
    lines = []
    for family in families:
        rules = [
            r
            for r in limits
            if r.get("type") == "per_model"
            and r.get("model") in (None, family)
            and r.get("window") in WINDOWS
        ]
        if not rules:
            used = ((usage.get("daily") or {}).get("counts") or {}).get(family, 0)
            lines.append(f"  {family:<8} {'today':<12} {_bar(used, -1) if bars else ''} {used:>7}  no limit")
            continue
        for rule in rules:
            window = rule["window"]
            used = ((usage.get(window) or {}).get("counts") or {}).get(family, 0)
            limit = rule.get("value")
            shown = f"{used}/{'∞' if limit == -1 else limit}"
            bar = _bar(used, limit) if bars else ""
            lines.append(
                f"  {family:<8} {window:<12} {bar} {shown:>7}  {_reset_text(window, now, tz)}"
            )
    balance, budget = report.get("credit_balance"), report.get("credit_budget")
    credit_rules = [r for r in limits if r.get("type") == "credits" and isinstance(r.get("value"), int)]
    for rule in credit_rules:
        if rule["value"] < 0:
            continue
        window = rule.get("window")
        used = (usage.get(window) or {}).get("totalCredits", 0)
        bar = _bar(used, rule["value"]) if bars else ""
        shown = f"{used}/{rule['value']}"
        left = max(0, rule["value"] - used)
        resets = _reset_text(window, now, tz)
        lines.append(f"  {'credits':<8} {window:<12} {bar} {shown:>7}  {left} left, {resets}")
    if balance is not None:
        lines.append(f"Credit balance: {balance}/{budget}")
    return lines


def _reset_text(window, now, tz):
    if window == SLIDING_24H:
        return "rolling 24 h"
    end = window_bounds(window, now, tz)[1]
    return f"resets {format_when(end, tz)}, in {countdown((end - now).total_seconds())}"


def deny_message(reason, report, state, resets_at, now, offline_note=None):
    parts = [reason.strip() or "Claude Governor blocked this prompt."]
    if offline_note:
        parts.append(offline_note)
    if state is not None and report is not None:
        parts.append("Usage by model:\n" + "\n".join(usage_lines(report, state, now)))
    if resets_at is not None and state is not None:
        tz = team_zone(state)
        parts.append(
            f"Allowed again: {format_when(resets_at, tz)} "
            f"(in {countdown((resets_at - now).total_seconds())})."
        )
    return "\n\n".join(parts)[:9500]

''',
    'client.watchdog': r'''"""The watchdog: a root timer that restores the install and its hook registrations when changed."""

import os
import sys

from .base import read_json, sha256_file, write_atomic
from .jsonfast import pretty_json
from .managed import merge_settings, registered
from .paths import DROPIN_NAME, HOOK_NAME, LAUNCHER_NAME, Paths, rooted
from .rootfs import bytecode_path, compile_hook, is_root, require_root, target_user, write_file

UNIT_NAME = "claude-governor-watchdog"
LAUNCHD_LABEL = "com.claude-governor.watchdog"
WINDOWS_TASK = "ClaudeGovernorWatchdog"


def _units(python, paths):
    backup_hook = os.path.join(paths.backup, HOOK_NAME)
    argv = [python, "-I", "-S", backup_hook, "watchdog", "--once", "--install-dir", paths.install_dir]
    if sys.platform == "darwin":
        items = "\n".join(
            "    <string>{}</string>".format(a.replace("&", "&amp;").replace("<", "&lt;")) for a in argv
        )
        plist = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">\n'
            f'<plist version="1.0">\n<dict>\n  <key>Label</key><string>{LAUNCHD_LABEL}</string>\n'
            f"  <key>ProgramArguments</key>\n  <array>\n{items}\n  </array>\n"
            "  <key>StartInterval</key><integer>300</integer>\n"
            "  <key>RunAtLoad</key><true/>\n</dict>\n</plist>\n"
        )
        return "launchd", {rooted(f"/Library/LaunchDaemons/{LAUNCHD_LABEL}.plist"): plist}, argv
    if os.name == "nt":
        return "schtasks", {}, argv
    quoted = " ".join(f'"{a}"' if " " in a else a for a in argv)
    service = (
        "[Unit]\nDescription=Claude Governor watchdog: restores the Claude Code hook if changed\n\n"
        f"[Service]\nType=oneshot\nExecStart={quoted}\n"
    )
    timer = (
        "[Unit]\nDescription=Run the Claude Governor watchdog every 5 minutes\n\n"
        f"[Timer]\nOnBootSec=1min\nOnUnitActiveSec=5min\nUnit={UNIT_NAME}.service\n\n[Install]\nWantedBy=timers.target\n"
    )
    unit_dir = rooted("/etc/systemd/system")
    return (
        "systemd",
        {
            os.path.join(unit_dir, UNIT_NAME + ".service"): service,
            os.path.join(unit_dir, UNIT_NAME + ".timer"): timer,
        },
        argv,
    )


def install_watchdog(python, paths, args, dry):
    """Writes the platform's periodic job and, on a real install, activates it."""
    import subprocess

    kind, files, argv = _units(python, paths)
    for path, text in files.items():
        os.makedirs(os.path.dirname(path), exist_ok=True)
        write_file(path, text.encode(), 0o644)
    commands = []
    if kind == "systemd":
        commands = [["systemctl", "daemon-reload"], ["systemctl", "enable", "--now", UNIT_NAME + ".timer"]]
    elif kind == "launchd":
        commands = [["launchctl", "bootstrap", "system", next(iter(files))]]
    else:
        task = " ".join(f'"{a}"' for a in argv)
        commands = [
            [
                "schtasks",
                "/Create",
                "/F",
                "/TN",
                WINDOWS_TASK,
                "/SC",
                "MINUTE",
                "/MO",
                "5",
                "/RU",
                "SYSTEM",
                "/TR",
                task,
            ]
        ]
    activated = False
    if not dry:
        activated = True
        for command in commands:
            try:
                result = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
            except (OSError, subprocess.SubprocessError) as exc:
                activated = False
                print("warning: {}: {}".format(" ".join(command), exc), file=sys.stderr)
                continue
            if result.returncode != 0:
                activated = False
                print("warning: {}: {}".format(" ".join(command), result.stderr.strip()), file=sys.stderr)
    summary = "{}, every 5 minutes{}".format(kind, "" if activated else " (written, not activated)")
    return {"kind": kind, "files": sorted(files), "activated": activated, "summary": summary}


def cmd_watchdog(args):
    require_root("watchdog")
    paths = Paths(args.install_dir or None)
    restored = watchdog_once(paths)
    for line in restored:
        print(line)
    if not restored:
        print("Claude Governor: hook, configuration and managed settings intact.")
    return 0


def watchdog_once(paths):
    """Restores tampered or missing files from the root-only backup and re-registers removed hooks."""
    backup_config = read_json(os.path.join(paths.backup, "config.json"))
    sums = read_json(os.path.join(paths.backup, "checksums.json")) or {}
    if backup_config is None:
        return [f"No backup in {paths.backup}: nothing to guard (is Claude Governor installed?)."]
    restored = []
    os.makedirs(paths.install_dir, mode=0o755, exist_ok=True)
    for name, mode in ((HOOK_NAME, 0o644), (LAUNCHER_NAME, 0o644), ("config.json", 0o644), ("token", None)):
        target = os.path.join(paths.install_dir, name)
        source = os.path.join(paths.backup, name)
        try:
            intact = sha256_file(target) == sums.get(name)
        except OSError:
            intact = False
        if intact:
            continue
        owner = None
        if name == "token":
            user = (
                target_user(backup_config.get("user")) if backup_config.get("user") and is_root() else None
            )
            owner = (user[0], user[1]) if user else None
            mode = 0o400 if owner else 0o600
        with open(source, "rb") as handle:
            write_file(target, handle.read(), mode, owner)
        restored.append(f"restored {target} from the backup")
    if not os.path.isfile(bytecode_path(paths.hook)) or any(HOOK_NAME in line for line in restored):
        compile_hook(paths)
    settings_file = backup_config["settings_file"]
    try:
        settings_intact = sha256_file(settings_file) == sums.get("settings")
    except OSError:
        settings_intact = False
    if not settings_intact and os.path.basename(settings_file) == DROPIN_NAME:
        # The drop-in is ours alone: any change (a disableAllHooks, a removed hook) is undone whole.
        with open(os.path.join(paths.backup, "settings.json"), "rb") as handle:
            write_file(settings_file, handle.read(), 0o644)
        return [*restored, f"restored {settings_file} from the backup"]
    try:
        current = read_json(settings_file)
    except (OSError, ValueError):
        current = None
        restored.append(f"{settings_file} was not valid JSON; rewrote it")
    managed_only = backup_config.get("managed_hooks_only", True)
    if not registered(current, backup_config["python"], paths.launcher, managed_only):
        merged = merge_settings(current, backup_config["python"], paths.launcher, managed_only)
        os.makedirs(os.path.dirname(settings_file), mode=0o755, exist_ok=True)
        write_file(settings_file, pretty_json(merged), 0o644)
        restored.append(f"re-registered the Claude Governor hooks in {settings_file}")
    if restored:
        sums["settings"] = sha256_file(settings_file)
        write_atomic(os.path.join(paths.backup, "checksums.json"), sums, mode=0o600)
    return restored

''',
    'engine': r'''"""The limit decision (hook API contract §6): plain values in, a Decision out. No ORM, no clock.

Also runs in the hook client (Python 3.9+, standard library only): limiter/hook_client/build.py.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, time
from zoneinfo import ZoneInfo

from . import messages
from .windows import SLIDING_24H, SLIDING_SPAN, in_daily_range, next_local_time, window_bounds

ACTIVE, PAUSED, KILLED = "active", "paused", "killed"
STATUSES = (ACTIVE, PAUSED, KILLED)
PER_MODEL, CREDITS, TIME_OF_DAY = "per_model", "credits", "time_of_day"
RULE_TYPES = (PER_MODEL, CREDITS, TIME_OF_DAY)
UNLIMITED = -1


@dataclass(frozen=True)
class RuleSpec:
    id: str
    type: str
    model: str | None = None
    window: str | None = None
    value: int | None = None
    schedule_start: time | None = None
    schedule_end: time | None = None
    schedule_tz: str | None = None

    def applies_to(self, family: str) -> bool:
        return self.model is None or self.model == family


@dataclass(frozen=True)
class CountedTurn:
    occurred_at: datetime
    family: str
    cost: int


@dataclass(frozen=True)
class Usage:
    """What a seat has used: counts and credits per window, and its turns of the last 24 hours."""

    counts: Mapping[str, Mapping[str, int]]
    credits: Mapping[str, int]
    recent: Sequence[CountedTurn] = ()
    held_credits: int = 0

    def count(self, window: str, family: str) -> int:
        return self.counts.get(window, {}).get(family, 0)


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str | None = None
    resets_at: datetime | None = None
    cause: str | None = None
    rule_id: str | None = None


@dataclass(frozen=True)
class CreditPosition:
    rule: RuleSpec
    used: int
    budget: int
    balance: int


ALLOW = Decision(allowed=True)


def credit_cost(family: str, weights: Mapping[str, int]) -> int:
    """A family's price; a weight of 0 makes it free, so presence of the key decides, not truthiness."""
    if family in weights:
        return weights[family]
    return weights.get("default", 1)


def credit_positions(rules: Sequence[RuleSpec], usage: Usage) -> list[CreditPosition]:
    positions = []
    for rule in rules:
        if rule.type != CREDITS or rule.value is None or rule.value < 0 or rule.window is None:
            continue
        used = usage.credits.get(rule.window, 0)
        balance = max(0, rule.value - used - usage.held_credits)
        positions.append(CreditPosition(rule=rule, used=used, budget=rule.value, balance=balance))
    return positions


def tightest_credit_position(rules: Sequence[RuleSpec], usage: Usage) -> CreditPosition | None:
    """The most constraining credits rule: smallest balance, first in order on ties."""
    positions = credit_positions(rules, usage)
    return min(positions, key=lambda p: p.balance) if positions else None


def evaluate(
    *,
    status: str,
    seat_name: str,
    rules: Sequence[RuleSpec],
    family: str,
    usage: Usage,
    weights: Mapping[str, int],
    tz: ZoneInfo,
    now: datetime,
) -> Decision:
    """Killed, paused, time of day, per model, credits: the first deny wins."""
    if status == KILLED:
        return Decision(False, messages.KILLED, cause=KILLED)
    if status == PAUSED:
        return Decision(False, messages.PAUSED, cause=PAUSED)
    for check in (_time_of_day, _per_model, _credits):
        for rule in rules:
            decision = check(rule, family, seat_name, usage, weights, tz, now)
            if decision is not None:
                return decision
    return ALLOW


def _time_of_day(rule, family, seat_name, usage, weights, tz, now) -> Decision | None:
    if rule.type != TIME_OF_DAY or not rule.applies_to(family):
        return None
    start, end = rule.schedule_start, rule.schedule_end
    rule_tz = ZoneInfo(rule.schedule_tz or "UTC")
    local = now.astimezone(rule_tz)
    if in_daily_range(local.hour * 60 + local.minute, _minutes(start), _minutes(end)):
        return None
    reason = messages.time_of_day(
        model=rule.model,
        start=f"{start:%H:%M}",
        end=f"{end:%H:%M}",
        rule_tz=rule_tz,
        now=now,
    )
    return Decision(
        False, reason, next_local_time(now, start, rule_tz), cause=TIME_OF_DAY, rule_id=rule.id
    )


def _per_model(rule, family, seat_name, usage, weights, tz, now) -> Decision | None:
    if rule.type != PER_MODEL or not rule.applies_to(family) or rule.value == UNLIMITED:
        return None
    used = usage.count(rule.window, family)
    if used < rule.value:
        return None
    resets_at = None
    if rule.value > 0:
        if rule.window == SLIDING_24H:
            turns = [t for t in usage.recent if t.family == family]
            # The turn whose ageing-out brings the count below the limit.
            index = used - rule.value
            resets_at = turns[index].occurred_at + SLIDING_SPAN if index < len(turns) else None
        else:
            resets_at = window_bounds(rule.window, now, tz)[1]
    reason = messages.per_model(
        window=rule.window,
        family=family,
        seat_name=seat_name,
        used=used,
        limit=rule.value,
        resets_at=resets_at,
        tz=tz,
    )
    return Decision(False, reason, resets_at, cause=PER_MODEL, rule_id=rule.id)


def _credits(rule, family, seat_name, usage, weights, tz, now) -> Decision | None:
    if rule.type != CREDITS or rule.value == UNLIMITED:
        return None
    cost = credit_cost(family, weights)
    used = usage.credits.get(rule.window, 0)
    balance = max(0, rule.value - used - usage.held_credits)
    if balance >= cost:
        return None
    resets_at = None
    # A budget below the price never frees up: no reset to promise.
    if rule.value >= cost and cost > 0:
        if rule.window == SLIDING_24H:
            resets_at = _sliding_credit_reset(usage, rule.value, cost)
        else:
            resets_at = window_bounds(rule.window, now, tz)[1]
    reason = messages.credits(
        window=rule.window,
        family=family,
        seat_name=seat_name,
        used=used,
        budget=rule.value,
        balance=balance,
        cost=cost,
        resets_at=resets_at,
        tz=tz,
    )
    return Decision(False, reason, resets_at, cause=CREDITS, rule_id=rule.id)


def _sliding_credit_reset(usage: Usage, budget: int, cost: int) -> datetime | None:
    must_age_out = usage.credits.get(SLIDING_24H, 0) + usage.held_credits + cost - budget
    aged = 0
    for turn in usage.recent:
        aged += turn.cost
        if aged >= must_age_out:
            return turn.occurred_at + SLIDING_SPAN
    return None


def _minutes(moment: time | None) -> int:
    return moment.hour * 60 + moment.minute if moment else 0
''',
    'families': r'''"""Model string → family name (hook API contract §7). Pure."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

BUILTIN_FAMILIES = ("opus", "sonnet", "haiku")
DEFAULT_FAMILY = "default"
DEFAULT_ALIASES = {"best": "opus"}
FAMILY_RE = re.compile(r"^[a-z][a-z0-9_]{0,31}$")

_BRACKET_SUFFIX = re.compile(r"\[[^\]]*\]$")
_ALPHA_WORD = re.compile(r"^[a-z]+$")


def normalize_family(
    model: object,
    *,
    extra_families: Iterable[str] = (),
    aliases: Mapping[str, str] | None = None,
) -> str:
    """Return the family of a raw model id: `claude-opus-4-1-20250805` → `opus`; unknown → `default`."""
    if not isinstance(model, str):
        return DEFAULT_FAMILY
    s = _BRACKET_SUFFIX.sub("", model.strip().lower()).strip()
    if not s:
        return DEFAULT_FAMILY
    alias_map = DEFAULT_ALIASES if aliases is None else aliases
    s = alias_map.get(s, s)
    for family in (*BUILTIN_FAMILIES, *extra_families):
        if family in s:
            return family
    if s.startswith("claude-"):
        for token in s[len("claude-") :].split("-"):
            if _ALPHA_WORD.match(token):
                return token[:32]
        return DEFAULT_FAMILY
    if _ALPHA_WORD.match(s) and FAMILY_RE.match(s):
        return s
    return DEFAULT_FAMILY


def is_valid_family(name: str) -> bool:
    return bool(FAMILY_RE.match(name))
''',
    'messages': r'''"""Deny message texts (hook API contract §6.5). Pure."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from .windows import WINDOW_TITLES

KILLED = (
    "Your Claude Code access has been revoked by the admin. Contact your admin to restore access."
)
PAUSED = "Your Claude Code access has been paused by the admin. Contact your admin to resume."


def format_when(moment: datetime, tz: ZoneInfo) -> str:
    return f"{moment.astimezone(tz):%Y-%m-%d %H:%M} ({tz.key})"


def format_clock(moment: datetime, tz: ZoneInfo) -> str:
    local = moment.astimezone(tz)
    return f"{local.hour % 12 or 12}:{local.minute:02d} {'AM' if local.hour < 12 else 'PM'}"


def _resets_line(resets_at: datetime | None, tz: ZoneInfo) -> str:
    return f"Resets {format_when(resets_at, tz)}.\n" if resets_at else ""


def time_of_day(
    *, model: str | None, start: str, end: str, rule_tz: ZoneInfo, now: datetime
) -> str:
    subject = model.capitalize() if model else "This model"
    return (
        f"{subject} is only available {start} - {end} ({rule_tz.key}).\n"
        f"Current time: {format_clock(now, rule_tz)}. Try another model instead."
    )


def per_model(
    *,
    window: str,
    family: str,
    seat_name: str,
    used: int,
    limit: int,
    resets_at: datetime | None,
    tz: ZoneInfo,
) -> str:
    return (
        f"{WINDOW_TITLES[window]} {family} limit reached for {seat_name}.\n"
        f"Used {used}/{limit} prompts.\n"
        f"{_resets_line(resets_at, tz)}"
        "\nSwitch to another model or try again later."
    )


def credits(
    *,
    window: str,
    family: str,
    seat_name: str,
    used: int,
    budget: int,
    balance: int,
    cost: int,
    resets_at: datetime | None,
    tz: ZoneInfo,
) -> str:
    unit = "credit" if cost == 1 else "credits"
    return (
        f"{WINDOW_TITLES[window]} credit budget exhausted for {seat_name}.\n"
        f"Used {used}/{budget} credits ({balance} remaining).\n"
        f"{family.capitalize()} costs {cost} {unit} per prompt.\n"
        f"{_resets_line(resets_at, tz)}"
        "\nTry a cheaper model or wait for the window to reset."
    )
''',
    'windows': r'''"""Usage windows in a time zone, DST-safe (hook API contract §5). Pure: `now` is always a parameter.

Also runs in the hook client (Python 3.9+, standard library only): limiter/hook_client/build.py.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

UTC = timezone.utc

DAILY = "daily"
WEEKLY = "weekly"
MONTHLY = "monthly"
SLIDING_24H = "sliding_24h"
WINDOWS = (DAILY, WEEKLY, MONTHLY, SLIDING_24H)
CALENDAR_WINDOWS = (DAILY, WEEKLY, MONTHLY)
SLIDING_SPAN = timedelta(hours=24)

WINDOW_TITLES = {
    DAILY: "Daily",
    WEEKLY: "Weekly",
    MONTHLY: "Monthly",
    SLIDING_24H: "Sliding 24-hour",
}


def local_instant(day: date, at: time, tz: ZoneInfo) -> datetime:
    """The UTC instant of a local wall time.

    fold=0 makes zoneinfo apply the offset in force before a transition: an ambiguous time is its first
    occurrence, and a midnight that a DST gap skips becomes the first instant of that day.
    """
    return datetime.combine(day, at, tzinfo=tz).replace(fold=0).astimezone(UTC)


def _month_start(day: date) -> date:
    return day.replace(day=1)


def _next_month_start(day: date) -> date:
    return date(day.year + 1, 1, 1) if day.month == 12 else date(day.year, day.month + 1, 1)


def window_bounds(window: str, now: datetime, tz: ZoneInfo) -> tuple[datetime, datetime | None]:
    """(start, end) of the window containing `now`, both UTC. A sliding window has no fixed end."""
    if window == SLIDING_24H:
        return now - SLIDING_SPAN, None
    today = now.astimezone(tz).date()
    if window == DAILY:
        first, after = today, today + timedelta(days=1)
    elif window == WEEKLY:
        first = today - timedelta(days=today.weekday())
        after = first + timedelta(days=7)
    elif window == MONTHLY:
        first, after = _month_start(today), _next_month_start(today)
    else:
        raise ValueError(f"unknown window {window!r}")
    return local_instant(first, time(0), tz), local_instant(after, time(0), tz)


def minute_of_day(moment: datetime, tz: ZoneInfo) -> int:
    local = moment.astimezone(tz)
    return local.hour * 60 + local.minute


def in_daily_range(minute: int, start: int, end: int) -> bool:
    """Start inclusive, end exclusive; start > end is an overnight range."""
    if start < end:
        return start <= minute < end
    return minute >= start or minute < end


def next_local_time(now: datetime, at: time, tz: ZoneInfo) -> datetime:
    """The first instant after `now` whose wall clock in `tz` reads `at` (or the gap it falls in)."""
    day = now.astimezone(tz).date()
    for offset in range(3):
        candidate = local_instant(day + timedelta(days=offset), at, tz)
        if candidate > now:
            return candidate
    raise AssertionError("unreachable: a wall time recurs within two days")
''',
}
# Where the bytecode of each module goes; the one of this file is Python's own governor_hook.<tag>.pyc.
CACHE_PREFIX = "governor_hook."
HASH_KEY = 0x676F76  # any constant: it keys the source hash recorded in our bytecode files


class Bundle:
    """A finder and loader (PEP 451) for the modules in SOURCES, under the package name PACKAGE."""

    def __init__(self, path, sources):
        import os

        self.path = os.path.abspath(path)
        self.sources = sources
        self.cache_dir = os.path.join(os.path.dirname(self.path), "__pycache__")

    def key(self, fullname):
        if fullname == PACKAGE:
            return ""
        if fullname.startswith(PACKAGE + "."):
            key = fullname[len(PACKAGE) + 1 :]
            return key if key in self.sources else None
        return None

    def origin(self, key):
        return "{}/{}.py".format(self.path, (key or "__init__").replace(".", "/"))

    def find_spec(self, fullname, path=None, target=None):
        key = self.key(fullname)
        if key is None:
            return None
        from _frozen_importlib import ModuleSpec

        return ModuleSpec(fullname, self, origin=self.origin(key), is_package=key in PACKAGES)

    def create_module(self, spec):
        return None

    def exec_module(self, module):
        exec(self.code(self.key(module.__name__)), module.__dict__)  # noqa: S102 - our own embedded source

    def get_source(self, fullname):
        """For tracebacks (linecache asks the module's loader)."""
        key = self.key(fullname)
        return None if key is None else self.sources[key]

    def cache_file(self, key):
        import os

        tag = sys.implementation.cache_tag
        return os.path.join(self.cache_dir, f"{CACHE_PREFIX}{key or '__init__'}.{tag}.pyc")

    def header(self, key):
        """A hash-based bytecode header (PEP 552): magic number, flags, the source's hash."""
        import _imp
        from _frozen_importlib_external import MAGIC_NUMBER

        return MAGIC_NUMBER + b"\x03\x00\x00\x00" + _imp.source_hash(HASH_KEY, self.sources[key].encode())

    def code(self, key):
        """The module's code from its bytecode file when that matches this source, else compiled now."""
        import marshal

        header = self.header(key)
        try:
            with open(self.cache_file(key), "rb") as handle:
                data = handle.read()
            if data[:16] == header:
                return marshal.loads(data[16:])
        except (OSError, ValueError, EOFError, TypeError):
            pass
        code = compile(self.sources[key], self.origin(key), "exec", dont_inherit=True)
        if not sys.dont_write_bytecode:
            self.write(key, header + marshal.dumps(code))
        return code

    def write(self, key, data):
        import os

        target = self.cache_file(key)
        tmp = f"{target}.{os.getpid()}.tmp"
        try:
            os.makedirs(self.cache_dir, mode=0o755, exist_ok=True)
            with open(tmp, "wb") as handle:
                handle.write(data)
            os.chmod(tmp, 0o644)
            os.replace(tmp, target)
        except OSError:
            # An unwritable directory (an installed copy run by the developer): compiled in memory only.
            try:
                os.remove(tmp)
            except OSError:
                pass
            return False
        return True

    def precompile(self):
        """Bytecode for every module, for the interpreter running this (setup and the watchdog, as root).
        Returns the files written."""
        import marshal

        written = []
        for key in sorted(self.sources):
            code = self.code(key)
            if not self.write(key, self.header(key) + marshal.dumps(code)):
                raise OSError(f"cannot write {self.cache_file(key)}")
            written.append(self.cache_file(key))
        return written


def activate():
    """Registers the bundle once; the package's modules then import each other as usual."""
    top = sys.modules.get(PACKAGE)
    if top is not None:
        return top.__bundle__
    bundle = Bundle(__file__, SOURCES)
    sys.meta_path.insert(0, bundle)
    top = __import__(PACKAGE)
    top.__bundle__ = bundle
    return bundle


def main(argv):
    activate()
    from governor_client.client.cli import main as run

    return run(argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
