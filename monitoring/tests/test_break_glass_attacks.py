"""The break-glass password form under attack and outage: an attacker locks out only their own address,
and with Redis down or hung the form is a clear refusal page, never a 500 or a hang."""

import pytest
from django.test import Client

from tests.dead_peers import redis_cache_at, refused_port, silent_port
from tests.isolation import clear_own_cache

PASSWORD = "break-glass-Passw0rd"
ATTACKER, ADMIN_DESK = "203.0.113.9", "198.51.100.7"


@pytest.fixture(autouse=True)
def _no_earlier_attempts():
    clear_own_cache()


@pytest.fixture
def root(django_user_model):
    return django_user_model.objects.create_superuser("root", password=PASSWORD)


def attempt(client: Client, password: str, address: str, username: str = "root", **meta):
    data = {"username": username, "password": password, "next": "/admin/"}
    return client.post("/admin/login/local/", data, REMOTE_ADDR=address, **meta)


def test_an_attacker_failing_as_the_admin_cannot_lock_out_the_admin_at_another_address(root):
    attacker = Client()
    for _ in range(10):
        attempt(attacker, "guess", ATTACKER)
    assert attempt(attacker, PASSWORD, ATTACKER).status_code == 429  # the attacker's own address is locked
    admin = attempt(Client(), PASSWORD, ADMIN_DESK)
    assert admin.status_code == 302 and admin["Location"] == "/admin/"


def test_one_address_spraying_many_names_is_locked_out(root, settings):
    attacker = Client()
    for n in range(settings.BREAK_GLASS_ATTEMPTS_PER_ADDRESS):
        assert attempt(attacker, "guess", ATTACKER, username=f"user{n}").status_code == 200
    assert attempt(attacker, PASSWORD, ATTACKER).status_code == 429


def test_behind_a_trusted_proxy_each_forwarded_client_is_counted_apart(root, settings):
    settings.TRUSTED_PROXIES = frozenset({"127.0.0.1"})
    attacker = Client()
    for _ in range(10):
        attempt(attacker, "guess", "127.0.0.1", HTTP_X_FORWARDED_FOR=ATTACKER)
    assert attempt(attacker, PASSWORD, "127.0.0.1", HTTP_X_FORWARDED_FOR=ATTACKER).status_code == 429
    admin = attempt(Client(), PASSWORD, "127.0.0.1", HTTP_X_FORWARDED_FOR=ADMIN_DESK)
    assert admin.status_code == 302


def test_break_glass_login_with_redis_down_is_a_clear_page_not_a_500(root, settings):
    settings.CACHES = redis_cache_at(refused_port())
    page = attempt(Client(raise_request_exception=False), PASSWORD, ADMIN_DESK)
    assert page.status_code == 503
    assert b"Password sign-in is unavailable" in page.content
    assert b"cannot reach its cache (Redis)" in page.content


def test_break_glass_login_with_redis_hung_is_a_clear_page_not_a_hang(root, settings):
    with silent_port() as port:
        settings.CACHES = redis_cache_at(port)
        page = attempt(Client(raise_request_exception=False), PASSWORD, ADMIN_DESK)
    assert page.status_code == 503
    assert b"Password sign-in is unavailable" in page.content
