import socket

import pytest

from alerts.transports.base import Alert, Message
from tests.fakes.alert_receivers import FakeReceivers


@pytest.fixture
def receivers(settings):
    """The loopback fakes of Discord, Slack, Pushover, ntfy and a webhook receiver; base URLs point at it."""
    server = FakeReceivers().start()
    settings.ALERTS_PUSHOVER_URL = server.url
    settings.ALERTS_NTFY_URL = server.url + "/ntfy"
    yield server
    server.stop()


def firing(account: str = "acct-42", pct: int = 90, threshold: int = 90, **kwargs) -> Alert:
    return Alert(
        title=f"{account}: {pct}% of 5-hour limit",
        message=f"{account} reached {pct}% of its 5-hour limit (threshold {threshold}%).",
        account=account,
        pct=pct,
        limit_type="5-hour",
        threshold=threshold,
        **kwargs,
    )


def message(*alerts: Alert, key: str = "d-7f3a") -> Message:
    return Message(alerts or (firing(),), key=key)


@pytest.fixture
def dns(monkeypatch):
    """Name → address answers for the guard, so tests never depend on the machine's resolver."""
    answers: dict[str, str] = {}
    real = socket.getaddrinfo

    def fake(host, port, *args, **kwargs):
        if host in answers:
            family = socket.AF_INET6 if ":" in answers[host] else socket.AF_INET
            return [(family, socket.SOCK_STREAM, 6, "", (answers[host], port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", fake)
    return answers


@pytest.fixture
def claude(settings):
    """The Claude APIs on loopback (tests/fakes/claude_api.py); polls hit it, never the internet."""
    from accounts import client as client_module
    from tests.fakes.claude_api import FakeClaude

    server = FakeClaude().start()
    settings.CLAUDE_AI_BASE_URL = server.url
    settings.ANTHROPIC_API_BASE_URL = server.url
    settings.ACCOUNTS_HTTP_TIMEOUT_SECONDS = 2.0
    settings.ACCOUNTS_FRESH_401_RETRY_DELAYS = [0.05]
    client_module.reset_client()
    yield server
    client_module.reset_client()
    server.stop()


@pytest.fixture
def dispatched(monkeypatch):
    """Channel ids the pipeline asked Celery to send; tests call the delivery step themselves."""
    calls: list[int] = []
    monkeypatch.setattr("alerts.tasks.dispatch", lambda ids: calls.extend(ids))
    return calls
