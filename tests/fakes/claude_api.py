"""A loopback fake of claude.ai, the Claude Code OAuth endpoints and the Anthropic Admin API.

Speaks the wire formats of shared/contracts/claude-usage-apis.md §8: scripted usage bodies per credential,
every error class on demand, OAuth refresh-token rotation with reuse rejection, Admin API paging, injected
latency, a record of every request and the peak number of concurrent requests per credential.
"""

import email.utils
import itertools
import json
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


@dataclass
class Reply:
    status: int = 200
    body: object = None
    headers: dict = field(default_factory=dict)
    content_type: str = "application/json"
    delay: float = 0.0


def _error(kind: str, message: str, **details) -> dict:
    error = {"type": kind, "message": message}
    if details:
        error["details"] = details
    return {"type": "error", "error": error, "request_id": "req_fake"}


EXPIRED = Reply(
    403,
    _error(
        "permission_error",
        "Invalid authorization",
        error_code="account_session_invalid",
        error_visibility="user_facing",
    ),
)
UNAUTHORIZED = Reply(401, _error("authentication_error", "Invalid authorization"))
WRONG_ORG = Reply(
    403, _error("permission_error", "Invalid authorization for organization", error_visibility="user_facing")
)
OAUTH_SCOPE = Reply(
    403, _error("permission_error", "OAuth token does not meet scope requirement user:profile")
)
CLOUDFLARE = Reply(
    403,
    "<!DOCTYPE html><html><head><title>Just a moment...</title></head><body>"
    "<script src='/cdn-cgi/challenge-platform/h/b/orchestrate/chl_page/v1'></script></body></html>",
    headers={"cf-mitigated": "challenge"},
    content_type="text/html; charset=UTF-8",
)
HTML_200 = Reply(200, "<html><body>Welcome to the hotel Wi-Fi</body></html>", content_type="text/html")
OAUTH_RATE_LIMITED = Reply(
    429,
    {"error": {"message": "Rate limited. Please try again later.", "type": "rate_limit_error"}},
    headers={"retry-after": "0"},
)


# Any other 401/403 (contract §5 row 8): not a confirmed expiry, so the credential is kept and retried.
DENIED = Reply(403, _error("permission_error", "Access to this resource is denied"))
# A 404 from a proxy or an endpoint the org does not have: a body that is not the API's error shape.
NOT_FOUND_BARE = Reply(404, "", content_type="text/plain")


def rate_limited(retry_after: str) -> Reply:
    return Reply(429, _error("rate_limit_error", "Rate limited"), headers={"retry-after": retry_after})


def rate_limited_until(when: datetime) -> Reply:
    """429 whose Retry-After is an HTTP date (RFC 9110), as proxies and some upstreams send it."""
    return rate_limited(email.utils.format_datetime(when.astimezone(UTC), usegmt=True))


def hang(seconds: float = 5.0) -> Reply:
    """A reply that arrives after the client's timeout (tests set it to 1 s)."""
    return Reply(200, {}, delay=seconds)


def server_error(status: int = 500) -> Reply:
    return Reply(status, _error("api_error", "Internal server error"))


def iso(when: datetime | None, *, fraction: bool = True) -> str | None:
    if when is None:
        return None
    text = when.astimezone(UTC).isoformat(timespec="microseconds" if fraction else "seconds")
    return text if fraction else text.replace("+00:00", "Z")


def legacy_usage(five=48.0, week=64.0, *, five_resets=None, week_resets=None, now=None, **extra) -> dict:
    """The pre-2026 shape; resets default to 2 h and 3 days ahead, with fractional-second noise."""
    now = now or datetime.now(UTC)
    five_resets = five_resets if five_resets is not None else now + timedelta(hours=2)
    week_resets = week_resets if week_resets is not None else now + timedelta(days=3)
    body = {
        "five_hour": {"utilization": five, "resets_at": iso(five_resets) if five_resets else None},
        "seven_day": {"utilization": week, "resets_at": iso(week_resets) if week_resets else None},
        "seven_day_oauth_apps": None,
        "seven_day_opus": {"utilization": 0.0, "resets_at": None},
        "seven_day_sonnet": {"utilization": 2.0, "resets_at": iso(week_resets) if week_resets else None},
        "seven_day_cowork": None,
        "seven_day_omelette": None,
        "iguana_necktie": None,
        "extra_usage": {
            "is_enabled": True,
            "monthly_limit": 1000,
            "used_credits": 0.0,
            "utilization": None,
            "currency": "USD",
            "decimal_places": 2,
        },
    }
    body.update(extra)
    return body


