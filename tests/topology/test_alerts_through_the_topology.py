"""Alerts on the production layout: the beat of `docker compose up` polls an account whose usage rises past
90 % in the fake Claude API, and of the two Celery workers (Redis broker on the PostgreSQL + Redis run)
exactly one message per channel reaches the webhook receivers, however many polls follow."""

import pytest

from accounts.models import AccountSettings, WindowReading
from accounts.services import account_create
from accounts.tests.celery_procs import wait_for
from alerts.models import Delivery
from tests.alerts.conftest import receivers  # noqa: F401 - the loopback webhook receivers
from tests.alerts.pipeline import session_readings, subscribe, webhook_channel
from tests.fakes.claude_api import legacy_usage

pytestmark = [pytest.mark.xdist_group("topology"), pytest.mark.django_db(transaction=True)]


def test_usage_rising_past_90_percent_under_the_production_beat_reaches_each_channel_once(
    topology, topology_claude, receivers  # noqa: F811
):
    AccountSettings.objects.update_or_create(pk=1, defaults={"poll_interval_seconds": 1})
    cookie = "sk-ant-sid02-topology-alerts-0123456789abcdef"
    topology_claude.add_cookie(cookie, legacy_usage(62.0, 40.0), legacy_usage(93.0, 40.0))
    account = account_create(label="team-prod", source="cookie", credential=cookie)
    subscribe(webhook_channel(receivers, "one"), webhook_channel(receivers, "two"), account=account)

    sent = wait_for(lambda: Delivery.objects.filter(status=Delivery.Status.SENT).count() == 2, timeout=90)
    assert sent, "".join(topology.processes[name].log()[-2000:] for name in ("worker1", "worker2", "beat"))
    readings = session_readings(account)
    assert readings[:2] == [62.0, 93.0]  # polled below the threshold first, then across it
    polls = len(readings)
    assert wait_for(lambda: WindowReading.objects.filter(account=account).count() > polls + 2)
    assert len(receivers.received("/hook/one")) == 1 and len(receivers.received("/hook/two")) == 1
    assert receivers.received("/hook/one")[0].json()["account"] == "team-prod"
    assert Delivery.objects.count() == 2
