"""A silence created while a message waits (held back by quiet hours) stops it when the wait ends: the
delivery is listed as silenced, nothing reaches the channel, and alerts it does not cover still go."""

from datetime import UTC, datetime, time, timedelta

import pytest

from alerts import delivery as sending
from alerts.models import Delivery, Silence
from monitoring import eventlog
from monitoring.models import Event

from .pipeline import T0, account, evaluate, minutes, poll, subscribe, webhook_channel

pytestmark = pytest.mark.django_db
QUIET_END = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)  # T0 is 09:00, inside 08:00-10:00


@pytest.fixture
def hook(receivers):
    return webhook_channel(receivers)


def deferred_alert(hook, *accounts):
    subscription = subscribe(hook, quiet=("daily", time(8, 0), time(10, 0), "UTC"))
    for acct in accounts:
        poll(acct, T0, 91)
    assert evaluate(T0) == []
    (waiting,) = Delivery.objects.filter(deferred=True, status=Delivery.Status.PENDING)
    return subscription, waiting


@pytest.mark.parametrize("target", ["account", "subscription", "channel"])
def test_a_silence_set_after_quiet_hours_deferred_an_alert_stops_it_when_they_end(hook, receivers, target):
    acct = account()
    subscription, waiting = deferred_alert(hook, acct)
    chosen = {"account": acct, "subscription": subscription, "channel": hook}[target]
    Silence.objects.create(until=T0 + timedelta(hours=3), reason="migrating", **{target: chosen})

    result = sending.deliver(waiting.pk, now=QUIET_END + minutes(1))

    assert result.status == Delivery.Status.SILENCED
    waiting.refresh_from_db()
    assert waiting.status == Delivery.Status.SILENCED and waiting.attempts == 0
    assert "migrating" in waiting.last_error
    assert receivers.received("/hook/") == []
    assert not Event.objects.filter(kind__in=[eventlog.ALERT_DELIVERED, eventlog.ALERT_FAILED]).exists()


def test_a_late_silence_of_one_account_drops_only_its_alert_from_a_grouped_message(hook, receivers):
    quiet_acct, loud_acct = account("acct-quiet"), account("acct-loud")
    _, waiting = deferred_alert(hook, quiet_acct, loud_acct)
    assert len(waiting.alerts) == 2
    Silence.objects.create(account=quiet_acct, until=T0 + timedelta(hours=3), reason="migrating")

    assert sending.deliver(waiting.pk, now=QUIET_END + minutes(1)).status == Delivery.Status.SENT

    (request,) = receivers.received("/hook/")
    assert "acct-loud" in request.body.decode() and "acct-quiet" not in request.body.decode()
    waiting.refresh_from_db()
    assert [a["account"] for a in waiting.alerts] == ["acct-loud"]


def test_a_silence_that_ended_before_quiet_hours_end_lets_the_message_go(hook, receivers):
    acct = account()
    _, waiting = deferred_alert(hook, acct)
    Silence.objects.create(account=acct, until=T0 + minutes(30), reason="short")
    assert sending.deliver(waiting.pk, now=QUIET_END + minutes(1)).status == Delivery.Status.SENT
    assert len(receivers.received("/hook/")) == 1
