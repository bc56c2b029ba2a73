"""The hook API keeps working with Redis down or hung: every endpoint, /register included (its attempt
limit falls back to a counter in the server process). Over real HTTP."""

import pytest

from config import attempts
from limiter import services
from tests.dead_peers import redis_cache_at, refused_port, silent_port

from .conftest import HookApi, per_model
from .test_hook_api_flow import check, count


@pytest.fixture(autouse=True)
def _fresh_fallback_counters():
    attempts.local_fallback.clear()


def full_conversation(live, seat) -> None:
    code = services.install_code_issue(seat=seat, by="test")
    api = HookApi(live)
    registered = api.post("register", {"code": code})
    assert registered.status == 200, registered.text
    api.token = registered.json["auth_token"]
    assert api.post("sync", {}).status == 200
    assert check(api).json["allowed"] is True
    assert count(api).status == 200
    assert check(api, session="s2").json["allowed"] is False  # opus 1/day: the cap still holds
    assert api.get("status").status == 200
    assert api.request("GET", "/health").status == 200


@pytest.mark.parametrize("outage", ["down", "hung"])
def test_hook_api_keeps_working_without_redis(live, alice, settings, outage):
    per_model(alice, "opus", "daily", 1)
    if outage == "down":
        settings.CACHES = redis_cache_at(refused_port())
        full_conversation(live, alice)
        return
    with silent_port() as port:
        settings.CACHES = redis_cache_at(port)
        full_conversation(live, alice)


def test_register_still_limits_guessing_while_redis_is_down(live, alice, settings):
    settings.CACHES = redis_cache_at(refused_port())
    settings.REGISTER_RATE_LIMIT = 3
    api = HookApi(live)
    statuses = [api.post("register", {"code": f"CLM-alice-wrong{n}"}).status for n in range(5)]
    assert statuses[:3] == [404, 404, 404]  # unknown codes, counted in this process while Redis is away
    assert statuses[3:] == [429, 429]
