"""The managed status line (`statusline`): Claude Code runs it on every update of the conversation.

It records the session's model as Claude Code reports it (`model.id`, current after every /model switch) for
the gate, runs the status line the developer already had and keeps its output, and prints the seat's own
budget in one line from the cache, e.g. `opus 3/5 today · 61/100 credits · resets 00:00`. No network on its
path: it runs every few hundred milliseconds.
"""

import os
import sys

from .base import Broken, now_utc, parse_iso
from .config import Install
from .jsonfast import json_loads
from .paths import LAUNCHER_NAME, home_dir
from .state import load_state, record_reported_model, reported_model

WINDOW_WORDS = {"daily": "today", "weekly": "this week", "monthly": "this month", "sliding_24h": "in 24 h"}
OWN_TIMEOUT = 2.0


def statusline_command(python, launcher):
    return f'"{python}" -I -S "{launcher}" statusline'


def run(paths):
    raw = sys.stdin.buffer.read() if not sys.stdin.isatty() else b""
    try:
        inp = json_loads(raw) if raw.strip() else {}
    except ValueError:
        inp = {}
    if not isinstance(inp, dict):
        inp = {}
    try:
        install = Install(paths)
        ours = budget_line(paths, inp) if install.present else None
    except Broken as exc:
        install, ours = None, f"Claude Governor: install broken ({exc})"
    own = _their_status_line(install, inp, raw)
    sys.stdout.write(_combine(own, ours))
    sys.stdout.flush()
    return 0


def budget_line(paths, inp):
    model_info = inp.get("model") if isinstance(inp.get("model"), dict) else {}
    model = model_info.get("id") if isinstance(model_info.get("id"), str) else None
    session_id = str(inp.get("session_id") or "") or "no-session"
    record = reported_model(paths, session_id)
    if model and model.strip():
        record_reported_model(paths, session_id, model.strip()[:255], record)
    state = load_state(paths)
    if state is None:
        return "Claude Governor: not synced yet"
    if isinstance(state.get("token_rejected"), dict):
        return "Claude Governor: this machine's token was rejected"
    if state["status"] != "active":
        return f"Claude Governor: access {'revoked' if state['status'] == 'killed' else 'paused'}"
    return _figures(state, _family(state, model or (record or {}).get("model") or "default"))


def _family(state, model):
    from .. import families

    extra = state.get("extra_families") if isinstance(state.get("extra_families"), list) else ()
    aliases = state.get("model_aliases") if isinstance(state.get("model_aliases"), dict) else None
    return families.normalize_family(model, extra_families=extra, aliases=aliases)


def _figures(state, family):
    from .. import windows
    from .tally import tally, team_zone

    tz = team_zone(state)
    now = now_utc()
    counts, credits, _ = tally(state, now, tz)
    limits = [
        r for r in state.get("limits") or [] if isinstance(r, dict) and r.get("window") in windows.WINDOWS
    ]
    tightest = None
    for rule in limits:
        value = rule.get("value")
        if rule.get("type") != "per_model" or rule.get("model") not in (None, family):
            continue
        if not isinstance(value, int) or value < 0:
            continue
        used = counts[rule["window"]].get(family, 0)
        if tightest is None or value - used < tightest[0]:
            tightest = (value - used, used, value, rule["window"])
    parts = []
    if tightest is not None:
        _, used, value, window = tightest
        parts.append(f"{family} {used}/{value} {WINDOW_WORDS[window]}")
    else:
        parts.append(f"{family} {counts['daily'].get(family, 0)} today")
    budget = None
    for rule in limits:
        value = rule.get("value")
        if rule.get("type") == "credits" and isinstance(value, int) and value >= 0:
            used = credits[rule["window"]]
            if budget is None or value - used < budget[0]:
                budget = (value - used, used, value, rule["window"])
    if budget is not None:
        parts.append(f"{budget[1]}/{budget[2]} credits")
    shown = tightest or budget
    if shown is not None:
        parts.append(_resets(shown[3], now, tz))
    contact = parse_iso(state.get("contact_at"))
    if contact is not None and (now - contact).total_seconds() > 600:
        parts.append(f"server last reached {contact.astimezone(tz):%H:%M}")
    return " · ".join(parts)


def _resets(window, now, tz):
    from .. import windows

    if window == windows.SLIDING_24H:
        return "rolling 24 h"
    end = windows.window_bounds(window, now, tz)[1]
    if end is None:
        return ""
    local = end.astimezone(tz)
    return f"resets {local:%H:%M}" if (end - now).total_seconds() <= 86400 else f"resets {local:%a %H:%M}"


def _combine(own, ours):
    """Their line first, ours after it on the same line; a multi-line status line gets ours below."""
    own = (own or "").rstrip("\n")
    if not ours:
        return own + "\n" if own else ""
    if not own:
        return ours + "\n"
    if "\n" in own:
        return f"{own}\n{ours}\n"
    return f"{own} │ {ours}\n"


# --- the developer's own status line ------------------------------------------------------------------------


def their_command(install, cwd):
    """The status line this one replaced: the managed one setup found (kept in config.json), else the
    developer's own from their settings, project-local first, as Claude Code would have chosen it."""
    if install is not None and isinstance(install.config.get("status_line_previous"), str):
        return install.config["status_line_previous"]
    config_dir = os.environ.get("CLAUDE_CONFIG_DIR") or os.path.join(home_dir(), ".claude")
    candidates = []
    if isinstance(cwd, str) and cwd:
        project = os.path.join(cwd, ".claude")
        candidates += [os.path.join(project, "settings.local.json"), os.path.join(project, "settings.json")]
    candidates.append(os.path.join(config_dir, "settings.json"))
    for path in candidates:
        command = command_of(_read(path).get("statusLine"))
        if command:
            return command
    return None


def command_of(status_line):
    """The command of a `statusLine` setting that is not ours (running ourselves would recurse)."""
    if not isinstance(status_line, dict) or status_line.get("type", "command") != "command":
        return None
    command = status_line.get("command")
    if not isinstance(command, str) or not command.strip() or LAUNCHER_NAME in command:
        return None
    return command


def _read(path):
    try:
        with open(path, "rb") as handle:
            data = json_loads(handle.read())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _their_status_line(install, inp, raw):
    command = their_command(install, inp.get("cwd") or (inp.get("workspace") or {}).get("current_dir"))
    if command is None:
        return ""
    import subprocess

    try:
        # A settings command line, run by the shell as Claude Code runs it, with the same input.
        done = subprocess.run(  # noqa: S602
            command, shell=True, input=raw, capture_output=True, timeout=OWN_TIMEOUT, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return ""
    return done.stdout.decode("utf-8", "replace")

