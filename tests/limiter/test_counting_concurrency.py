"""Races are settled by the database: parallel counts all land, a replay lands once, a code works once."""

import threading
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from limiter import services
from limiter.models import CreditHold, HookToken, UsageEvent

from .conftest import HookApi, credits_rule, token_for

TURNS = 240
# Parallel connections; kept under PostgreSQL's default max_connections (100) with room for other clients.
PARALLEL = 40


@pytest.fixture(autouse=True)
def patient_database(settings):
    # 40 writers at once queue on SQLite's one write lock for longer than a hook request's database deadline
    # (config/db/deadline.py) on a busy machine; these tests are about exact counting, not about deadlines.
    settings.DATABASE_DEADLINE_API_SECONDS = 60


def in_parallel(calls: int, action, workers: int = PARALLEL):
    """Runs `action(i)` for every i, released together through a barrier so the requests really overlap."""
    start = threading.Barrier(min(calls, workers))

    def run(i):
        if i < workers:
            start.wait(timeout=30)
        return action(i)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(run, range(calls)))


def test_counts_every_one_of_many_parallel_turns(live, alice):
    credits_rule(alice, "daily", 100_000)
    api = HookApi(live, token_for(alice))
    models = ["opus", "claude-sonnet-4-5", "haiku"]

    turn = lambda i: api.post("count", {"model": models[i % 3], "session_id": f"s{i % 7}"})  # noqa: E731
    replies = in_parallel(TURNS, turn)

    assert Counter(r.status for r in replies) == {200: TURNS}
    assert all(r.json["recorded"] is True and "duplicate" not in r.json for r in replies)
    assert UsageEvent.objects.filter(seat=alice).count() == TURNS
    daily = api.get("status").json["usage"]["daily"]
    assert daily["counts"] == {"opus": 80, "sonnet": 80, "haiku": 80, "default": 0}
    assert daily["totalCredits"] == 80 * (10 + 3 + 1)
    assert api.post("sync", {}).json["credit_balance"] == 100_000 - 80 * 14
    if connection.vendor == "sqlite":
        # What makes this work on SQLite: one file shared by all server threads, in write-ahead-log mode.
        with connection.cursor() as cursor:
            assert cursor.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        assert connection.settings_dict["NAME"].endswith(".sqlite3")


def test_parallel_replays_of_one_event_are_counted_once(live, alice):
    api = HookApi(live, token_for(alice))
    event_id = str(uuid.uuid4())
    body = {"model": "opus", "event_id": event_id, "session_id": "s1", "timestamp": "2026-01-01T00:00:00Z"}

    replies = in_parallel(30, lambda i: api.post("count", body), workers=30)

    assert Counter(r.status for r in replies) == {200: 30}
    assert sum("duplicate" not in r.json for r in replies) == 1
    assert all(r.json.get("duplicate", True) is True and r.json["recorded"] is True for r in replies)
    assert UsageEvent.objects.filter(seat=alice, event_id=event_id).count() == 1
    assert alice.session_events.filter(kind="turn_complete").count() == 1


def test_the_same_event_id_on_two_seats_is_two_events(live, alice, make_seat):
    event_id = str(uuid.uuid4())
    for seat in (alice, make_seat("bob")):
        reply = HookApi(live, token_for(seat)).post("count", {"model": "opus", "event_id": event_id})
        assert "duplicate" not in reply.json
    assert UsageEvent.objects.filter(event_id=event_id).count() == 2


def test_a_replay_answers_the_current_balance_and_records_nothing(live, alice):
    credits_rule(alice, "daily", 30)
    api = HookApi(live, token_for(alice))
    body = {"model": "opus", "event_id": str(uuid.uuid4())}
    assert api.post("count", body).json == {"recorded": True, "new_balance": 20}
    api.post("count", {"model": "haiku"})
    assert api.post("count", body).json == {"recorded": True, "new_balance": 19, "duplicate": True}
    assert UsageEvent.objects.count() == 2


def test_parallel_registrations_with_one_code_succeed_once(live, alice):
    code = services.install_code_issue(seat=alice)
    api = HookApi(live)

    replies = in_parallel(20, lambda i: api.post("register", {"code": code}), workers=20)

    assert Counter(r.status for r in replies) == {200: 1, 404: 19}
    assert HookToken.objects.filter(seat=alice).count() == 1


def test_parallel_checks_of_one_session_leave_one_hold(live, alice):
    credits_rule(alice, "daily", 1000)
    api = HookApi(live, token_for(alice))
    body = {"model": "opus", "session_id": "s1", "prompt_length": 3}

    replies = in_parallel(20, lambda i: api.post("check", body), workers=20)

    assert Counter(r.status for r in replies) == {200: 20}
    assert all(r.json["allowed"] is True for r in replies)
    assert CreditHold.objects.filter(seat=alice).count() == 1
    assert api.post("sync", {"session_id": "s2"}).json["credit_balance"] == 990
