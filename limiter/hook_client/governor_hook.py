#!/usr/bin/env python3
"""Claude Governor hook client: the gate Claude Code runs before every prompt, and its installer.

One file, standard library only, Python 3.8+ on Linux, macOS and Windows. Claude Code starts it as
`<python> -I -S governor_hook.py hook <Event>` with the hook JSON on stdin; a terminal user runs
`setup`, `status`, `sync`, `doctor`, `uninstall` or `watchdog`. See docs/hook-client.md.

Start-up time is paid on every prompt, so modules are imported inside the functions that need them.
"""

import os
import sys

VERSION = "1.0.0"
HOOK_NAME = "governor_hook.py"
# Claude Code starts this small file; it imports the client, whose bytecode setup compiled ahead. Running
# the 2,000-line client as a script would compile it on every prompt (about 40 ms).
LAUNCHER_NAME = "run_governor_hook.py"
LAUNCHER = (
    "import os, sys\n"
    "sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))\n"
    "from governor_hook import main\n"
    "sys.exit(main(sys.argv[1:]))\n"
)
DROPIN_NAME = "50-claude-governor.json"
UNIT_NAME = "claude-governor-watchdog"
LAUNCHD_LABEL = "com.claude-governor.watchdog"
WINDOWS_TASK = "ClaudeGovernorWatchdog"
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
BUILTIN_FAMILIES = ("opus", "sonnet", "haiku")
WINDOWS = ("daily", "weekly", "monthly", "sliding_24h")
WINDOW_TITLES = {"daily": "Daily", "weekly": "Weekly", "monthly": "Monthly", "sliding_24h": "Sliding 24-hour"}
USAGE_FIELDS = ("input_tokens", "output_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")
KILLED_REASON = "Your Claude Code access has been revoked by the admin. Contact your admin to restore access."
PAUSED_REASON = "Your Claude Code access has been paused by the admin. Contact your admin to resume."


class Unreachable(Exception):
    """No usable answer: connection refused, timeout, or a body that is not JSON (a proxy's error page)."""


class Broken(Exception):
    """Installed files are missing or unreadable: the gate fails closed with this message."""


# --- paths ---------------------------------------------------------------------------------------


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


def _home():
    return os.environ.get("GOVERNOR_HOME") or os.path.expanduser("~")


def default_state_dir():
    if os.environ.get("GOVERNOR_STATE_DIR"):
        return os.environ["GOVERNOR_STATE_DIR"]
    if os.name == "nt":
        base = os.environ.get("LOCALAPPDATA") or os.path.join(_home(), "AppData", "Local")
        return os.path.join(base, "claude-governor")
    if sys.platform == "darwin":
        return os.path.join(_home(), "Library", "Application Support", "claude-governor")
    base = os.environ.get("XDG_STATE_HOME") or os.path.join(_home(), ".local", "state")
    return os.path.join(base, "claude-governor")


class Paths:
    """Where things live. An installed copy trusts only the directory it sits in, never the environment:
    a user who could point the hook at another config through an env var could bypass it."""

    def __init__(self, install_dir=None):
        here = os.path.dirname(os.path.abspath(__file__))
        self.installed_copy = install_dir is None and os.path.isfile(os.path.join(here, "config.json"))
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


# --- JSON through the C accelerator ----------------------------------------------------------------
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


# --- small utilities ---------------------------------------------------------------------------


def now_utc():
    from datetime import datetime, timezone

    return datetime.now(timezone.utc)


def iso(moment):
    from datetime import timezone

    utc = moment.astimezone(timezone.utc)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def parse_iso(text):
    from datetime import datetime, timezone

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


# --- HTTP over a plain socket --------------------------------------------------------------------


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


# --- installation: config and token (root-owned) -------------------------------------------------


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


# --- model families (mirrors limiter/families.py) ------------------------------------------------


