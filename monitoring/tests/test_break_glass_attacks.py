"""The break-glass password form under attack and outage, over real HTTP: an attacker locks out only their
own address, and with Redis down or hung the form is a clear refusal page, never a 500 or a hang.

Every request reaches the loopback server from 127.0.0.1, so the attacker and the admin are told apart as
in production: by the X-Forwarded-For hop that the trusted proxy (Caddy) appends.
"""

import pytest
import requests

from tests.dead_peers import redis_cache_at, refused_port, silent_port
from tests.http_session import browser_session
from tests.isolation import clear_own_cache

PASSWORD = "break-glass-Passw0rd"
ATTACKER, ADMIN_DESK = "203.0.113.9", "198.51.100.7"


@pytest.fixture(autouse=True)
def _no_earlier_attempts():
    clear_own_cache()


@pytest.fixture
def root(django_user_model):
    return django_user_model.objects.create_superuser("root", password=PASSWORD)


@pytest.fixture
def behind_caddy(settings):
    settings.TRUSTED_PROXIES = frozenset({"127.0.0.1"})


def attempt(live, password: str, forwarded_for: str | None, username: str = "root") -> requests.Response:
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    data = {"username": username, "password": password, "next": "/admin/"}
    with browser_session() as session:
        return session.post(
            f"{live.url}/admin/login/local/", data=data, headers=headers, allow_redirects=False, timeout=10
        )


def test_an_attacker_failing_as_the_admin_cannot_lock_out_the_admin_at_another_address(
    live, root, behind_caddy
):
    for _ in range(10):
        assert attempt(live, "guess", ATTACKER).status_code in (200, 429)
    assert attempt(live, PASSWORD, ATTACKER).status_code == 429  # the attacker's own address is locked
    admin = attempt(live, PASSWORD, ADMIN_DESK)
    assert admin.status_code == 302 and admin.headers["Location"] == "/admin/"


def test_one_address_spraying_many_names_is_locked_out(live, root, behind_caddy, settings):
    for n in range(settings.BREAK_GLASS_ATTEMPTS_PER_ADDRESS):
        assert attempt(live, "guess", ATTACKER, username=f"user{n}").status_code == 200
    assert attempt(live, PASSWORD, ATTACKER).status_code == 429


def test_a_forged_forwarded_address_from_an_untrusted_peer_does_not_escape_the_lock(live, root, settings):
    """Without a trusted proxy in front, X-Forwarded-For is the attacker's own text and is ignored."""
    for n in range(settings.BREAK_GLASS_ATTEMPTS_PER_NAME):
        attempt(live, "guess", f"192.0.2.{n + 1}")
    assert attempt(live, PASSWORD, "192.0.2.200").status_code == 429


def test_a_prepended_forwarded_hop_behind_the_proxy_does_not_escape_the_lock(
    live, root, behind_caddy, settings
):
    """Caddy appends the real peer; whatever the client wrote before it is not an address we trust."""
    for n in range(settings.BREAK_GLASS_ATTEMPTS_PER_NAME):
        attempt(live, "guess", f"192.0.2.{n + 1}, {ATTACKER}")
    assert attempt(live, PASSWORD, f"192.0.2.200, {ATTACKER}").status_code == 429


def test_break_glass_login_with_redis_down_is_a_clear_page_not_a_500(live, root, settings):
    settings.CACHES = redis_cache_at(refused_port())
    page = attempt(live, PASSWORD, None)
    assert page.status_code == 503
    assert "Password sign-in is unavailable" in page.text
    assert "cannot reach its cache (Redis)" in page.text


def test_break_glass_login_with_redis_hung_is_a_clear_page_not_a_hang(live, root, settings):
    with silent_port() as port:
        settings.CACHES = redis_cache_at(port)
        page = attempt(live, PASSWORD, None)
    assert page.status_code == 503
    assert "Password sign-in is unavailable" in page.text
