"""The Caddyfile compose mounts, run for real on loopback (`tls internal`) in front of gunicorn and daphne:
TLS and HTTP/2, security headers, the body limit, and client addresses believed only from the proxy."""

import http.client
import json
import socket
import subprocess

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client

from limiter import services
from monitoring import roles

from . import websocket

pytestmark = [pytest.mark.xdist_group("topology"), pytest.mark.django_db(transaction=True)]


def test_the_hook_api_registers_and_checks_through_the_front_door(topology):
    bearer = topology.register(services.seat_create(slug="alice", name="Alice", team=services.team_current()))

    check = {"model": "opus", "local_usage": {}}
    status, _, body = topology.request("POST", "/api/v1/check", check, headers=bearer)
    assert status == 200, body
    assert json.loads(body)["allowed"] is True


def test_the_admin_answers_over_https_with_security_headers_and_no_server_banner(topology):
    status, headers, body = topology.request("GET", "/admin/login/")

    assert status == 200
    assert b"Claude Governor" in body
    assert headers["strict-transport-security"].startswith("max-age=31536000")
    assert headers["x-content-type-options"] == "nosniff"
    assert "server" not in headers
    assert "secure" in headers["set-cookie"].lower()  # Django saw https via X-Forwarded-Proto from Caddy


def test_plain_http_is_redirected_to_https(topology):
    connection = http.client.HTTPConnection("127.0.0.1", topology.http_port, timeout=30)
    connection.request("GET", "/admin/", headers={"Host": "127.0.0.1"})
    response = connection.getresponse()
    assert response.status in (301, 308)
    assert response.getheader("Location").startswith("https://127.0.0.1")


def test_clients_negotiate_http2(topology):
    version = subprocess.run(
        ["curl", "--silent", "--http2", "--cacert", str(topology.ca_file), "--output", "/dev/null",
         "--write-out", "%{http_version}", f"{topology.url}/health"],
        capture_output=True, text=True, check=True, timeout=60,
    ).stdout  # fmt: skip
    assert version == "2"


def test_a_body_over_the_edge_limit_is_refused_by_the_proxy_before_it_is_sent(topology):
    head = (
        "POST /api/v1/register HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        "Content-Length: 2000000\r\n\r\n"
    )
    raw = socket.create_connection(("127.0.0.1", topology.https_port), timeout=30)
    with topology.ssl_context().wrap_socket(raw, server_hostname="127.0.0.1") as tls:
        tls.sendall(head.encode())  # and not one byte of the body
        reply = b""
        while chunk := tls.recv(4096):  # Caddy closes the connection after its answer
            reply += chunk

    assert reply.decode().startswith("HTTP/1.1 413")
    assert reply.decode().endswith("Request body too large")  # Caddy's answer, not the app's JSON error


def _register_attempts(topology, source: str, forged: list[str]) -> list[int]:
    return [
        topology.request("POST", "/api/v1/register", {"code": "CLM-nobody-guess"}, source=source,
                         headers={"X-Forwarded-For": address})[0]
        for address in forged
    ]  # fmt: skip


def test_governor_sees_the_real_client_address_and_never_a_forged_one(topology):
    """/register allows 10 attempts per client address a minute: the counter shows whose address it used."""
    forged = [f"198.51.100.{n}" for n in range(11)]

    # A forged X-Forwarded-For per attempt does not buy a fresh allowance: the address is the real client's.
    assert _register_attempts(topology, "127.0.0.2", forged) == [404] * 10 + [429]
    # Another client behind the same proxy has its own allowance: the address is not the proxy's.
    assert _register_attempts(topology, "127.0.0.3", forged[:1]) == [404]


def test_a_client_bypassing_the_proxy_cannot_claim_an_address(topology):
    port = topology.web_ports[0]
    statuses = []
    for n in range(11):
        connection = http.client.HTTPConnection("127.0.0.1", port, source_address=("127.0.0.4", 0))
        connection.request(
            "POST", "/api/v1/register", body=b'{"code": "CLM-nobody-guess"}',
            headers={"Content-Type": "application/json", "X-Forwarded-For": f"198.51.100.{n}",
                     "X-Forwarded-Proto": "https"},
        )  # fmt: skip
        statuses.append(connection.getresponse().status)
        connection.close()
    assert statuses == [404] * 10 + [429]


def _feed(topology, session: str | None):
    cookie = {"Cookie": f"{settings.SESSION_COOKIE_NAME}={session}"} if session else {}
    origin = {"Origin": f"https://127.0.0.1:{topology.https_port}"}
    return websocket.connect(
        "127.0.0.1", topology.https_port, "/ws/admin/feed/", topology.ssl_context(), origin | cookie
    )


def test_the_live_feed_upgrades_through_the_front_door_and_carries_a_count_from_the_web_servers(topology):
    admin = get_user_model().objects.create_user("root", email="root@example.test")
    roles.role_apply(user=admin, role=roles.ADMIN)
    browser = Client()
    browser.force_login(admin)
    bearer = topology.register(services.seat_create(slug="carol", name="Carol", team=services.team_current()))

    feed = _feed(topology, browser.cookies[settings.SESSION_COOKIE_NAME].value)
    try:
        assert feed.accepted, (feed.status, feed.headers)
        # Caddy skips its `-Server` on a 101 and names itself; the app server behind it stays unnamed.
        assert feed.headers.get("server", "Caddy") == "Caddy"
        assert feed.receive_json()["type"] == "connected"
        # A count through Caddy to gunicorn reaches the browser's socket on daphne via the channel layer.
        status, _, body = topology.request("POST", "/api/v1/count", {"model": "opus"}, headers=bearer)
        assert status == 200, body
        message = feed.receive_json()
        assert (message["kind"], message["userName"], message["model"]) == ("hook.counted", "Carol", "opus")
    finally:
        feed.close()


def test_the_live_feed_through_the_front_door_refuses_a_visitor_without_a_session(topology):
    feed = _feed(topology, None)
    try:
        assert feed.status == 101  # accepted, then closed with a code the page can tell from network trouble
        with pytest.raises(ConnectionError, match="4403"):
            feed.receive_json()
    finally:
        feed.close()
