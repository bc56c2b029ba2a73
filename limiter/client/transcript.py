"""Claude Code's transcript: the active model and each turn's token usage."""

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
            # A file the user can append to: it fills a gap (active_model), it never overrides.
            session["transcript_model"] = model
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


def active_model(session, inp, reported=None):
    """What Claude Code itself said first, the newer of the status line's model (`reported`, it follows
    /model switches) and SessionStart's; only then the user-writable sources: the transcript since the
    session started, its history, settings, the environment."""
    from .base import parse_iso

    said = []
    # (A session file from before 1.1 may hold a transcript model under "model": it stays a gap-filler.)
    if isinstance(session.get("model"), str) and session.get("model_source") != "transcript":
        said.append((parse_iso(session.get("model_at")), session["model"]))
    if reported:
        said.append((parse_iso(reported.get("at")), reported.get("model")))
    said.sort(key=lambda item: (item[0] is not None, item[0] or 0), reverse=True)
    for candidate in (
        *(model for _, model in said),
        session.get("transcript_model") or session.get("model"),
        session.get("history_model"),
        settings_model(inp.get("cwd")),
        os.environ.get("ANTHROPIC_MODEL"),
    ):
        if isinstance(candidate, str) and candidate.strip():
            return candidate.strip()
    return "default"

