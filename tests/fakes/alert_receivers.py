"""One loopback HTTP server standing in for Discord, Slack, Pushover, ntfy and a generic webhook receiver
(contract alert-transports §9).

Each provider answers as the real one does for the cases that matter (success shapes, unknown webhook, bad
token, invalid user key, size limits); `script(prefix, *replies)` queues exact answers (429 with each retry
hint, 5xx, 4xx) for the next requests under a path. Every request is recorded so tests can assert payloads,
retry counts and `Idempotency-Key` stability.
"""

import itertools
import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

PUSHOVER_TOKEN = "azGDORePK8gMaC0QOYAMyEEuzJnyUi"
PUSHOVER_USER = "uQiRzpo4DXghDmr9QzzfQu27cmVRsG"


@dataclass
class Reply:
    status: int = 200
    body: object = None
    headers: dict = field(default_factory=dict)
    content_type: str = "application/json"
    delay: float = 0.0  # seconds before answering (a slow provider; a worker can be killed meanwhile)


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-case names
    body: bytes

    def json(self):
        return json.loads(self.body)

    def form(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(self.body.decode()).items()}


# --- canned answers of each provider ---


def discord_rate_limited(retry_after: float = 2.5, *, header: str | None = "3") -> Reply:
    headers = {
        "X-RateLimit-Limit": "5",
        "X-RateLimit-Remaining": "0",
        "X-RateLimit-Reset-After": str(retry_after),
    }
    headers |= {"X-RateLimit-Scope": "user", "X-RateLimit-Bucket": "abcd1234"}
    if header is not None:
        headers["Retry-After"] = header
    return Reply(
        429, {"message": "You are being rate limited.", "retry_after": retry_after, "global": False}, headers
    )


def slack_error(status: int, code: str) -> Reply:
    return Reply(status, code, content_type="text/plain")


def matrix_rate_limited(retry_after_ms: int = 4682, header: str | None = "5") -> Reply:
    headers = {"Retry-After": header} if header else {}
    return Reply(
        429,
        {"errcode": "M_LIMIT_EXCEEDED", "error": "Too Many Requests", "retry_after_ms": retry_after_ms},
        headers,
    )


def pushover_over_quota(reset_epoch: int) -> Reply:
    return Reply(
        429,
        {
            "status": 0,
            "errors": ["application is over its monthly message limit"],
            "request": str(uuid.uuid4()),
        },
        {"X-Limit-App-Limit": "10000", "X-Limit-App-Remaining": "0", "X-Limit-App-Reset": str(reset_epoch)},
    )


