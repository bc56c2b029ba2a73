"""Install codes cannot be guessed: /register allows few attempts per client address (contract §3.1)."""

import pytest

from limiter import services
from tests.isolation import clear_own_cache

from .conftest import HookApi


@pytest.fixture
def attempts(settings):
    settings.REGISTER_RATE_LIMIT = 3
    settings.REGISTER_RATE_WINDOW_SECONDS = 60
    clear_own_cache()
    yield settings
    clear_own_cache()


def test_too_many_attempts_from_one_address_get_a_429_with_retry_after(live, alice, attempts):
    api = HookApi(live)
    for _ in range(3):
        assert api.post("register", {"code": "CLM-alice-guess"}).status == 404

    refused = api.post("register", {"code": services.install_code_issue(seat=alice)})

    assert refused.status == 429
    assert refused.json == {"error": "Too many attempts"}
    assert 0 < int(refused.headers["retry-after"]) <= 60
    assert not alice.tokens.exists()


def test_malformed_requests_do_not_use_up_attempts(live, alice, attempts):
    api = HookApi(live)
    for _ in range(5):
        assert api.post("register", {}).status == 400
        assert api.post("register", raw=b"{").status == 400
    assert api.post("register", {"code": services.install_code_issue(seat=alice)}).status == 200


def test_each_client_address_behind_a_trusted_proxy_has_its_own_budget(live, alice, attempts):
    attempts.TRUSTED_PROXIES = frozenset({"127.0.0.1"})
    api = HookApi(live)
    for _ in range(3):
        reply = api.post("register", {"code": "CLM-x"}, headers={"X-Forwarded-For": "203.0.113.7"})
        assert reply.status == 404
    assert api.post("register", {"code": "CLM-x"}, headers={"X-Forwarded-For": "203.0.113.7"}).status == 429

    code = services.install_code_issue(seat=alice)
    assert api.post("register", {"code": code}, headers={"X-Forwarded-For": "198.51.100.2"}).status == 200


def test_a_forged_forwarded_for_from_an_untrusted_peer_does_not_reset_the_budget(live, attempts):
    api = HookApi(live)
    for hop in range(3):
        reply = api.post("register", {"code": "CLM-x"}, headers={"X-Forwarded-For": f"198.51.100.{hop}"})
        assert reply.status == 404
    assert api.post("register", {"code": "CLM-x"}, headers={"X-Forwarded-For": "198.51.100.99"}).status == 429
