"""Constants, the two failure kinds, and small time and file helpers every part of the client uses."""

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
