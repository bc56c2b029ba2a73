"""Sending deliveries through the loopback fakes (contract §10.4-10.6): at-least-once under a claim and a
lease, retries that honour each provider's retry hint, permanent errors that disable the channel, the test
button."""

import json
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from alerts import delivery as sending
from alerts.models import Channel, Delivery
from alerts.services import channel_create
from alerts.transports.base import Alert
from monitoring import eventlog, feed
from monitoring.models import Event
from tests.fakes.alert_receivers import (
    PUSHOVER_TOKEN,
    PUSHOVER_USER,
    Reply,
    discord_rate_limited,
    matrix_rate_limited,
    pushover_over_quota,
    slack_error,
)

from .pipeline import webhook_channel

pytestmark = pytest.mark.django_db


def queued(channel: Channel, *, pct: int = 91) -> Delivery:
    """A delivery as the evaluator writes it: an ALERT_FIRED event and one row for the channel."""
    alert = Alert(
        f"acct-42: {pct}% of 5-hour limit", f"acct-42 reached {pct}% of its 5-hour limit.", "acct-42"
    )
    event = eventlog.record(eventlog.ALERT_FIRED, data={"alerts": []})
    return Delivery.objects.create(
        event=event, channel=channel, alerts=[alert.to_json() | {"key": "1:session"}]
    )


def attempt(delivery: Delivery, after: timedelta = timedelta(0)) -> sending.Result:
    """One worker's attempt, `after` past the delivery's due time."""
    delivery.refresh_from_db()
    return sending.deliver(delivery.pk, now=max(delivery.next_attempt_at, timezone.now()) + after)


def test_a_webhook_delivery_is_sent_once_and_logged(receivers):
    hook = webhook_channel(receivers)
    item = queued(hook)
    assert attempt(item).status == Delivery.Status.SENT
    assert attempt(item).status == "not due"  # a second worker, or the task delivered twice
    (request,) = receivers.received("/hook/")
    assert request.headers["idempotency-key"] == str(item.key)
    assert request.json()["title"] == "acct-42: 91% of 5-hour limit"
    item.refresh_from_db()
    assert (item.status, item.attempts, item.last_status) == (Delivery.Status.SENT, 1, 200)
    assert Event.objects.filter(kind=eventlog.ALERT_DELIVERED).count() == 1


def test_5xx_is_retried_with_backoff_and_the_same_idempotency_key(receivers):
    hook = webhook_channel(receivers)
    receivers.script("/hook/", Reply(503, "busy"), Reply(502, "bad gateway"))
    item = queued(hook)
    first = attempt(item)
    assert first.status == Delivery.Status.RETRY and 27 <= first.retry_in <= 33
    assert sending.deliver(item.pk).status == "not due"  # the backoff is respected
    second = attempt(item, after=timedelta(seconds=1))
    assert second.status == Delivery.Status.RETRY and 108 <= second.retry_in <= 132
    assert attempt(item, after=timedelta(seconds=1)).status == Delivery.Status.SENT
    keys = {r.headers["idempotency-key"] for r in receivers.received("/hook/")}
    assert keys == {str(item.key)} and len(receivers.received("/hook/")) == 3


def test_gives_up_after_five_attempts_and_says_so(receivers):
    hook = webhook_channel(receivers)
    receivers.script("/hook/", *[Reply(503, "down")] * 5)
    item = queued(hook)
    for _ in range(5):
        result = attempt(item, after=timedelta(seconds=1))
    assert result.status == Delivery.Status.FAILED
    assert result.error.startswith("gave up after 5 attempts; last: temporary error (HTTP 503)")
    hook.refresh_from_db()
    assert hook.enabled and hook.last_error == result.error
    assert Event.objects.filter(kind=eventlog.ALERT_FAILED).count() == 1


@pytest.mark.parametrize(
    ("kind", "reply", "at_least"),
    [
        ("webhook", lambda: Reply(429, "slow down", headers={"Retry-After": "120"}), 120),
        ("discord", lambda: discord_rate_limited(95.5, header=None), 95.5),
        ("matrix", lambda: matrix_rate_limited(retry_after_ms=75_000, header=None), 75),
        # Built when the test runs: collected minutes earlier, a reset 900 s ahead would be nearer.
        ("pushover", lambda: pushover_over_quota(int(time.time()) + 900), 880),
    ],
)
def test_429_waits_for_the_providers_retry_time(receivers, kind, reply, at_least):
    channel = {
        "webhook": lambda: webhook_channel(receivers),
        "discord": lambda: channel_create(
            kind="discord", name="d", config={"url": f"{receivers.url}/api/webhooks/1100/tok-good_1"}
        ),
        "matrix": lambda: channel_create(
            kind="matrix",
            name="m",
            config={"room_id": "!room", "homeserver": receivers.url, "access_token": "syt_x"},
        ),
        "pushover": lambda: channel_create(
            kind="pushover", name="p", config={"token": PUSHOVER_TOKEN, "user": PUSHOVER_USER}
        ),
    }[kind]()
    receivers.script("/", reply())
    item = queued(channel)
    result = attempt(item)
    assert result.status == Delivery.Status.RETRY and result.retry_in >= at_least
    item.refresh_from_db()
    assert item.next_attempt_at >= timezone.now() + timedelta(seconds=at_least - 5)


def test_matrix_retry_reuses_the_transaction_id(receivers):
    room = {"room_id": "!room", "homeserver": receivers.url, "access_token": "syt_x"}
    channel = channel_create(kind="matrix", name="m", config=room)
    receivers.script("/_matrix/", Reply(502, "gateway"), Reply(200, {"event_id": "$once"}))
    item = queued(channel)
    attempt(item)
    assert attempt(item, after=timedelta(seconds=1)).provider_id == "$once"
    paths = {r.path for r in receivers.received("/_matrix/")}
    assert paths == {f"/_matrix/client/v3/rooms/%21room/send/m.room.message/{item.key}"}