def limits_usage(
    session=47,
    weekly=12,
    scoped=88,
    *,
    now=None,
    session_resets=None,
    week_resets=None,
    legacy: bool = True,
    extra_limits: tuple = (),
) -> dict:
    """The 2026 shape: `limits[]` plus `spend`, legacy per-model keys null.

    `legacy=False` drops the legacy window keys too (a limits-only body); `extra_limits` appends items
    (`severity: "warn"`, `kind: "spend"`)."""
    now = now or datetime.now(UTC)
    s_reset = iso(session_resets or now + timedelta(hours=3), fraction=False)
    w_reset = iso(week_resets or now + timedelta(days=4), fraction=False)
    body = {
        "five_hour": {"utilization": session, "resets_at": s_reset},
        "seven_day": {"utilization": weekly, "resets_at": w_reset},
        "seven_day_opus": None,
        "seven_day_sonnet": None,
        "limits": [
            {
                "kind": "session",
                "group": "session",
                "percent": session,
                "severity": "normal",
                "resets_at": s_reset,
                "scope": None,
                "is_active": False,
            },
            {
                "kind": "weekly_all",
                "group": "weekly",
                "percent": weekly,
                "severity": "normal",
                "resets_at": w_reset,
                "scope": None,
                "is_active": False,
            },
            {
                "kind": "weekly_scoped",
                "group": "weekly",
                "percent": scoped,
                "severity": "warning",
                "resets_at": w_reset,
                "scope": {"model": {"id": None, "display_name": "Fable"}, "surface": None},
                "is_active": True,
            },
        ],
        "spend": {
            "enabled": True,
            "used": {"amount_minor": 8321, "currency": "USD", "exponent": 2},
            "limit": None,
        },
        "extra_usage": {
            "is_enabled": True,
            "monthly_limit": 2000,
            "used_credits": 245,
            "utilization": 12.25,
            "currency": "USD",
            "decimal_places": 2,
        },
    }
    body["limits"].extend(extra_limits)
    if not legacy:
        for key in ("five_hour", "seven_day", "seven_day_opus", "seven_day_sonnet", "extra_usage"):
            del body[key]
    return body


def new_org_uuid() -> str:
    raw = secrets.token_hex(16)
    return f"{raw[:8]}-{raw[8:12]}-{raw[12:16]}-{raw[16:20]}-{raw[20:]}"


@dataclass
class Recorded:
    method: str
    path: str
    query: dict
    headers: dict
    body: bytes


class _Script:
    """Replies in order; the last one repeats."""

    def __init__(self, replies) -> None:
        self.replies = list(replies) or [legacy_usage()]
        self.calls = 0

    def next(self) -> Reply:
        item = self.replies[min(self.calls, len(self.replies) - 1)]
        self.calls += 1
        return item if isinstance(item, Reply) else Reply(200, item() if callable(item) else item)


@dataclass
class _AdminOrg:
    cost_days: dict  # date → list of cost results
    claude_code: dict  # date → list of report items


