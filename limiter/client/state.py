"""The user-writable cache: state.json under a lock, and one small file per Claude Code session."""

import os
import sys

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
                if sys.platform == "win32":
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
        if self.fd is not None:
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
    state: dict = {}
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


def _session_file(paths, session_id, suffix=".json"):
    safe = "".join(c for c in str(session_id) if c.isalnum() or c in "-_")[:100] or "no-session"
    return os.path.join(paths.sessions, safe + suffix)


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


# The model Claude Code reports for a session on the status line, in a file of its own: the status line
# writes it several times a second while hooks rewrite the session file, and neither may undo the other.


def reported_model(paths, session_id):
    """{"model", "at"} as the status line last recorded it for the session, or None."""
    try:
        record = read_json(_session_file(paths, session_id, ".model.json"))
    except (OSError, ValueError):
        return None
    if not record or not isinstance(record.get("model"), str) or parse_iso(record.get("at")) is None:
        return None
    return record


def record_reported_model(paths, session_id, model, previous=None, family=None, synced_at=None):
    """Writes only when something changed: the status line runs on every update of the conversation. The
    family (for the rules of the sync at `synced_at`) is kept for the status line. Returns the record."""
    if previous is not None and previous.get("model") == model:
        if family is None or (previous.get("family"), previous.get("family_synced")) == (family, synced_at):
            return previous
        at = previous.get("at")
    else:
        at = iso(now_utc())
    record = {"model": model, "at": at, "family": family, "family_synced": synced_at}
    try:
        write_atomic(_session_file(paths, session_id, ".model.json"), record)
    except OSError as exc:
        log(paths, f"reported model not saved: {exc}")
    return record