def normalize_family(model, extra_families=(), aliases=None):
    if not isinstance(model, str):
        return "default"
    s = model.strip().lower()
    if s.endswith("]") and "[" in s:
        s = s[: s.rindex("[")].strip()
    if not s:
        return "default"
    alias_map = {"best": "opus"} if aliases is None else aliases
    s = alias_map.get(s, s)
    for family in BUILTIN_FAMILIES + tuple(extra_families):
        if family in s:
            return family
    if s.startswith("claude-"):
        for token in s[len("claude-") :].split("-"):
            if token.isalpha() and token.isascii():
                return token[:32]
        return "default"
    if s.isalpha() and s.isascii() and len(s) <= 32:
        return s
    return "default"


def credit_cost(family, weights):
    if family in weights:
        return weights[family]
    return weights.get("default", 1)


# --- state (user-writable) -----------------------------------------------------------------------


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


# --- transcript: active model and token usage -----------------------------------------------------


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
    config_dir = os.environ.get("CLAUDE_CONFIG_DIR") or os.path.join(_home(), ".claude")
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


# --- windows and the offline engine (mirrors limiter/windows.py and engine.py) -------------------


def load_zone(name, fallback_offset=None):
    """A tzinfo for an IANA name. Python 3.8, or Windows without tzdata, has none: use the offset the
    server reported for the team's day start, else the machine's local zone."""
    from datetime import timedelta, timezone

    try:
        from zoneinfo import ZoneInfo

        return ZoneInfo(name or "UTC")
    except Exception:
        if not name or name == "UTC":
            return timezone.utc
        if fallback_offset is not None:
            return timezone(timedelta(seconds=fallback_offset))
        return now_utc().astimezone().tzinfo


def _local_midnight(day, tz):
    from datetime import datetime, time, timezone

    return datetime.combine(day, time(0), tzinfo=tz).replace(fold=0).astimezone(timezone.utc)


def window_bounds(window, now, tz):
    from datetime import date, timedelta

    if window == "sliding_24h":
        return now - timedelta(hours=24), None
    today = now.astimezone(tz).date()
    if window == "daily":
        first, after = today, today + timedelta(days=1)
    elif window == "weekly":
        first = today - timedelta(days=today.weekday())
        after = first + timedelta(days=7)
    else:
        first = today.replace(day=1)
        after = date(today.year + 1, 1, 1) if today.month == 12 else date(today.year, today.month + 1, 1)
    return _local_midnight(first, tz), _local_midnight(after, tz)


def format_when(moment, tz, tz_name):
    return "{} ({})".format(moment.astimezone(tz).strftime("%Y-%m-%d %H:%M"), tz_name)


def format_clock(moment, tz):
    local = moment.astimezone(tz)
    return f"{local.hour % 12 or 12}:{local.minute:02d} {'AM' if local.hour < 12 else 'PM'}"


def _minutes(hhmm):
    hours, _, minutes = str(hhmm).partition(":")
    return int(hours) * 60 + int(minutes)


def team_zone(state):
    """The team's zone; the fallback offset comes from the last report's daily window start."""
    offset = None
    start = parse_iso(((state.get("report") or {}).get("usage") or {}).get("daily", {}).get("windowStart"))
    if start is not None:
        seconds = start.hour * 3600 + start.minute * 60
        offset = -seconds if seconds <= 12 * 3600 else 86400 - seconds
    return load_zone(state.get("team_timezone") or "UTC", offset), state.get("team_timezone") or "UTC"