class FakeClaude:
    PAGE_SIZE = 2  # small pages so every client must follow next_page

    def __init__(self, latency: float = 0.0) -> None:
        self.latency = latency
        self.requests: list[Recorded] = []
        self.token_calls = 0
        self.rejected_refreshes = 0
        self.max_in_flight: dict[str, int] = {}
        self._in_flight: dict[str, int] = {}
        self._lock = threading.Lock()
        self._cookies: dict[str, dict] = {}  # session key → {"orgs", "script", "orgs_reply"}
        self._oauth: dict[str, dict] = {}  # name → {"script", "profile", "usage_replies"}
        self._access: dict[str, str] = {}  # live access token → oauth name
        self._refresh: dict[str, str] = {}  # unspent refresh token → oauth name
        self._admin: dict[str, _AdminOrg] = {}
        self._overrides: dict[str, _Script] = {}  # path part → scripted replies (see `fail`)
        self._counter = itertools.count(1)
        self._server: ThreadingHTTPServer | None = None

    # --- lifecycle ---

    def start(self) -> "FakeClaude":
        fake = self

        class Handler(_Handler):
            owner = fake

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._server.request_queue_size = 1024
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    # --- scripting ---

    def add_cookie(self, session_key: str, *replies, orgs: list | None = None) -> str:
        """Registers a valid cookie; returns the uuid of its chat org."""
        chat_uuid = new_org_uuid()
        if orgs is None:
            orgs = [
                {
                    "uuid": new_org_uuid(),
                    "name": "API org",
                    "capabilities": ["api"],
                    "rate_limit_tier": "auto_api",
                },
                {
                    "uuid": chat_uuid,
                    "name": "Max org",
                    "capabilities": ["chat", "claude_max"],
                    "rate_limit_tier": "default_claude_max_5x",
                    "raven_type": None,
                },
            ]
        with self._lock:
            self._cookies[session_key] = {"orgs": orgs, "script": _Script(replies)}
        return chat_uuid

    def script(self, credential: str, *replies) -> None:
        """Replaces the usage script of a cookie or an OAuth account (by name)."""
        with self._lock:
            target = self._cookies.get(credential) or self._oauth[credential]
            target["script"] = _Script(replies)

    def revoke_cookie(self, session_key: str) -> None:
        with self._lock:
            self._cookies.pop(session_key, None)

    def usage_calls(self, credential: str) -> int:
        target = self._cookies.get(credential) or self._oauth.get(credential)
        return target["script"].calls if target else 0

    def add_oauth(
        self,
        name: str,
        *replies,
        profile: dict | None = None,
        scopes: tuple = ("user:inference", "user:profile"),
    ) -> tuple[str, str]:
        """Returns (access token, refresh token) of a fresh login. Without `user:profile` in `scopes` (a
        `claude setup-token` login) usage and profile answer 403 scope, before and after a refresh."""
        access, refresh = self._new_tokens(name)
        with self._lock:
            self._oauth[name] = {
                "script": _Script(replies),
                "profile": profile or _profile(name),
                "scopes": tuple(scopes),
            }
        return access, refresh

    def fail(self, path_part: str, *replies) -> None:
        """Every request whose path contains `path_part` gets these replies in order (the last repeats),
        before any other handling: a 404 on one Admin API report, a hanging token endpoint, a 503 on
        /organizations."""
        with self._lock:
            self._overrides[path_part] = _Script(replies)

    def heal(self, path_part: str) -> None:
        with self._lock:
            self._overrides.pop(path_part, None)

    def _new_tokens(self, name: str) -> tuple[str, str]:
        n = next(self._counter)
        access = f"sk-ant-oat01-{name}-{n}-{secrets.token_urlsafe(8)}"
        refresh = f"sk-ant-ort01-{name}-{n}-{secrets.token_urlsafe(8)}"
        with self._lock:
            self._access[access] = name
            self._refresh[refresh] = name
        return access, refresh

    def expire_access_tokens(self, name: str) -> None:
        with self._lock:
            for token in [t for t, owner in self._access.items() if owner == name]:
                del self._access[token]

    def add_admin(self, api_key: str, *, cost_days: dict, claude_code: dict) -> None:
        self._admin[api_key] = _AdminOrg(cost_days, claude_code)

    def requests_to(self, path_part: str) -> list[Recorded]:
        with self._lock:
            return [r for r in self.requests if path_part in r.path]

    # --- serving ---

    def handle(self, method: str, path: str, query: dict, headers: dict, body: bytes) -> tuple[str, Reply]:
        """Returns (credential key for concurrency tracking, reply)."""
        with self._lock:
            override = next((script for part, script in self._overrides.items() if part in path), None)
            if override is not None:
                return path, override.next()
        if path == "/api/organizations":
            key = _session_key(headers)
            account = self._cookies.get(key)
            return key, Reply(200, account["orgs"]) if account else EXPIRED
        match = re.fullmatch(r"/api/organizations/([^/]+)/usage", path)
        if match:
            key = _session_key(headers)
            account = self._cookies.get(key)
            if not account:
                return key, EXPIRED
            org = match.group(1)
            if not UUID_RE.match(org):
                return key, Reply(400, _error("invalid_request_error", "Invalid organization uuid"))
            chat = [o["uuid"] for o in account["orgs"] if "chat" in o.get("capabilities", [])]
            if org not in chat:
                return key, WRONG_ORG
            with self._lock:
                return key, account["script"].next()
        if path in ("/api/oauth/usage", "/api/oauth/profile"):
            return self._oauth_get(path, headers)
        if path == "/v1/oauth/token" and method == "POST":
            return "token", self._token(headers, body)
        if path.startswith("/v1/organizations/"):
            return headers.get("x-api-key", ""), self._admin_get(path, query, headers)
        return "", Reply(404, _error("not_found_error", "Not found"))

    def _oauth_get(self, path: str, headers: dict) -> tuple[str, Reply]:
        if headers.get("anthropic-beta") != "oauth-2025-04-20":
            return "", Reply(400, _error("invalid_request_error", "anthropic-beta header required"))
        bearer = headers.get("authorization", "").removeprefix("Bearer").strip()
        if not bearer:
            return "", Reply(
                429,
                {"error": {"message": "Rate limited.", "type": "rate_limit_error"}},
                headers={"retry-after": "3242"},
            )
        with self._lock:
            name = self._access.get(bearer)
            if name is None:
                return bearer, Reply(401, _error("authentication_error", "OAuth access token is invalid."))
            account = self._oauth[name]
            if "user:profile" not in account["scopes"]:
                return name, OAUTH_SCOPE
            if path.endswith("/profile"):
                return name, Reply(200, account["profile"])
            return name, account["script"].next()

    def _token(self, headers: dict, body: bytes) -> Reply:
        try:
            data = json.loads(body or b"{}")
        except ValueError:
            data = {k: v[0] for k, v in parse_qs(body.decode()).items()}
        with self._lock:
            self.token_calls += 1
            name = self._refresh.pop(data.get("refresh_token", ""), None)  # single use
            if data.get("grant_type") != "refresh_token" or name is None:
                self.rejected_refreshes += 1
                return Reply(400, {"error": "invalid_grant", "error_description": "Invalid refresh token"})
        access, refresh = self._new_tokens(name)
        return Reply(
            200,
            {
                "access_token": access,
                "refresh_token": refresh,
                "expires_in": 28800,
                "token_type": "Bearer",
                "scope": " ".join(self._oauth[name]["scopes"]),
            },
        )

    def _admin_get(self, path: str, query: dict, headers: dict) -> Reply:
        org = self._admin.get(headers.get("x-api-key", ""))
        if org is None:
            return Reply(401, _error("authentication_error", "invalid x-api-key"))
        page = int(query.get("page", ["0"])[0] or 0)
        if path == "/v1/organizations/cost_report":
            start = datetime.fromisoformat(query["starting_at"][0].replace("Z", "+00:00")).date()
            end = datetime.fromisoformat(query["ending_at"][0].replace("Z", "+00:00"))
            days = sorted(d for d in org.cost_days if start <= d <= end.date())
            items = [
                {
                    "starting_at": f"{d}T00:00:00Z",
                    "ending_at": f"{d + timedelta(days=1)}T00:00:00Z",
                    "results": org.cost_days[d],
                }
                for d in days
            ]
        elif path == "/v1/organizations/usage_report/claude_code":
            items = org.claude_code.get(date.fromisoformat(query["starting_at"][0]), [])
        else:
            return Reply(404, _error("not_found_error", "Not found"))
        chunk = items[page * self.PAGE_SIZE : (page + 1) * self.PAGE_SIZE]
        more = (page + 1) * self.PAGE_SIZE < len(items)
        return Reply(200, {"data": chunk, "has_more": more, "next_page": str(page + 1) if more else None})

    def enter(self, key: str) -> None:
        with self._lock:
            self._in_flight[key] = self._in_flight.get(key, 0) + 1
            self.max_in_flight[key] = max(self.max_in_flight.get(key, 0), self._in_flight[key])

    def leave(self, key: str) -> None:
        with self._lock:
            self._in_flight[key] -= 1


