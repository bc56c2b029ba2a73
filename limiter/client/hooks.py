"""The four Claude Code hook events: session start, the prompt gate, the tool-call stop, the turn count."""

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
from .jsonfast import read_stdin_object
from .paths import log
from .server import apply_answer, do_sync, react_to_status
from .state import load_session, load_state, reported_model, save_session, server_now, update_state
from .transcript import active_model, advance_transcript, tail_model


def on_session_start(paths, install, inp):
    session_id = inp.get("session_id") or "no-session"
    session = load_session(paths, session_id)
    transcript = inp.get("transcript_path")
    if isinstance(inp.get("model"), str) and inp["model"].strip():
        session["model"] = inp["model"].strip()
        session["model_at"] = iso(now_utc())
    else:
        # A resumed or cleared session: a model seen before this start no longer outranks settings.
        session.pop("model", None)
        session.pop("model_at", None)
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
        model = active_model(session, inp, reported_model(paths, session_id))
        ok, message = do_sync(install, paths, inp, model)
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
    """Stops a paused or killed seat, or a machine whose token was rejected, mid-turn, from what the last
    answer said; asks the server again at most once per recheck interval."""
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
        elif status == 401:
            state = load_state(paths) or state
    reason = None
    if isinstance(state.get("token_rejected"), dict):
        reason = "Claude Governor's server rejected this machine's token ({}).".format(
            state["token_rejected"].get("error")
        )
    elif state.get("status") in ("killed", "paused"):
        from .. import messages

        reason = messages.KILLED if state["status"] == "killed" else messages.PAUSED
    if reason is not None:
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
    model = active_model(session, inp, reported_model(paths, session_id or "no-session"))
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
    _, inp = read_stdin_object()
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

