"""The managed status line (`statusline`): Claude Code runs it on every update of the conversation.

It records the session's model as Claude Code reports it (`model.id`, current after every /model switch) for
the gate, runs the status line the developer already had and keeps its output, and prints the seat's own
budget in one line from the cache, e.g. `opus 3/5 today · 61/100 credits · resets 00:00`. No network on its
path: it runs every few hundred milliseconds.
"""

import os
import sys

from .base import Broken, iso, now_utc, parse_iso, read_json, write_atomic
from .config import Install
from .jsonfast import json_loads, read_stdin_object
from .paths import LAUNCHER_NAME, home_dir
from .state import load_state, record_reported_model, reported_model

WINDOW_WORDS = {"daily": "today", "weekly": "this week", "monthly": "this month", "sliding_24h": "in 24 h"}
OWN_TIMEOUT = 2.0


def statusline_command(python, launcher):
    return f'"{python}" -I -S "{launcher}" statusline'


def run(paths):
    raw, inp = read_stdin_object()
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
    model_id = model_info.get("id")
    model = model_id.strip()[:255] if isinstance(model_id, str) else ""
    session_id = str(inp.get("session_id") or "") or "no-session"
    record = reported_model(paths, session_id)
    state = load_state(paths)
    if model:
        family = _family_of(state, model, record)
        synced = (state or {}).get("synced_at")
        record = record_reported_model(paths, session_id, model, record, family, synced)
    if state is None:
        return "Claude Governor: not synced yet"
    if isinstance(state.get("token_rejected"), dict):
        return "Claude Governor: this machine's token was rejected"
    if state["status"] != "active":
        return f"Claude Governor: access {'revoked' if state['status'] == 'killed' else 'paused'}"
    family = _family_of(state, (record or {}).get("model") or "default", record)
    return _figures(paths, state, family)


def _family_of(state, model, record):
    """The family the server charges for `model`. Kept with the recorded model (for the rules of the last
    sync): the normaliser's `re` import costs more than the rest of the status line."""
    if state is None:
        return None
    if record and record.get("model") == model and record.get("family_synced") == state.get("synced_at"):
        return record.get("family")
    from .. import families

    extra = state.get("extra_families") if isinstance(state.get("extra_families"), list) else ()
    aliases = state.get("model_aliases") if isinstance(state.get("model_aliases"), dict) else None
    return families.normalize_family(model, extra_families=extra, aliases=aliases)


def _calendar(paths, state, now):
    """window → (start, end, reset label) for the calendar windows in the team's zone, kept in the state
    directory until the first of them ends: working them out needs the zone database, which costs more
    start-up than the rest of the line. Only the status line reads it."""
    path = os.path.join(paths.state_dir, "statusline.json")
    zone = state.get("team_timezone") if isinstance(state.get("team_timezone"), str) else "UTC"
    try:
        cache = read_json(path) or {}
    except (OSError, ValueError):
        cache = {}
    start, until = parse_iso(cache.get("from")), parse_iso(cache.get("until"))
    if cache.get("zone") == zone and start is not None and until is not None and start <= now < until:
        return {w: (parse_iso(v[0]), parse_iso(v[1]), v[2], v[3]) for w, v in cache["windows"].items()}
    from .. import windows
    from .tally import team_zone

    tz = team_zone(state)
    found = {}
    for window in windows.CALENDAR_WINDOWS:
        first, end = windows.window_bounds(window, now, tz)
        local = end.astimezone(tz) if end is not None else None
        found[window] = (first, end, f"{local:%H:%M}" if local else "", f"{local:%a %H:%M}" if local else "")
    cache = {
        "zone": zone,
        "from": iso(max(v[0] for v in found.values())),
        "until": iso(min(v[1] for v in found.values() if v[1] is not None)),
        "windows": {w: [iso(v[0]), iso(v[1]) if v[1] else None, v[2], v[3]] for w, v in found.items()},
    }
    try:
        write_atomic(path, cache)
    except OSError:
        pass
    return found


def _figures(paths, state, family):
    from .tally import tally

    now = now_utc()
    calendar = _calendar(paths, state, now)
    counts, credits, _ = tally(state, now, None, {w: v[0] for w, v in calendar.items()})
    limits = [r for r in state.get("limits") or [] if isinstance(r, dict) and r.get("window") in WINDOW_WORDS]
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
        parts.append(_resets(calendar.get(shown[3]), now))
    contact = parse_iso(state.get("contact_at"))
    if contact is not None and (now - contact).total_seconds() > 600:
        parts.append(f"server last reached {contact.astimezone():%H:%M}")
    return " · ".join(parts)


def _resets(window, now):
    """`window` is the calendar entry of the shown limit; the sliding window has none."""
    if window is None:
        return "rolling 24 h"
    _, end, short, long = window
    if end is None:
        return ""
    return f"resets {short}" if (end - now).total_seconds() <= 86400 else f"resets {long}"


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

