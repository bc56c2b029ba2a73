"""The only code that talks to claude.ai and Anthropic: typed results, failures classified (contract §5)."""

import json
import re
import threading
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import httpx
from django.conf import settings

from config.retry_after import seconds_until_retry

from .parsing import member

OAUTH_BETA = "oauth-2025-04-20"
ANTHROPIC_VERSION = "2023-06-01"
_BROWSER_UA = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"
)


class UpstreamError(Exception):
    """A classified failure. `kind` is one of the account states; messages never contain credentials."""

    def __init__(
        self, kind: str, message: str, *, status: int | None = None, retry_after: float | None = None
    ):
        super().__init__(message)
        self.kind = kind
        self.status = status
        self.retry_after = retry_after


@dataclass(frozen=True)
class TokenGrant:
    access_token: str
    refresh_token: str
    expires_at: datetime


def _error_body(response: httpx.Response) -> dict:
    try:
        body = response.json()
    except ValueError:
        return {}
    error = body.get("error") if isinstance(body, dict) else None
    return error if isinstance(error, dict) else {"type": error} if isinstance(error, str) else {}


_SECRET = re.compile(r"sk-ant-[A-Za-z0-9_\-]+")


def _detail(response: httpx.Response, error: dict) -> str:
    """A short, secret-free reason for an error: upstream's message, else its error type, else the start of
    the body, else the HTTP reason phrase. Never empty, so no error reads "HTTP 404: "."""
    text = str(error.get("message") or error.get("type") or "")
    if not text:
        try:
            body = response.json()
        except ValueError:
            body = None
        if isinstance(body, dict):
            text = str(body.get("message") or body.get("detail") or "")
        if not text and not isinstance(body, dict | list):
            text = " ".join(response.text.split())
    text = _SECRET.sub("sk-ant-…", text)[:200]
    return text or response.reason_phrase or "no reason given"


def _looks_like_html(response: httpx.Response) -> bool:
    if "text/html" in response.headers.get("content-type", ""):
        return True
    head = response.text[:512].lstrip().lower()
    return (
        head.startswith("<!doctype html")
        or head.startswith("<html")
        or "/cdn-cgi/challenge-platform/" in head
    )


def classify(response: httpx.Response) -> UpstreamError | None:
    """None for a usable 2xx JSON response; otherwise the first matching class of contract §5."""
    status = response.status_code
    if response.headers.get("cf-mitigated", "").lower() == "challenge" or _looks_like_html(response):
        return UpstreamError("blocked", f"Cloudflare challenge or HTML page (HTTP {status})", status=status)
    if status == 429:
        after = seconds_until_retry(response.headers.get("retry-after"))
        wait = f"retry after {after:.0f} s" if after else "no usable Retry-After"
        message = f"rate limited (HTTP 429: {_detail(response, _error_body(response))}; {wait})"
        return UpstreamError("rate_limited", message, status=status, retry_after=after)
    if status < 400:
        return None
    error = _error_body(response)
    if status >= 500:
        return UpstreamError(
            "upstream_error", f"upstream error (HTTP {status}: {_detail(response, error)})", status=status
        )
    message = str(error.get("message") or "")[:200]
    shown = _detail(response, error)
    details = member(error, "details", dict, {})
    if status in (401, 403) and (
        details.get("error_code") == "account_session_invalid" or error.get("type") == "authentication_error"
    ):
        return UpstreamError(
            "expired", f"credential expired or revoked (HTTP {status}: {shown})", status=status
        )
    if (status == 403 and "organization" in message.lower()) or (
        status == 400 and error.get("type") == "invalid_request_error"
    ):
        return UpstreamError("wrong_org", f"wrong organisation (HTTP {status}: {shown})", status=status)
    if status == 403 and "scope requirement" in message:
        return UpstreamError("invalid", f"token lacks a scope (HTTP 403: {shown})", status=status)
    if status in (401, 403):
        return UpstreamError("denied", f"access denied (HTTP {status}: {shown})", status=status)
    if status == 400 and error.get("type") == "invalid_grant":
        return UpstreamError("expired", "refresh token rejected (invalid_grant)", status=status)
    return UpstreamError(
        "upstream_error", f"unexpected HTTP {status}: {_detail(response, error)}", status=status
    )


