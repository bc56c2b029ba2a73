"""The prompt gate (UserPromptSubmit): the server decides; without a decision, the cache does."""

import os

from .base import GATE_TIMEOUT, Unreachable, block_prompt, now_utc, parse_iso
from .counts import queued_counts, replay_queue
from .paths import log
from .server import apply_answer, do_sync, fetch_report, react_to_status
from .state import load_session, load_state, reported_model, save_session, server_now, update_state
from .transcript import active_model, advance_transcript


def on_prompt(paths, install, inp):
    """The gate. Allowed prints nothing; denied prints a block decision with the full message."""
    config = install.config
    session_id = str(inp.get("session_id") or "")
    session = load_session(paths, session_id or "no-session")
    if advance_transcript(session, inp.get("transcript_path") or session.get("transcript")):
        save_session(paths, session_id or "no-session", session)
    model = active_model(session, inp, reported_model(paths, session_id or "no-session"))
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
    if status == 401:
        # The token is revoked or unknown (Install.call remembered it): this prompt and, offline, the next.
        reason = body.get("reason") or body.get("error") or "This machine's token was rejected."
        block_prompt(f"{reason}\n\n(Claude Governor server: HTTP 401)")
        return 0
    if status != 200 or not isinstance(body.get("allowed"), bool):
        # A 5xx, a proxy's JSON, anything that is not a decision: the server is unavailable, not saying no.
        why = _unavailable(status, body)
        log(paths, f"check: {why}")
        return _offline_gate(paths, state, model, why=why)
    if not drained and status == 200 and body.get("allowed") is True:
        # The server has not seen every turn yet: its allow stands only if the local count agrees.
        now = now_utc()
        state = update_state(paths, lambda s: apply_answer(s, body, now, "check"))
        return _offline_gate(paths, load_state(paths) or state, model, checked_online=True)
    return _online_decision(paths, install, state, status, body, timeout)


def _unavailable(status, body):
    error = body.get("error") if isinstance(body.get("error"), str) else "no decision"
    return f"server unavailable (HTTP {status}: {error[:200]})"


def _online_decision(paths, install, state, status, body, timeout):
    """A server decision (HTTP 200 with a boolean `allowed`): obeyed, and folded into the cache."""
    allowed = body["allowed"]
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
    rejected = (state or {}).get("token_rejected")
    if isinstance(rejected, dict):
        block_prompt(
            f"{_headline(why)}, and the last answer it gave rejected this machine's token "
            f"({rejected.get('error')}, {rejected.get('at')}). Prompts stay blocked until a server accepts "
            "it again; ask your admin for a new install code."
        )
        return 0
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
    return f"Claude Governor's {why.replace('unavailable', 'is unavailable', 1)}"
