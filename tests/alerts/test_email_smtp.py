"""The email channel against a real SMTP server on loopback (aiosmtpd): a refused first attempt is retried
and the message arrives exactly once."""

import email
import socket

import pytest
from aiosmtpd.controller import Controller
from django.utils import timezone

from alerts import delivery as sending
from alerts.models import Delivery
from alerts.services import channel_create
from alerts.transports.base import Alert
from monitoring import eventlog

pytestmark = pytest.mark.django_db


class Mailbox:
    """An SMTP handler that answers 451 (try again later) to the first `refuse` messages."""

    def __init__(self, refuse: int = 0) -> None:
        self.refuse, self.messages, self.tries = refuse, [], 0

    async def handle_DATA(self, server, session, envelope):
        self.tries += 1
        if self.tries <= self.refuse:
            return "451 4.3.0 Try again later"
        self.messages.append((envelope.rcpt_tos, email.message_from_bytes(envelope.content)))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def mailbox(settings):
    box = Mailbox(refuse=1)
    controller = Controller(box, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", controller.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    yield box
    controller.stop()


def test_an_email_refused_once_is_retried_and_arrives_exactly_once(mailbox):
    channel = channel_create(kind="email", name="mail", config={"to": "ops@example.com, lead@example.com"})
    alert = Alert("acct-42: 91% of 5-hour limit", "acct-42 reached 91% of its 5-hour limit.", "acct-42")
    event = eventlog.record(eventlog.ALERT_FIRED, data={"alerts": []})
    item = Delivery.objects.create(event=event, channel=channel, alerts=[alert.to_json()])

    first = sending.deliver(item.pk)
    assert first.status == Delivery.Status.RETRY and "451" in first.error
    assert mailbox.messages == []
    item.refresh_from_db()
    assert sending.deliver(item.pk, now=item.next_attempt_at).status == Delivery.Status.SENT
    assert sending.deliver(item.pk, now=timezone.now() + sending.lease() * 2).status == "not due"

    ((recipients, message),) = mailbox.messages
    assert recipients == ["ops@example.com", "lead@example.com"]
    assert message["Subject"] == "acct-42: 91% of 5-hour limit"
    assert message["Message-ID"] == f"<{item.key}@governor.invalid>"
    assert "acct-42 reached 91% of its 5-hour limit." in message.get_payload()
