"""Personas and a small HTTP client for the hook API tests."""

import http.client
import json
from dataclasses import dataclass, field
from datetime import time, timedelta

import pytest
from django.utils import timezone

from config.crypto import digest, new_token
from limiter import services
from limiter.models import HookToken, Seat, Team

WEIGHTS = {"opus": 10, "sonnet": 3, "haiku": 1}


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    text: str
    body: object = field(default=None)

    @property
    def json(self) -> dict:
        assert isinstance(self.body, dict), f"not a JSON object: {self.text[:200]!r}"
        return self.body


class HookApi:
    """Talks to a live server over a real socket, one connection per call, like the v1 hook does."""

    def __init__(self, live, token: str | None = None):
        self.live = live
        self.token = token

    def request(
        self,
        method: str,
        path: str,
        body: object = None,
        *,
        raw: bytes | None = None,
        token: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        sent_headers = {"Content-Type": "application/json", **(headers or {})}
        bearer = token if token is not None else self.token
        if bearer:
            sent_headers.setdefault("Authorization", f"Bearer {bearer}")
        payload = raw if raw is not None else (None if body is None else json.dumps(body).encode())
        connection = http.client.HTTPConnection("127.0.0.1", self.live.port, timeout=30)
        try:
            connection.request(method, path, body=payload, headers=sent_headers)
            response = connection.getresponse()
            text = response.read().decode()
            reply_headers = {k.lower(): v for k, v in response.getheaders()}
        finally:
            connection.close()
        try:
            parsed = json.loads(text)
        except ValueError:
            parsed = None
        return Reply(response.status, reply_headers, text, parsed)

    def post(self, path: str, body: object = None, **kwargs) -> Reply:
        return self.request("POST", f"/api/v1/{path}", {} if body is None else body, **kwargs)

    def get(self, path: str, **kwargs) -> Reply:
        return self.request("GET", f"/api/v1/{path}", **kwargs)


@pytest.fixture
def team(db) -> Team:
    return Team.objects.create(name="Acme", timezone="Europe/Berlin", credit_weights=dict(WEIGHTS))


@pytest.fixture
def make_seat(team):
    def make(slug: str = "alice", name: str | None = None, status: str = Seat.ACTIVE) -> Seat:
        seat = services.seat_create(slug=slug, name=name or slug.capitalize(), team=team)
        if status != Seat.ACTIVE:
            services.seat_set_status(seat=seat, status=status, by="test")
        return seat

    return make


@pytest.fixture
def alice(make_seat) -> Seat:
    return make_seat("alice", "Alice")


def token_for(seat: Seat) -> str:
    token = new_token()
    HookToken.objects.create(seat=seat, token_hash=digest(token))
    return token


def silent_machine(seat: Seat, *, since: timedelta = timedelta(days=8)) -> str:
    """A token whose machine last reached the server `since` ago: its next call ends a silence."""
    token = token_for(seat)
    HookToken.objects.filter(token_hash=digest(token)).update(last_used_at=timezone.now() - since)
    return token


def per_model(owner, model: str | None, window: str, value: int, **extra):
    return services.rule_add(
        owner=owner, type="per_model", model=model or "", window=window, value=value, **extra
    )


def credits_rule(owner, window: str, value: int, **extra):
    return services.rule_add(owner=owner, type="credits", window=window, value=value, **extra)


def time_rule(owner, model: str | None, start: str, end: str, tz: str = "UTC"):
    return services.rule_add(
        owner=owner,
        type="time_of_day",
        model=model or "",
        schedule_start=time.fromisoformat(start),
        schedule_end=time.fromisoformat(end),
        schedule_tz=tz,
    )
