"""The count queue: every turn is written to disk before it is sent, and replayed until the server has it."""

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
    state.pop("token_rejected", None)
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

