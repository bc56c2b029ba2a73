"""A database that stops answering fails hook API requests with JSON 503 before the hook's gate timeout.

Over real HTTP against a live server: PostgreSQL behind a loopback proxy that stops forwarding (a hung
server or a broken link), and, on both databases, another connection holding the lock the request needs.
"""

import sqlite3
import time
from contextlib import contextmanager

import psycopg
import pytest
from django.db import connection, connections

from config.db import deadline
from limiter.client.base import GATE_TIMEOUT
from tests.stall_proxy import StallingProxy

from .conftest import HookApi, per_model, token_for
from .test_hook_api_flow import check

# Short enough that a slow shared machine still answers well inside the gate timeout.
DEADLINE = 0.5


@pytest.fixture
def api(live, alice):
    per_model(alice, "opus", "daily", 5)
    return HookApi(live, token_for(alice))


@pytest.fixture
def short_deadline(api, settings):
    # The server's first request imports and prepares what later ones reuse: not what is measured here.
    assert check(api, session="warm-up").status == 200
    settings.DATABASE_DEADLINE_API_SECONDS = DEADLINE
    return DEADLINE


def timed(call):
    started = time.monotonic()
    reply = call()
    return reply, time.monotonic() - started


def assert_unavailable_in_time(reply, elapsed):
    assert reply.status == 503, reply.text
    assert reply.headers["content-type"].startswith("application/json")
    assert "unavailable" in reply.json["error"].lower()
    assert elapsed < GATE_TIMEOUT, f"answered after {elapsed:.2f} s"


@contextmanager
def proxied_database(proxy: StallingProxy):
    """New connections of the live server go through the proxy; the test's own connection stays direct."""
    params = connection.settings_dict
    saved = params["HOST"], params["PORT"]
    params["HOST"], params["PORT"] = "127.0.0.1", proxy.port
    try:
        yield
    finally:
        params["HOST"], params["PORT"] = saved


@contextmanager
def stalled_postgres():
    params = connection.settings_dict
    proxy = StallingProxy(params["HOST"] or "127.0.0.1", int(params["PORT"] or 5432)).start()
    try:
        with proxied_database(proxy):
            yield proxy
    finally:
        proxy.stop()


@contextmanager
def lock_held_by_another_connection():
    """Another client holds the write lock (SQLite) or an exclusive lock on the seats (PostgreSQL)."""
    params = connection.settings_dict
    if connection.vendor == "sqlite":
        other = sqlite3.connect(params["NAME"], isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
    else:
        other = psycopg.connect(
            host=params["HOST"] or "127.0.0.1",
            port=params["PORT"] or 5432,
            user=params["USER"],
            password=params["PASSWORD"] or None,
            dbname=params["NAME"],
        )
        other.execute("LOCK TABLE limiter_seat IN ACCESS EXCLUSIVE MODE")
    try:
        yield
    finally:
        other.rollback()
        other.close()


def test_check_answers_json_503_in_time_while_another_connection_holds_the_lock(api, short_deadline):
    assert check(api).status == 200
    with lock_held_by_another_connection():
        reply, elapsed = timed(lambda: check(api, session="sess-2"))
        assert_unavailable_in_time(reply, elapsed)
        # The v1 client blocks with `reason` on an error body; it must say why, not look like a cap.
        assert "could not check" in reply.json["reason"]
    assert check(api, session="sess-3").status == 200


def test_hook_api_answers_json_503_in_time_when_postgres_stops_answering(api, short_deadline):
    if connection.vendor != "postgresql":
        # The embedded database is a local file: it cannot stop answering, only be locked (test above).
        with lock_held_by_another_connection():
            assert_unavailable_in_time(*timed(lambda: check(api)))
        return
    assert check(api).status == 200
    with stalled_postgres() as proxy:
        assert check(api).status == 200  # through the proxy while it forwards
        proxy.stall()
        for call in (lambda: check(api, session="sess-2"), lambda: api.get("status")):
            assert_unavailable_in_time(*timed(call))
        health, elapsed = timed(lambda: api.request("GET", "/health"))
        assert health.status == 503 and health.json["status"] == "database unavailable"
        assert elapsed < GATE_TIMEOUT
        proxy.resume()
        assert check(api, session="sess-3").status == 200
        assert api.request("GET", "/health").status == 200


def test_a_query_in_flight_gives_up_at_the_request_deadline_and_its_connection_is_dropped(transactional_db):
    if connection.vendor != "postgresql":
        # SQLite waits on a lock, never on a link: the busy wait follows the same deadline.
        with lock_held_by_another_connection(), deadline_of(DEADLINE):
            other = connections.create_connection("default")
            try:
                with pytest.raises(Exception, match="locked"):
                    other.cursor().execute("INSERT INTO limiter_team (name) VALUES ('x')")
            finally:
                other.close()
        return
    with stalled_postgres() as proxy:
        other = connections.create_connection("default")
        try:
            other.ensure_connection()  # connected through the proxy before the stall
            proxy.stall()
            started = time.monotonic()
            with deadline_of(DEADLINE), pytest.raises(Exception, match="did not answer"):
                other.cursor().execute("SELECT 1")
            assert time.monotonic() - started < GATE_TIMEOUT
            assert other.connection.closed
        finally:
            other.close()


@contextmanager
def deadline_of(seconds: float):
    token = deadline._deadline.set(time.monotonic() + seconds)
    try:
        yield
    finally:
        deadline._deadline.reset(token)