class ClaudeClient:
    """One pooled, thread-safe httpx client; base URLs and timeouts come from settings."""

    def __init__(self) -> None:
        self._http = httpx.Client(
            timeout=settings.ACCOUNTS_HTTP_TIMEOUT_SECONDS,
            limits=httpx.Limits(max_connections=200, max_keepalive_connections=50),
            follow_redirects=False,
        )

    def close(self) -> None:
        self._http.close()

    def _get_json(self, url: str, *, headers: dict, params: dict | None = None):
        response = self._send("GET", url, headers=headers, params=params)
        return _json(response)

    def _send(self, method: str, url: str, **kwargs) -> httpx.Response:
        try:
            response = self._http.request(method, url, **kwargs)
        except httpx.TimeoutException as exc:
            raise UpstreamError("unreachable", f"timed out: {type(exc).__name__}") from None
        except httpx.HTTPError as exc:
            raise UpstreamError("unreachable", f"network error: {type(exc).__name__}") from None
        error = classify(response)
        if error is not None:
            raise error
        return response

    # --- claude.ai, session cookie (contract §2) ---

    def _cookie_headers(self, session_key: str) -> dict:
        if not session_key:
            raise UpstreamError("expired", "empty session cookie")
        return {
            "Cookie": f"sessionKey={session_key}",
            "Accept": "application/json",
            "User-Agent": _BROWSER_UA,
            "Referer": "https://claude.ai/",
            "Origin": "https://claude.ai",
        }

    def organizations(self, session_key: str) -> list[dict]:
        body = self._get_json(
            f"{settings.CLAUDE_AI_BASE_URL}/api/organizations", headers=self._cookie_headers(session_key)
        )
        if not isinstance(body, list):
            raise UpstreamError("parse_error", "organizations response is not a list")
        return [org for org in body if isinstance(org, dict) and isinstance(org.get("uuid"), str)]

    def cookie_usage(self, session_key: str, org_uuid: str):
        return self._get_json(
            f"{settings.CLAUDE_AI_BASE_URL}/api/organizations/{org_uuid}/usage",
            headers=self._cookie_headers(session_key),
        )

    # --- Claude Code OAuth (contract §3) ---

    def _oauth_headers(self, access_token: str) -> dict:
        if not access_token:
            # An empty bearer earns a long 429 upstream; never send one.
            raise UpstreamError("expired", "no OAuth access token")
        return {
            "Authorization": f"Bearer {access_token}",
            "anthropic-beta": OAUTH_BETA,
            "Accept": "application/json",
            "User-Agent": "claude-governor",
        }

    def oauth_usage(self, access_token: str):
        return self._get_json(
            f"{settings.ANTHROPIC_API_BASE_URL}/api/oauth/usage", headers=self._oauth_headers(access_token)
        )

    def oauth_profile(self, access_token: str) -> dict:
        body = self._get_json(
            f"{settings.ANTHROPIC_API_BASE_URL}/api/oauth/profile", headers=self._oauth_headers(access_token)
        )
        return body if isinstance(body, dict) else {}

    def refresh_token(self, refresh_token: str) -> TokenGrant:
        """Tries each configured token URL; a 404 or network failure moves on, anything else is final."""
        body = {
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
            "client_id": settings.CLAUDE_OAUTH_CLIENT_ID,
        }
        last: UpstreamError | None = None
        for url in settings.CLAUDE_OAUTH_TOKEN_URLS:
            try:
                response = self._send("POST", url, json=body, headers={"Accept": "application/json"})
            except UpstreamError as exc:
                if exc.kind == "unreachable" or exc.status == 404:
                    last = exc
                    continue
                raise
            data = _json(response)
            try:
                return TokenGrant(
                    access_token=str(data["access_token"]),
                    refresh_token=str(data["refresh_token"]),
                    expires_at=datetime.now(UTC) + timedelta(seconds=float(data["expires_in"])),
                )
            except (KeyError, TypeError, ValueError):
                raise UpstreamError(
                    "parse_error", "token response lacks access_token/refresh_token"
                ) from None
        raise last or UpstreamError("unreachable", "no OAuth token URL configured")

    # --- Anthropic Admin API (contract §4) ---

    def _admin_headers(self, api_key: str) -> dict:
        return {"x-api-key": api_key, "anthropic-version": ANTHROPIC_VERSION, "Accept": "application/json"}

    def _admin_pages(self, path: str, api_key: str, params: dict) -> list:
        items: list = []
        page = None
        for _ in range(1000):  # a hard stop in case upstream loops its cursor
            query = dict(params, **({"page": page} if page else {}))
            body = self._get_json(
                f"{settings.ANTHROPIC_API_BASE_URL}{path}", headers=self._admin_headers(api_key), params=query
            )
            if not isinstance(body, dict) or not isinstance(body.get("data"), list):
                raise UpstreamError("parse_error", f"{path} response has no data list")
            items.extend(body["data"])
            page = body.get("next_page")
            if not body.get("has_more") or not page:
                return items
        raise UpstreamError("parse_error", f"{path} paging did not end")

    def claude_code_usage(self, api_key: str, day: date) -> list[dict]:
        return self._admin_pages(
            "/v1/organizations/usage_report/claude_code",
            api_key,
            {"starting_at": day.isoformat(), "limit": 1000},
        )

    def cost_report(self, api_key: str, start: datetime, end: datetime) -> list[dict]:
        return self._admin_pages(
            "/v1/organizations/cost_report",
            api_key,
            {
                "starting_at": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "ending_at": end.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "bucket_width": "1d",
                "limit": 31,
            },
        )


def _json(response: httpx.Response):
    try:
        return response.json()
    except (ValueError, json.JSONDecodeError):
        raise UpstreamError("parse_error", f"response is not JSON (HTTP {response.status_code})") from None


_client: ClaudeClient | None = None
_client_lock = threading.Lock()


def get_client() -> ClaudeClient:
    global _client
    with _client_lock:
        if _client is None:
            _client = ClaudeClient()
        return _client


def reset_client() -> None:
    """Drop the pooled client (after settings such as timeouts change, e.g. in tests)."""
    global _client
    with _client_lock:
        if _client is not None:
            _client.close()
        _client = None