def local_usage(state, now, tz):
    """Counts and credits per window: the last server report, plus this machine's turns since (and any
    turn the server has not received yet). A calendar window that began after the report starts empty;
    the sliding window keeps the report's counts for 24 h, which errs on the strict side."""
    from datetime import timedelta

    report = state.get("report") if isinstance(state.get("report"), dict) else {}
    report_at = parse_iso(state.get("report_at"))
    usage = report.get("usage") if isinstance(report.get("usage"), dict) else {}
    counts = {}
    credits = {}
    for window in WINDOWS:
        start = window_bounds(window, now, tz)[0]
        base = usage.get(window) if isinstance(usage.get(window), dict) else {}
        keep = report_at is not None and (
            report_at >= start if window != "sliding_24h" else now - report_at < timedelta(hours=24)
        )
        window_counts = {}
        window_credits = 0
        if keep:
            for family, n in (base.get("counts") or {}).items():
                if isinstance(n, int):
                    window_counts[family] = n
            total = base.get("totalCredits")
            window_credits = total if isinstance(total, int) else 0
        for turn in state.get("turns") or []:
            at = parse_iso(turn.get("at"))
            if at is None or at < start:
                continue
            if report_at is not None and at <= report_at and turn.get("sent"):
                continue  # already inside the report
            window_counts[turn.get("family", "default")] = (
                window_counts.get(turn.get("family", "default"), 0) + 1
            )
            window_credits += int(turn.get("cost") or 0)
        counts[window] = window_counts
        credits[window] = window_credits
    return counts, credits


def offline_decision(state, family, now):
    """(allowed, reason, resets_at): the server's evaluation order and messages, from the cached rules."""
    if state["status"] == "killed":
        return False, KILLED_REASON, None
    if state["status"] == "paused":
        return False, PAUSED_REASON, None
    rules = state["limits"]
    name = (state.get("seat") or {}).get("name") or "you"
    tz, tz_name = team_zone(state)
    counts, credits = local_usage(state, now, tz)
    weights = state["credit_weights"]
    for rule in rules:
        if rule.get("type") != "time_of_day" or rule.get("model") not in (None, family):
            continue
        rule_tz_name = rule.get("schedule_tz") or "UTC"
        same_zone = rule_tz_name == tz_name
        rule_tz = load_zone(
            rule_tz_name, now.astimezone(tz).utcoffset().total_seconds() if same_zone else None
        )
        local = now.astimezone(rule_tz)
        minute, start, end = (
            local.hour * 60 + local.minute,
            _minutes(rule["schedule_start"]),
            _minutes(rule["schedule_end"]),
        )
        inside = start <= minute < end if start < end else (minute >= start or minute < end)
        if not inside:
            subject = rule["model"].capitalize() if rule.get("model") else "This model"
            reason = (
                "{} is only available {} - {} ({}).\nCurrent time: {}. Try another model instead.".format(
                    subject,
                    rule["schedule_start"],
                    rule["schedule_end"],
                    rule_tz_name,
                    format_clock(now, rule_tz),
                )
            )
            return False, reason, _next_wall_time(now, start, rule_tz)
    for rule in rules:
        if rule.get("type") != "per_model" or rule.get("model") not in (None, family):
            continue
        value, window = rule.get("value"), rule.get("window")
        if value == -1 or window not in WINDOWS:
            continue
        used = counts[window].get(family, 0)
        if used < value:
            continue
        resets_at = window_bounds(window, now, tz)[1] if value > 0 and window != "sliding_24h" else None
        resets = f"Resets {format_when(resets_at, tz, tz_name)}.\n" if resets_at else ""
        reason = (
            f"{WINDOW_TITLES[window]} {family} limit reached for {name}.\nUsed {used}/{value} prompts.\n"
            f"{resets}\nSwitch to another model or try again later."
        )
        return False, reason, resets_at
    cost = credit_cost(family, weights)
    for rule in rules:
        value, window = rule.get("value"), rule.get("window")
        if rule.get("type") != "credits" or value == -1 or window not in WINDOWS:
            continue
        used = credits[window]
        balance = max(0, value - used)
        if balance >= cost:
            continue
        resets_at = None
        if value >= cost and cost > 0 and window != "sliding_24h":
            resets_at = window_bounds(window, now, tz)[1]
        resets = f"Resets {format_when(resets_at, tz, tz_name)}.\n" if resets_at else ""
        unit = "credit" if cost == 1 else "credits"
        reason = (
            f"{WINDOW_TITLES[window]} credit budget exhausted for {name}.\n"
            f"Used {used}/{value} credits ({balance} remaining).\n"
            f"{family.capitalize()} costs {cost} {unit} per prompt.\n"
            f"{resets}\nTry a cheaper model or wait for the window to reset."
        )
        return False, reason, resets_at
    return True, None, None