def test_a_deleted_discord_webhook_disables_the_channel_with_the_reason(receivers):
    channel = channel_create(kind="discord", name="d", config={"url": f"{receivers.url}/api/webhooks/404/x"})
    first, second = queued(channel), queued(channel, pct=95)
    assert attempt(first).status == Delivery.Status.FAILED
    channel.refresh_from_db()
    assert not channel.enabled and "404" in channel.disabled_reason
    result = attempt(second)
    assert result.status == Delivery.Status.FAILED and result.error.startswith("The channel is disabled")
    assert len(receivers.received("/api/webhooks/")) == 1  # a deleted webhook is not hammered


def test_an_archived_slack_channel_disables_the_channel(receivers):
    channel = channel_create(kind="slack", name="s", config={"url": f"{receivers.url}/services/T1/B1/x"})
    receivers.script("/services/", slack_error(410, "channel_is_archived"))
    assert attempt(queued(channel)).status == Delivery.Status.FAILED
    channel.refresh_from_db()
    assert not channel.enabled and "channel_is_archived" in channel.disabled_reason


def test_a_rejected_message_fails_without_disabling_the_channel(receivers):
    hook = webhook_channel(receivers)
    receivers.script("/hook/", Reply(422, "bad field"))
    result = attempt(queued(hook))
    assert result.status == Delivery.Status.FAILED and "message refused (HTTP 422)" in result.error
    hook.refresh_from_db()
    assert hook.enabled


def test_a_claim_held_by_a_live_worker_is_not_taken_but_a_dead_workers_is(receivers):
    hook = webhook_channel(receivers)
    item = queued(hook)
    now = timezone.now()
    Delivery.objects.filter(pk=item.pk).update(status=Delivery.Status.SENDING, claimed_at=now, attempts=1)
    assert sending.deliver(item.pk, now=now + timedelta(minutes=1)).status == "not due"
    assert sending.due_ids(now + timedelta(minutes=1)) == []
    later = now + sending.lease() + timedelta(seconds=1)
    assert sending.due_ids(later) == [item.pk]
    assert sending.deliver(item.pk, now=later).status == Delivery.Status.SENT
    assert len(receivers.received("/hook/")) == 1


def test_a_channel_over_its_rate_queues_instead_of_dropping(receivers):
    hook = webhook_channel(receivers)
    item = queued(hook)
    now = timezone.now()
    Delivery.objects.bulk_create(
        [Delivery(channel=hook, status=Delivery.Status.SENT, sent_at=now, alerts=[]) for _ in range(60)]
    )
    result = sending.deliver(item.pk, now=now)
    assert result.status == "queued" and result.retry_in == sending.QUEUED_RETRY_SECONDS
    item.refresh_from_db()
    assert (item.status, item.attempts) == (Delivery.Status.RETRY, 0)
    assert receivers.received("/hook/") == []


def test_send_test_makes_one_attempt_shows_the_exact_error_and_reenables_on_success(receivers):
    hook = webhook_channel(receivers)
    hook.disable("The webhook receiver says it is gone (410)")
    receivers.script("/hook/", Reply(503, "maintenance"))
    failed = sending.send_test(hook)
    assert failed.status == Delivery.Status.FAILED
    assert failed.error == "temporary error (HTTP 503): HTTP 503 maintenance"
    assert len(receivers.received("/hook/")) == 1  # no retry
    hook.refresh_from_db()
    assert not hook.enabled and hook.last_error == failed.error
    assert sending.send_test(hook).status == Delivery.Status.SENT
    hook.refresh_from_db()
    assert hook.enabled and hook.disabled_reason == "" and hook.last_error == ""
    assert Delivery.objects.filter(is_test=True).count() == 2


def test_send_test_uses_the_resolved_config_when_firing_is_a_noop(receivers):
    channel = channel_create(kind="webhook", name="r", config={"resolved_url": f"{receivers.url}/resolved"})
    assert sending.send_test(channel).status == Delivery.Status.SENT
    assert len(receivers.received("/resolved")) == 1


def test_the_live_feed_says_where_an_alert_went_and_what_it_said(receivers):
    hook = webhook_channel(receivers, name="ops")
    attempt(queued(hook))
    event = Event.objects.get(kind=eventlog.ALERT_DELIVERED)
    assert feed.describe(feed.present_event(event)) == "Alert sent to #ops: acct-42: 91% of 5-hour limit"


def test_a_failed_alert_is_logged_without_the_channels_secret_even_when_the_provider_echoes_it(
    receivers, caplog
):
    hook = webhook_channel(receivers, name="ops")
    secret_url = hook.config["url"]
    receivers.script("/hook/", Reply(422, f"unknown target {secret_url}"))
    with caplog.at_level("INFO", logger="alerts"):
        result = attempt(queued(hook))
    hook.refresh_from_db()
    delivery = Delivery.objects.get(channel=hook)
    # Staff who may not see the channel's config read its last error, the delivery log and the worker log.
    for shown in (result.error, hook.last_error, delivery.last_error, caplog.text):
        assert secret_url not in shown and "unknown target" in shown
    event = Event.objects.get(kind=eventlog.ALERT_FAILED)
    line = feed.describe(feed.present_event(event))
    assert secret_url not in json.dumps(event.data) and secret_url not in line
    assert line.startswith("Alert to #ops failed: message refused (HTTP 422): HTTP 422 unknown target …")
