"""The Celery adapters: a committed poll queues one evaluation (only when enabled), the beat tick sends what
has come due (quiet hours over, retries) and takes over a crashed worker's send."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts import events
from alerts import hooks, tasks
from alerts.models import Delivery
from tests.fakes.alert_receivers import Reply

from .pipeline import account, evaluate, poll, subscribe, webhook_channel

pytestmark = pytest.mark.django_db


def test_a_committed_poll_queues_an_evaluation_only_when_enabled(settings, monkeypatch):
    queued: list[str] = []
    monkeypatch.setattr(tasks.evaluate, "delay", lambda: queued.append("evaluate"))
    snapshot = events.SnapshotRecorded(1, "acct", 1, timezone.now(), {"session": 91.0})
    reset = events.WindowResetDetected(1, "acct", "session", "early", None, None)
    settings.ALERTS_EVALUATE_AFTER_POLL = False
    hooks.after_poll(snapshot)
    assert queued == []
    settings.ALERTS_EVALUATE_AFTER_POLL = True
    hooks.after_poll(snapshot)
    hooks.after_poll(reset)  # part of the same poll's transaction: no second evaluation
    hooks.after_poll(events.CredentialStateChanged(1, "acct", "ok", "expired", "401"))
    assert queued == ["evaluate", "evaluate"]


def test_the_tick_sends_deliveries_whose_quiet_hours_ended(receivers, dispatched):
    acct = account()
    now = timezone.now()
    start = (now - timedelta(minutes=1)).time()
    end = (now + timedelta(minutes=1)).time()
    subscribe(webhook_channel(receivers), quiet=("daily", start, end, "UTC"))
    poll(acct, now, 91, resets_at=now + timedelta(hours=2))
    assert evaluate(now) == []
    waiting = Delivery.objects.get()
    assert waiting.deferred and waiting.next_attempt_at > now
    assert tasks.tick() == 0 and dispatched == []
    Delivery.objects.filter(pk=waiting.pk).update(next_attempt_at=now)
    assert tasks.tick() == 1 and dispatched == [waiting.pk]
    assert tasks.deliver(waiting.pk) == Delivery.Status.SENT
    assert len(receivers.received("/hook/")) == 1


def test_deliver_task_requeues_a_retry_at_its_time(receivers, monkeypatch):
    later: list[tuple] = []
    monkeypatch.setattr(tasks.deliver, "apply_async", lambda args, countdown: later.append((args, countdown)))
    acct = account()
    subscribe(webhook_channel(receivers))
    receivers.script("/hook/", Reply(429, "slow", headers={"Retry-After": "300"}))
    poll(acct, timezone.now(), 91)
    (item,) = evaluate(timezone.now())
    assert tasks.deliver(item.pk) == Delivery.Status.RETRY
    ((args, countdown),) = later
    assert args == [item.pk] and countdown >= 300


def test_a_broker_outage_leaves_deliveries_for_the_tick(monkeypatch, caplog):
    def broker_down(delivery_id):
        raise ConnectionError("broker unreachable")

    monkeypatch.setattr(tasks.deliver, "delay", broker_down)
    tasks.dispatch([1, 2])
    assert "the next alerts tick sends them" in caplog.text