def _session_key(headers: dict) -> str:
    for part in headers.get("cookie", "").split(";"):
        name, _, value = part.strip().partition("=")
        if name == "sessionKey" and value.startswith(("sk-ant-sid01-", "sk-ant-sid02-")):
            return value
    return ""


def _profile(name: str) -> dict:
    return {
        "account": {
            "uuid": new_org_uuid(),
            "full_name": f"{name} Example",
            "display_name": name,
            "email": f"{name}@example.com",
            "has_claude_max": True,
            "has_claude_pro": False,
        },
        "organization": {
            "uuid": new_org_uuid(),
            "name": f"{name}'s org",
            "organization_type": "claude_max",
            "billing_type": "stripe_subscription",
            "rate_limit_tier": "default_claude_max_20x",
            "has_extra_usage_enabled": True,
            "subscription_status": "active",
        },
        "application": {"uuid": new_org_uuid(), "name": "Claude Code", "slug": "claude-code"},
    }


class _Handler(BaseHTTPRequestHandler):
    owner: FakeClaude
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body are separate writes: Nagle would add ~40 ms per reply

    def log_message(self, format, *args):
        pass

    def _serve(self) -> None:
        split = urlsplit(self.path)
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        query = parse_qs(split.query)
        fake = self.owner
        with fake._lock:
            fake.requests.append(Recorded(self.command, split.path, query, headers, body))
        key, reply = fake.handle(self.command, split.path, query, headers, body)
        fake.enter(key)
        try:
            if fake.latency or reply.delay:
                time.sleep(fake.latency + reply.delay)
            payload = reply.body if isinstance(reply.body, str) else json.dumps(reply.body)
            data = payload.encode()
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(data)))
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client timed out and went away: that is the point of a slow reply
        finally:
            fake.leave(key)

    do_GET = _serve
    do_POST = _serve
