"""A deadline for the database work of one web request.

A stalled PostgreSQL (or a network that stops passing its packets) must not hold a request past the hook
client's gate timeout, nor an admin page past gunicorn's worker timeout: the request should fail fast with a
clear 503 while the client decides from its cache. Server-side `statement_timeout` cannot do this (a stalled
server or link never sends the cancellation), so the connection itself stops waiting (config/db/postgresql).
Outside a request (Celery, migrations, shell) there is no deadline.
"""

from collections.abc import Callable
from contextvars import ContextVar
from time import monotonic

from django.conf import settings
from django.http import HttpRequest, HttpResponse

_deadline: ContextVar[float | None] = ContextVar("database_deadline", default=None)

# Paths whose callers wait for a few seconds at most: the hook client (gate timeout 2 s) and health probes.
FAST_PATHS = ("/api/", "/health")


def current() -> float | None:
    """This request's deadline (a monotonic time), or None outside a request."""
    return _deadline.get()


def remaining() -> float | None:
    """Seconds left for database work in this request; None outside a request."""
    deadline = _deadline.get()
    return None if deadline is None else deadline - monotonic()


def budget_for(path: str) -> float:
    if path.startswith(FAST_PATHS):
        return settings.DATABASE_DEADLINE_API_SECONDS
    return settings.DATABASE_DEADLINE_SECONDS


class DatabaseDeadlineMiddleware:
    """First in MIDDLEWARE, so the session and authentication middleware's queries count too."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = _deadline.set(monotonic() + budget_for(request.path_info))
        try:
            return self.get_response(request)
        finally:
            _deadline.reset(token)