class FakeReceivers:
    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self.discord_webhooks: dict[str, str] = {"1100": "tok-good_1"}
        self.pushover_users = {PUSHOVER_USER}
        self.pushover_tokens = {PUSHOVER_TOKEN}
        self._scripts: list[tuple[str, list[Reply]]] = []
        self._lock = threading.Lock()
        self._ids = itertools.count(1234567890123456789)
        self._server: ThreadingHTTPServer | None = None

    # --- control ---

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> "FakeReceivers":
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format, *args):
                pass

            def _handle(self):
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                record = Recorded(
                    self.command,
                    parts.path,
                    {k: v[0] for k, v in parse_qs(parts.query).items()},
                    {k.lower(): v for k, v in self.headers.items()},
                    body,
                )
                with fake._lock:
                    fake.requests.append(record)
                reply = fake._scripted(parts.path) or fake._answer(record)
                if reply.delay:
                    time.sleep(reply.delay)
                payload = reply.body
                if not isinstance(payload, bytes | str):
                    payload = b"" if payload is None else json.dumps(payload)
                raw = payload.encode() if isinstance(payload, str) else payload
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                if reply.status != 204:
                    self.send_header("Content-Type", reply.content_type)
                self.send_header("Content-Length", str(0 if reply.status == 204 else len(raw)))
                self.end_headers()
                if reply.status != 204:
                    self.wfile.write(raw)

            do_POST = do_PUT = do_GET = _handle

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def script(self, prefix: str, *replies: Reply) -> None:
        """The next requests under `prefix` get these answers in order; then the provider's own behaviour."""
        with self._lock:
            self._scripts.append((prefix, list(replies)))

    def received(self, prefix: str = "") -> list[Recorded]:
        with self._lock:
            return [r for r in self.requests if r.path.startswith(prefix)]

    def _scripted(self, path: str) -> Reply | None:
        with self._lock:
            for prefix, replies in self._scripts:
                if path.startswith(prefix) and replies:
                    return replies.pop(0)
        return None

    # --- provider behaviour ---

    def _answer(self, r: Recorded) -> Reply:
        if r.path.startswith("/api/webhooks/"):
            return self._discord(r)
        if r.path.startswith("/services/"):
            return self._slack(r)
        if r.path == "/1/messages.json":
            return self._pushover(r)
        if r.path.startswith("/1/receipts/cancel_by_tag/"):
            return Reply(200, {"status": 1, "request": str(uuid.uuid4())})
        if r.path.startswith("/ntfy"):
            return self._ntfy(r)
        return Reply(200, {"ok": True})  # the generic webhook receiver

    def _discord(self, r: Recorded) -> Reply:
        parts = r.path.removeprefix("/api/webhooks/").split("/")
        webhook_id, token = parts[0], parts[1] if len(parts) > 1 else ""
        if webhook_id not in self.discord_webhooks:
            return Reply(404, {"message": "Unknown Webhook", "code": 10015})
        if self.discord_webhooks[webhook_id] != token:
            return Reply(401, {"message": "Invalid Webhook Token", "code": 50027})
        try:
            body = json.loads(r.body or b"{}")
        except ValueError:
            return Reply(400, {"message": "Cannot send an empty message", "code": 50006})
        embeds = body.get("embeds") or []
        if not body.get("content") and not embeds:
            return Reply(400, {"message": "Cannot send an empty message", "code": 50006})
        embed_chars = sum(
            len(e.get("title", ""))
            + len(e.get("description", ""))
            + sum(len(f["name"]) + len(f["value"]) for f in e.get("fields", []))
            for e in embeds
        )
        if len(body.get("content") or "") > 2000 or len(embeds) > 10 or embed_chars > 6000:
            return Reply(400, {"message": "Invalid Form Body", "code": 50035})
        if r.query.get("wait") == "true" or r.path.endswith("/slack"):
            message = {"id": str(next(self._ids)), "channel_id": "99", "content": body.get("content") or ""}
            return Reply(200, message | {"embeds": embeds})
        return Reply(204)

    def _slack(self, r: Recorded) -> Reply:
        try:
            body = json.loads(r.body or b"{}")
        except ValueError:
            return slack_error(400, "invalid_payload")
        if not body.get("text") and not body.get("blocks"):
            return slack_error(400, "no_text")
        return Reply(200, "ok", content_type="text/plain")

    def _pushover(self, r: Recorded) -> Reply:
        form = r.form() if "urlencoded" in r.headers.get("content-type", "") else r.json()
        quota = {
            "X-Limit-App-Limit": "10000",
            "X-Limit-App-Remaining": "9999",
            "X-Limit-App-Reset": "1893456000",
        }
        request_id = str(uuid.uuid4())
        if form.get("token") not in self.pushover_tokens:
            body = {"token": "invalid", "errors": ["application token is invalid"], "status": 0}
            return Reply(400, body | {"request": request_id}, quota)
        if form.get("user") not in self.pushover_users:
            body = {"user": "invalid", "errors": ["user identifier is invalid"], "status": 0}
            return Reply(400, body | {"request": request_id}, quota)
        if not form.get("message"):
            body = {"message": "cannot be blank", "errors": ["message cannot be blank"], "status": 0}
            return Reply(400, body | {"request": request_id}, quota)
        return Reply(200, {"status": 1, "request": request_id}, quota)

    def _ntfy(self, r: Recorded) -> Reply:
        body = json.loads(r.body or b"{}")
        if r.headers.get("authorization") == "Bearer tk_revoked":
            return Reply(401, {"code": 40101, "http": 401, "error": "unauthorized"})
        event = {
            "id": uuid.uuid4().hex[:12],
            "time": 1764633600,
            "event": "message",
            "topic": body.get("topic"),
        }
        return Reply(200, event | {"message": body.get("message"), "title": body.get("title")})
