"""Conversations with the server that refresh the cache: sync, usage reports, reacting to a kill."""

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
    # An authenticated answer is the server saying this machine's token is good again.
    state.pop("token_rejected", None)
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
        if isinstance(body.get("unknown_model_policy"), str):
            state["unknown_model_policy"] = body["unknown_model_policy"]
        if isinstance(body.get("offline_grace_seconds"), int):
            state["offline_grace_seconds"] = body["offline_grace_seconds"]
        server_time = parse_iso(body.get("server_time"))
        if server_time is not None:
            state["clock_skew"] = round((server_time - now_utc()).total_seconds(), 3)
        state["synced_at"] = iso(now)


def _apply_report(state, report, now):
    state.pop("token_rejected", None)
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
        # A turn inside the report is counted there; it is kept a day for the sliding window's reset time.
        if turn.get("sent") and report_at is not None and at <= report_at and now - at > timedelta(hours=24):
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
    if sys.platform != "win32":
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
    config: dict = {}
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

    kwargs: dict = {"stdin": subprocess.DEVNULL, "stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
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

