import pytest

from accounts import client as client_module
from accounts import events
from tests.fakes.claude_api import FakeClaude


@pytest.fixture
def fake(settings):
    """The Claude APIs on loopback; the app's base URLs point at it and timeouts are short."""
    server = FakeClaude().start()
    settings.CLAUDE_AI_BASE_URL = server.url
    settings.ANTHROPIC_API_BASE_URL = server.url
    settings.CLAUDE_OAUTH_TOKEN_URLS = [f"{server.url}/gone/v1/oauth/token", f"{server.url}/v1/oauth/token"]
    settings.ACCOUNTS_HTTP_TIMEOUT_SECONDS = 1.0
    settings.ACCOUNTS_FRESH_401_RETRY_DELAYS = [0.05, 0.05, 0.05]
    client_module.reset_client()
    yield server
    client_module.reset_client()
    server.stop()


@pytest.fixture
def received():
    """Every accounts domain event delivered to a subscriber, in order."""
    seen: list = []
    events.subscribe(seen.append)
    yield seen
    events.unsubscribe(seen.append)