def _next_wall_time(now, minute_of_day, tz):
    from datetime import datetime, time, timedelta, timezone

    day = now.astimezone(tz).date()
    for offset in range(3):
        at = time(minute_of_day // 60, minute_of_day % 60)
        candidate = datetime.combine(day + timedelta(days=offset), at, tzinfo=tz).astimezone(timezone.utc)
        if candidate > now:
            return candidate
    return None


def report_from_local(state, now):
    """A /status-shaped report built offline from the cache, for messages and `status`."""
    tz, _ = team_zone(state)
    counts, credits = local_usage(state, now, tz)
    usage = {}
    for window in WINDOWS:
        usage[window] = {
            "counts": counts[window],
            "totalCredits": credits[window],
            "windowStart": iso(window_bounds(window, now, tz)[0]),
        }
    balance = budget = None
    for rule in state["limits"]:
        if rule.get("type") == "credits" and isinstance(rule.get("value"), int) and rule["value"] >= 0:
            left = max(0, rule["value"] - credits.get(rule.get("window"), 0))
            if balance is None or left < balance:
                balance, budget = left, rule["value"]
    return {
        "user": state.get("seat") or {},
        "limits": state["limits"],
        "credit_weights": state["credit_weights"],
        "credit_balance": balance,
        "credit_budget": budget,
        "usage": usage,
    }


# --- usage table (deny message and `status`) -----------------------------------------------------


def _countdown(delta_seconds):
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
    tz, tz_name = team_zone(state)
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
                f"  {family:<8} {window:<12} {bar} {shown:>7}  {_reset_text(window, now, tz, tz_name)}"
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
        resets = _reset_text(window, now, tz, tz_name)
        lines.append(f"  {'credits':<8} {window:<12} {bar} {shown:>7}  {left} left, {resets}")
    if balance is not None:
        lines.append(f"Credit balance: {balance}/{budget}")
    return lines


def _reset_text(window, now, tz, tz_name):
    if window == "sliding_24h":
        return "rolling 24 h"
    end = window_bounds(window, now, tz)[1]
    return f"resets {format_when(end, tz, tz_name)}, in {_countdown((end - now).total_seconds())}"


def deny_message(reason, report, state, resets_at, now, offline_note=None):
    parts = [reason.strip() or "Claude Governor blocked this prompt."]
    if offline_note:
        parts.append(offline_note)
    if state is not None and report is not None:
        parts.append("Usage by model:\n" + "\n".join(usage_lines(report, state, now)))
    if resets_at is not None and state is not None:
        tz, tz_name = team_zone(state)
        parts.append(
            f"Allowed again: {format_when(resets_at, tz, tz_name)} "
            f"(in {_countdown((resets_at - now).total_seconds())})."
        )
    return "\n\n".join(parts)[:9500]


# --- server conversations ------------------------------------------------------------------------


def _apply_answer(state, body, now, kind):
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
        _apply_answer(state, body, now, "sync")
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


# --- the count queue -----------------------------------------------------------------------------


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
        _forget(path)
        update_state(paths, lambda s: _mark_sent(s, payload["event_id"], now_utc()))
        return True
    if status == 400:
        # The server will never accept this body; keeping it would block the queue forever.
        log(paths, "count {} rejected: {}".format(payload["event_id"], body.get("error")))
        _forget(path)
        return False
    raise Unreachable(f"HTTP {status}: {body.get('error')}")


def _forget(path):
    try:
        os.remove(path)
    except OSError:
        pass


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


# --- hook events ---------------------------------------------------------------------------------


def emit(obj):
    sys.stdout.write(json_dumps(obj))
    sys.stdout.flush()


def block_prompt(message):
    emit({"decision": "block", "reason": message})


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
        state = update_state(paths, lambda s: _apply_answer(s, body, now, "check"))
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
        _apply_answer(s, body, now, "check")

    new_state = update_state(paths, change)
    react_to_status(install, paths, previous.get("status"), new_state)
    if allowed is True and body.get("status") == "active":
        return 0
    report = fetch_report(install, paths, timeout)
    state = load_state(paths)
    if report is None and state is not None:
        report = report_from_local(state, server_now(state))
    if state is None:
        state = dict(new_state, limits=new_state.get("limits") or [], credit_weights={})
    message = deny_message(
        body.get("reason") or "Claude Governor blocked this prompt.",
        report,
        state,
        parse_iso(body.get("resets_at")),
        now,
    )
    block_prompt(message)
    return 0


def _offline_gate(paths, state, model, checked_online=False):
    if state is None:
        block_prompt(
            "Claude Governor cannot reach its server and this machine has not synced its rules yet, so "
            "prompts stay blocked. Check your network connection and try again; ask your admin if the "
            "server is down."
        )
        return 0
    from datetime import timedelta

    now = server_now(state)
    contact = parse_iso(state.get("contact_at"))
    grace = state.get("offline_grace_seconds")
    grace = grace if isinstance(grace, int) and grace >= 0 else 0
    tz, tz_name = team_zone(state)
    if not checked_online and (contact is None or now - contact > timedelta(seconds=grace)):
        block_prompt(
            "Claude Governor cannot reach its server, last reached {}. Your team allows {} of offline use, "
            "so prompts are blocked until the server answers again. Check your network connection.".format(
                format_when(contact, tz, tz_name) if contact else "never",
                _countdown(grace) if grace else "no time",
            )
        )
        return 0
    family = normalize_family(model, state.get("extra_families") or (), state.get("model_aliases"))
    allowed, reason, resets_at = offline_decision(state, family, now)
    if allowed:
        return 0
    note = "(Claude Governor server unreachable: enforced from the rules synced {}.)".format(
        format_when(parse_iso(state["synced_at"]), tz, tz_name)
    )
    if checked_online:
        note = "(Counted by this machine, including turns the server has not received yet.)"
    block_prompt(
        deny_message(reason, report_from_local(state, now), state, resets_at, now, offline_note=note)
    )
    return 0


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
            state = update_state(paths, lambda s: _apply_answer(s, {"status": body["status"]}, now, "probe"))
            react_to_status(install, paths, previous, state)
    if state.get("status") in ("killed", "paused"):
        reason = KILLED_REASON if state["status"] == "killed" else PAUSED_REASON
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
    family = normalize_family(model, state.get("extra_families") or (), state.get("model_aliases"))
    turn = {
        "id": payload["event_id"],
        "at": payload["timestamp"],
        "family": family,
        "cost": credit_cost(family, state.get("credit_weights") or {}),
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


# --- installation (root) -------------------------------------------------------------------------


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


def _is_root():
    if os.name == "nt":
        try:
            import ctypes

            return bool(ctypes.windll.shell32.IsUserAnAdmin())
        except Exception:
            return False
    return os.geteuid() == 0


def _require_root(what):
    if os.environ.get("GOVERNOR_ROOT") or _is_root():
        return
    raise SystemExit(f"claude-governor {what} must run as root (sudo) or an administrator.")


def _write_file(path, data, mode, owner=None):
    """An installed file: its directory readable by everyone (Claude Code reads policy as the user)."""
    os.makedirs(os.path.dirname(path), mode=0o755, exist_ok=True)
    write_atomic(path, data, mode=mode)
    os.chmod(path, mode)
    if owner is not None and hasattr(os, "chown"):
        os.chown(path, owner[0], owner[1])


def _target_user(name):
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
    _require_root("setup")

    server = args.server.rstrip("/")
    paths = Paths(args.install_dir or None)
    user = _target_user(args.user)
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
    with open(os.path.abspath(__file__), "rb") as handle:
        hook_bytes = handle.read()
    _write_file(paths.hook, hook_bytes, 0o644)
    _write_file(paths.launcher, LAUNCHER.encode(), 0o644)
    compile_hook(paths)
    settings_original = (previous or {}).get("settings_original")
    if previous is None:
        settings_original = None
        if os.path.exists(settings_file):
            with open(settings_file, "rb") as handle:
                original = handle.read()
            _write_file(os.path.join(paths.backup, "settings.orig"), original, 0o600)
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
    _write_file(settings_file, pretty_json(merged), 0o644)
    token_owner = (user[0], user[1]) if user and _is_root() else None
    _write_file(
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
    _write_file(paths.config, pretty_json(config), 0o644)
    snapshot_backup(paths, config)
    if user and _is_root():
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


def _bytecode_path(source):
    import importlib.util

    return importlib.util.cache_from_source(source)


def compile_hook(paths):
    """Bytecode for the interpreter that runs the hook, written by root beside the source."""
    import py_compile

    target = _bytecode_path(paths.hook)
    py_compile.compile(paths.hook, cfile=target, doraise=True)
    os.chmod(os.path.dirname(target), 0o755)
    os.chmod(target, 0o644)


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
        _write_file(path, text.encode(), 0o644)
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
    _require_root("watchdog")
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
                _target_user(backup_config.get("user")) if backup_config.get("user") and _is_root() else None
            )
            owner = (user[0], user[1]) if user else None
            mode = 0o400 if owner else 0o600
        with open(source, "rb") as handle:
            _write_file(target, handle.read(), mode, owner)
        restored.append(f"restored {target} from the backup")
    if not os.path.isfile(_bytecode_path(paths.hook)) or any(HOOK_NAME in line for line in restored):
        compile_hook(paths)
    settings_file = backup_config["settings_file"]
    try:
        settings_intact = sha256_file(settings_file) == sums.get("settings")
    except OSError:
        settings_intact = False
    if not settings_intact and os.path.basename(settings_file) == DROPIN_NAME:
        # The drop-in is ours alone: any change (a disableAllHooks, a removed hook) is undone whole.
        with open(os.path.join(paths.backup, "settings.json"), "rb") as handle:
            _write_file(settings_file, handle.read(), 0o644)
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
        _write_file(settings_file, pretty_json(merged), 0o644)
        restored.append(f"re-registered the Claude Governor hooks in {settings_file}")
    if restored:
        sums["settings"] = sha256_file(settings_file)
        write_atomic(os.path.join(paths.backup, "checksums.json"), sums, mode=0o600)
    return restored


def cmd_uninstall(args):
    _require_root("uninstall")
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
        _forget(path)
    restore_settings(paths, config)
    shutil.rmtree(paths.install_dir, ignore_errors=True)
    print("Claude Governor removed. Restart Claude Code.")
    return 0


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
            _forget(settings_file)
            if not config.get("settings_dir_existed", True):
                try:
                    os.rmdir(os.path.dirname(settings_file))
                except OSError:
                    pass
        else:
            _write_file(settings_file, original, 0o644)
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
    _write_file(settings_file, pretty_json(current), 0o644)


# --- terminal commands ---------------------------------------------------------------------------


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
        tz, tz_name = team_zone(state)
        synced = format_when(parse_iso(state["synced_at"]), tz, tz_name)
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
    report(os.path.isfile(_bytecode_path(paths.hook)), "hook bytecode compiled (fast start)")
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


def main(argv):
    if argv[:1] == ["hook"]:
        return run_hook(Paths(), argv[1] if len(argv) > 1 else None)
    parser, args = parse_args(argv)
    handler = {
        "setup": cmd_setup,
        "status": cmd_status,
        "sync": cmd_sync,
        "doctor": cmd_doctor,
        "uninstall": cmd_uninstall,
        "watchdog": cmd_watchdog,
    }.get(args.command)
    if handler is None:
        parser.print_help()
        return 1
    return handler(args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
