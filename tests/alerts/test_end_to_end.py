"""End to end: a fake account's usage crosses 90 % in the fake Claude API, polling commits, the evaluator and
the delivery task run as Celery would run them (eagerly), and the webhook receiver gets exactly one alert."""

import pytest

from accounts.services import account_create, account_poll
from alerts.models import Delivery
from config.celery import app as celery_app
from tests.fakes.claude_api import legacy_usage

from .pipeline import subscribe, webhook_channel


@pytest.fixture
def eager_celery(settings):
    settings.ALERTS_EVALUATE_AFTER_POLL = True
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = False


@pytest.mark.django_db(transaction=True)  # the pipeline runs after real commits, as in production
def test_usage_rising_past_90_percent_reaches_the_webhook_exactly_once(claude, receivers, eager_celery):
    cookie = "sk-ant-sid02-end-to-end-cookie-0123456789abcdef"
    claude.add_cookie(cookie, legacy_usage(62.0, 40.0), legacy_usage(91.0, 41.0), legacy_usage(93.0, 41.0))
    acct = account_create(label="team-max", source="cookie", credential=cookie)
    subscribe(webhook_channel(receivers), thresholds={"session": [75, 90, 95], "default": [99]})

    for _ in range(3):  # below, across 90 % (and 75 %: only the highest tells), still above
        assert account_poll(account_id=acct.pk).outcome == "ok"

    (request,) = receivers.received("/hook/")
    body = request.json()
    assert body["title"] == "team-max: 91% of 5-hour limit"
    assert body["pct"] == 91 and body["account"] == "team-max"
    (delivery,) = Delivery.objects.all()
    assert delivery.status == Delivery.Status.SENT and request.headers["idempotency-key"] == str(delivery.key)
