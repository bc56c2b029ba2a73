"""The one outbound HTTP seam for every transport (contract §7).

Timeouts (connect 5 s, 15 s in all), our User-Agent, a bounded response read (64 KiB), at most three
redirects, and the SSRF guard: the host is resolved here and the connection goes to the very address that was
checked, so a DNS answer that changes between the check and the connect (rebinding) cannot reach an internal
service. Private networks are reachable only when listed in `ALERTS_ALLOWED_PRIVATE_NETWORKS` (tests list
loopback; a deployment may list the LAN of its homeserver).
"""

import ipaddress
import socket
import threading
import time
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit, urlunsplit

import httpx
from django.conf import settings

from config.retry_after import seconds_until_retry

from .base import ConfigError, Outcome, TransportError, json_body

CONNECT_TIMEOUT = 5.0
TOTAL_TIMEOUT = 15.0
MAX_RESPONSE_BYTES = 64 * 1024
MAX_REDIRECTS = 3
USER_AGENT = "ClaudeGovernor/0.1.0"
_REDIRECTS = {301, 302, 303, 307, 308}

_client: httpx.Client | None = None
_client_lock = threading.Lock()


class TargetRefused(ConfigError):
    """The URL points somewhere Governor must not send to."""


@dataclass(frozen=True)
class Response:
    status: int
    headers: httpx.Headers
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def json(self) -> dict:
        return json_body(self.body)


def _client_instance() -> httpx.Client:
    global _client
    with _client_lock:
        if _client is None:
            # trust_env=False: a proxy from the environment would connect by name and bypass the guard.
            _client = httpx.Client(
                timeout=httpx.Timeout(TOTAL_TIMEOUT, connect=CONNECT_TIMEOUT),
                trust_env=False,
                follow_redirects=False,
            )
        return _client


def _forbidden(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return (
        address.is_loopback
        or address.is_private
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
    )


def _allowed_networks() -> list:
    return [
        ipaddress.ip_network(n, strict=False)
        for n in getattr(settings, "ALERTS_ALLOWED_PRIVATE_NETWORKS", [])
    ]


def _refused(address, allowed: list) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return _forbidden(address) and not any(address.version == n.version and address in n for n in allowed)


def resolve(url: str) -> tuple[str, int]:
    """The checked address and port to connect to; TargetRefused for a bad scheme or a forbidden address."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise TargetRefused("Only http:// and https:// URLs are allowed.")
    if not parts.hostname:
        raise TargetRefused("The URL has no host name.")
    if parts.username or parts.password:
        raise TargetRefused("Credentials in the URL's host part are not allowed.")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise TargetRefused("The URL's port is not a number between 0 and 65535.") from None
    try:
        infos = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise TargetRefused(f"Cannot resolve {parts.hostname}: {exc}") from None
    addresses = [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]
    allowed = _allowed_networks()
    bad = [a for a in addresses if _refused(a, allowed)]
    if bad:
        # Every answer must pass: connecting to "the first good one" would let a rebinding name pick.
        raise TargetRefused(
            f"{parts.hostname} resolves to {bad[0]}, a loopback, private, link-local or reserved address; "
            "Governor sends there only if ALERTS_ALLOWED_PRIVATE_NETWORKS lists it."
        )
    return str(addresses[0]), port


def check_url(url: str) -> None:
    """On save: the same guard the send applies."""
    resolve(url)


def _pinned(url: str, address: str, port: int) -> tuple[str, dict[str, str], dict]:
    parts = urlsplit(url)
    host = f"[{address}]" if ":" in address else address
    target = urlunsplit((parts.scheme, f"{host}:{port}", parts.path or "/", parts.query, ""))
    default_port = 443 if parts.scheme == "https" else 80
    host_header = parts.hostname if port == default_port else f"{parts.hostname}:{port}"
    # SNI and certificate checks use the name, the TCP connection uses the checked address.
    extensions = {"sni_hostname": parts.hostname} if parts.scheme == "https" else {}
    return target, {"Host": host_header or ""}, extensions


def request(
    method: str,
    url: str,
    *,
    headers: dict[str, str] | None = None,
    content: bytes | None = None,
    follow_redirects: bool = False,
) -> Response:
    """One HTTP exchange; network failures are transient, a refused target a permanent one."""
    deadline = time.monotonic() + TOTAL_TIMEOUT
    for _ in range(MAX_REDIRECTS + 1):
        response = _exchange(method, url, headers or {}, content, deadline)
        location = response.headers.get("location")
        if not (follow_redirects and response.status in _REDIRECTS and location):
            return response
        url = urljoin(url, location)
        if response.status == 303:
            method, content = "GET", None
    raise TransportError(Outcome.TRANSIENT, f"more than {MAX_REDIRECTS} redirects")


def _exchange(method: str, url: str, headers: dict[str, str], content: bytes | None, deadline: float):
    host = urlsplit(url).hostname or url
    try:
        address, port = resolve(url)
    except TargetRefused as exc:
        if str(exc).startswith("Cannot resolve"):
            raise TransportError(Outcome.TRANSIENT, str(exc)) from None
        raise TransportError(Outcome.PERMANENT, str(exc)) from None
    target, host_header, extensions = _pinned(url, address, port)
    all_headers = {"User-Agent": USER_AGENT, **headers, **host_header}
    try:
        with _client_instance().stream(
            method, target, headers=all_headers, content=content, extensions=extensions
        ) as response:
            body = bytearray()
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) >= MAX_RESPONSE_BYTES:
                    break  # enough to classify; the rest is not ours to store
                if time.monotonic() > deadline:
                    raise TransportError(Outcome.TRANSIENT, f"{host} took longer than {TOTAL_TIMEOUT:.0f} s")
            return Response(response.status_code, response.headers, bytes(body[:MAX_RESPONSE_BYTES]))
    except httpx.TimeoutException:
        raise TransportError(Outcome.TRANSIENT, f"{host} did not answer in time") from None
    except httpx.TransportError as exc:
        raise TransportError(Outcome.TRANSIENT, f"cannot reach {host}: {type(exc).__name__}") from None


def generic_outcome(response: Response) -> TransportError | None:
    """Contract §1 for providers without codes: 429 rate limited, 5xx/408 transient, other 4xx rejected."""
    status = response.status
    if 200 <= status < 300:
        return None
    detail = response.text.strip()[:300]
    if status == 429:
        return TransportError(
            Outcome.RATE_LIMITED,
            f"rate limited (HTTP 429) {detail}".strip(),
            status=status,
            retry_after=seconds_until_retry(response.headers.get("retry-after")),
        )
    if status >= 500 or status == 408:
        return TransportError(Outcome.TRANSIENT, f"HTTP {status} {detail}".strip(), status=status)
    return TransportError(Outcome.REJECTED, f"HTTP {status} {detail}".strip(), status=status)
