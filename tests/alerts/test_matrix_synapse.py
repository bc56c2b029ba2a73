"""Matrix against a real Synapse on loopback (contract §8): a message arrives exactly once after a worker
dies mid-send or a send times out and is retried (the txnId is the delivery's key), and Synapse's refusals
disable the channel."""

from datetime import timedelta

import httpx
import pytest
from django.utils import timezone

from alerts import delivery as sending
from alerts.models import Delivery
from alerts.services import channel_create
from alerts.transports import http
from alerts.transports.base import Alert
from monitoring import eventlog
from tests.peers.synapse import synapse  # noqa: F401 - the session fixture
from tests.stall_proxy import StallingProxy

pytestmark = pytest.mark.django_db


def room_channel(homeserver, url: str | None = None, token: str | None = None, room: str | None = None):
    config = {
        "room_id": room or homeserver.room_id,
        "homeserver": url or homeserver.url,
        "access_token": token or homeserver.token,
    }
    return channel_create(kind="matrix", name="room", config=config)


def queued(channel, title: str) -> Delivery:
    alert = Alert(title, f"{title}: details", "acct-42")
    event = eventlog.record(eventlog.ALERT_FIRED, data={"alerts": []})
    return Delivery.objects.create(event=event, channel=channel, alerts=[alert.to_json()])


def arrived(homeserver, title: str) -> list[dict]:
    return [m for m in homeserver.messages() if m["content"].get("body", "").startswith(title)]


def test_a_worker_dying_after_the_send_does_not_post_twice(synapse):  # noqa: F811
    item = queued(room_channel(synapse), "acct-died: 91% of 5-hour limit")
    first = sending.deliver(item.pk)
    assert first.status == Delivery.Status.SENT and first.provider_id.startswith("$")
    # The row never heard of the success; once the lease runs out another worker sends again.
    stale = timezone.now() - sending.lease() - timedelta(seconds=1)
    Delivery.objects.filter(pk=item.pk).update(status=Delivery.Status.SENDING, claimed_at=stale)
    again = sending.deliver(item.pk)
    assert again.status == Delivery.Status.SENT and again.provider_id == first.provider_id
    (message,) = arrived(synapse, "acct-died")
    assert message["unsigned"]["transaction_id"] == str(item.key)
    assert message["content"]["msgtype"] == "m.text"


def test_a_send_that_times_out_is_retried_and_arrives_once(synapse, monkeypatch):  # noqa: F811
    port = int(synapse.url.rsplit(":", 1)[1])
    proxy = StallingProxy("127.0.0.1", port).start()
    monkeypatch.setattr(http, "_client", httpx.Client(timeout=1.0, trust_env=False, follow_redirects=False))
    try:
        item = queued(room_channel(synapse, url=f"http://127.0.0.1:{proxy.port}"), "acct-slow: 92%")
        proxy.stall()
        first = sending.deliver(item.pk)
        assert first.status == Delivery.Status.RETRY and "did not answer in time" in first.error
        assert arrived(synapse, "acct-slow") == []
        proxy.resume()
        item.refresh_from_db()
        assert sending.deliver(item.pk, now=item.next_attempt_at).status == Delivery.Status.SENT
    finally:
        proxy.stop()
    assert len(arrived(synapse, "acct-slow")) == 1


@pytest.mark.parametrize(
    ("change", "errcode"),
    [({"token": "syt_not_a_token"}, "M_UNKNOWN_TOKEN"), ({"room": "!elsewhere:localhost"}, "M_FORBIDDEN")],
)
def test_synapse_refusals_disable_the_channel(synapse, change, errcode):  # noqa: F811
    channel = room_channel(synapse, **change)
    result = sending.deliver(queued(channel, "acct-refused").pk)
    assert result.status == Delivery.Status.FAILED and errcode in result.error
    channel.refresh_from_db()
    assert not channel.enabled and errcode in channel.disabled_reason
