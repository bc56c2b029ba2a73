"""Polls keep their interval exactly: the next one counts from when this one was due, and overlapping beat
ticks share the due accounts without polling one twice."""

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection

from accounts.models import ClaudeAccount
from accounts.services import account_poll, accounts_poll_due, next_slot
from tests.fakes.claude_api import Reply, legacy_usage

from .helpers import cookie_account

INTERVAL = timedelta(seconds=300)  # the default runtime interval


def _due_at(account: ClaudeAccount, when: datetime) -> datetime:
    ClaudeAccount.objects.filter(pk=account.pk).update(next_poll_at=when)
    return when


def test_the_next_slot_is_the_first_step_of_the_grid_after_the_poll_started():
    due = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    assert next_slot(due, due + timedelta(seconds=14), INTERVAL) == due + INTERVAL
    assert next_slot(due, due + timedelta(seconds=1000), INTERVAL) == due + 4 * INTERVAL
    assert next_slot(due, due + INTERVAL, INTERVAL) == due + 2 * INTERVAL
    early = due - timedelta(seconds=200)  # "poll now" ahead of schedule
    assert next_slot(due, early, INTERVAL) == early + INTERVAL
    assert next_slot(None, due, INTERVAL) == due + INTERVAL


@pytest.mark.django_db(transaction=True)
def test_a_poll_picked_up_late_and_slow_to_answer_keeps_the_interval_from_its_due_time(fake):
    account, _ = cookie_account(fake, Reply(200, legacy_usage(), delay=0.3))
    due = _due_at(account, datetime.now(UTC) - timedelta(seconds=14))  # the tick came 14 s after the due time
    assert [r.outcome for r in accounts_poll_due()] == ["ok"]
    account.refresh_from_db()
    assert account.next_poll_at == due + INTERVAL  # not finish time + 300 s (that drifts ~15 s a poll)


@pytest.mark.django_db(transaction=True)
def test_slots_missed_while_polling_was_down_are_skipped_not_caught_up(fake):
    account, key = cookie_account(fake, legacy_usage())
    due = _due_at(account, datetime.now(UTC) - timedelta(seconds=1000))
    accounts_poll_due()
    account.refresh_from_db()
    assert account.next_poll_at == due + 4 * INTERVAL
    assert accounts_poll_due() == [] and fake.usage_calls(key) == 1


@pytest.mark.django_db(transaction=True)
def test_poll_now_ahead_of_schedule_starts_a_new_grid(fake):
    account, _ = cookie_account(fake, legacy_usage())
    _due_at(account, datetime.now(UTC) + timedelta(seconds=200))
    before = datetime.now(UTC)
    account_poll(account_id=account.pk)
    after = datetime.now(UTC)
    account.refresh_from_db()
    assert before + INTERVAL <= account.next_poll_at <= after + INTERVAL


def _tick(results: list) -> None:
    try:
        results.extend(accounts_poll_due())
    finally:
        connection.close()


@pytest.mark.django_db(transaction=True)
def test_overlapping_ticks_share_the_due_accounts_without_a_double_poll_or_a_late_slot(fake, settings):
    settings.ACCOUNTS_POLL_CONCURRENCY = 2  # one tick needs four rounds: the next tick starts meanwhile
    due = datetime.now(UTC) - timedelta(seconds=5)
    keys = []
    for i in range(8):
        account, key = cookie_account(fake, Reply(200, legacy_usage(), delay=0.3), label=f"a{i}")
        _due_at(account, due)
        keys.append(key)
    first, second = [], []
    ticks = [threading.Thread(target=_tick, args=(first,)), threading.Thread(target=_tick, args=(second,))]
    ticks[0].start()
    time.sleep(0.45)  # the first tick is in its second round
    ticks[1].start()
    for tick in ticks:
        tick.join(120)  # generous: a loaded CI machine is slow, but a hung tick must still fail the test
    outcomes = [(r.account_id, r.outcome) for r in first + second]
    assert not any(tick.is_alive() for tick in ticks), f"a tick still runs after 120 s; finished: {outcomes}"
    assert [fake.usage_calls(key) for key in keys] == [1] * 8, outcomes
    done = [r for r in first + second if r.outcome == "ok"]
    assert len(done) == 8
    assert any(r.outcome == "ok" for r in first) and any(r.outcome == "ok" for r in second)
    assert set(ClaudeAccount.objects.values_list("next_poll_at", flat=True)) == {due + INTERVAL}
