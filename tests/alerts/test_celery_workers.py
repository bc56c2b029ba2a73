"""Real Celery workers and beat (Redis broker with REDIS_URL): a poll's crossing reaches each channel
exactly once with two workers, and a worker killed mid-send loses nothing (its claim is taken over after the
lease)."""

import signal

import pytest

from accounts.models import AccountSettings, WindowReading
from accounts.services import account_create
from accounts.tests.celery_procs import CeleryProcesses, wait_for
from alerts.models import Delivery
from tests.fakes.alert_receivers import Reply
from tests.fakes.claude_api import legacy_usage

from .pipeline import session_readings, subscribe, webhook_channel

pytestmark = pytest.mark.django_db(transaction=True)
STARTUP = 180  # worker start-up on a loaded shared machine; the waits end as soon as the condition holds


@pytest.fixture
def celery(claude, tmp_path):
    procs = CeleryProcesses(claude.url, tmp_path)
    procs.env |= {
        "ALERTS_ALLOWED_PRIVATE_NETWORKS": "127.0.0.0/8",
        "ALERTS_TICK_SECONDS": "0.5",
        "ALERTS_DELIVERY_LEASE_SECONDS": "3",
    }
    yield procs
    procs.stop()


def crossing_account(claude, *usage):
    cookie = "sk-ant-sid02-celery-alerts-0123456789abcdef"
    claude.add_cookie(cookie, *(usage or [legacy_usage(93.0, 40.0)]))
    return account_create(label="team-max", source="cookie", credential=cookie)


def test_usage_rising_past_90_percent_under_beat_reaches_each_channel_exactly_once(claude, receivers, celery):
    """Beat polls every second; the first reading is 62 %, every later one 93 %: one crossing, two workers."""
    AccountSettings.objects.update_or_create(pk=1, defaults={"poll_interval_seconds": 1})
    account = crossing_account(claude, legacy_usage(62.0, 40.0), legacy_usage(93.0, 40.0))
    subscribe(webhook_channel(receivers, "one"), webhook_channel(receivers, "two"))
    celery.worker("w1")
    celery.worker("w2")
    celery.beat()
    sent = wait_for(
        lambda: Delivery.objects.filter(status=Delivery.Status.SENT).count() == 2, timeout=STARTUP
    )
    assert sent, celery.log("w1")[-2000:] + celery.log("w2")[-2000:]
    readings = session_readings(account)
    assert readings[:2] == [62.0, 93.0]  # below the threshold first, then across it
    wait_for(lambda: False, timeout=3)  # more ticks and polls at 93 %: nothing more may go out
    assert WindowReading.objects.filter(account=account).count() > len(readings)
    assert len(receivers.received("/hook/one")) == 1 and len(receivers.received("/hook/two")) == 1
    assert receivers.received("/hook/one")[0].json()["pct"] == 93
    assert Delivery.objects.count() == 2


def test_a_worker_killed_mid_send_loses_nothing(claude, receivers, celery):
    crossing_account(claude)
    subscribe(webhook_channel(receivers, "slow"))
    receivers.script("/hook/slow", Reply(200, {"ok": True}, delay=30))  # the first send hangs
    celery.worker("w1")
    celery.beat()
    in_flight = wait_for(lambda: receivers.received("/hook/slow"), timeout=STARTUP)
    assert in_flight, celery.log("w1")[-3000:]
    dict(celery.procs)["w1"].send_signal(signal.SIGKILL)  # dies holding the claim
    celery.worker("w2")
    sent = wait_for(lambda: Delivery.objects.filter(status=Delivery.Status.SENT).exists(), timeout=STARTUP)
    assert sent, celery.log("w2")[-3000:]
    requests = receivers.received("/hook/slow")
    (delivery,) = Delivery.objects.all()
    assert len(requests) == 2 and delivery.attempts == 2
    assert {r.headers["idempotency-key"] for r in requests} == {str(delivery.key)}  # the receiver can dedupe
