"""Email alerts through Django's SMTP backend against a real SMTP server (aiosmtpd) on loopback."""

import email
import email.policy
import socket

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP

from alerts.transports import get
from alerts.transports.base import ConfigError, Outcome, TransportError

from .conftest import firing, message


class Inbox:
    """Stores every message; `refuse` answers the next DATA commands with SMTP codes instead."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.refuse: list[str] = []
        self.refuse_rcpt: set[str] = set()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse_rcpt:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session, envelope):
        if self.refuse:
            return self.refuse.pop(0)
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 Message accepted"


@pytest.fixture
def smtp(settings):
    inbox = Inbox()
    with socket.socket() as probe:  # aiosmtpd checks readiness by connecting, so it needs a real port number
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.DEFAULT_FROM_EMAIL = "governor@team.example"
    yield inbox
    controller.stop()


def test_email_arrives_with_subject_body_and_stable_message_id(smtp):
    config = get("email").validate({"to": "ops@team.example, lead@team.example"})
    sent = get("email").send(config, message(key="delivery-5"))
    (mail,) = smtp.messages
    assert mail["Subject"] == "acct-42: 90% of 5-hour limit"
    assert mail["Message-ID"] == "<delivery-5@governor.invalid>" == sent.provider_id
    assert mail["Auto-Submitted"] == "auto-generated"
    assert "reached 90% of its 5-hour limit" in mail.get_content()
    assert smtp.envelopes == [("governor@team.example", ["ops@team.example", "lead@team.example"])]


def test_grouped_email_has_one_line_per_alert(smtp):
    config = get("email").validate({"to": ["ops@team.example"]})
    get("email").send(config, message(firing("a"), firing("b")))
    (mail,) = smtp.messages
    assert mail["Subject"] == "2 alerts for a, b"
    assert mail.get_content().count("• ") == 2


def test_temporary_smtp_failure_is_transient_and_permanent_refusal_is_permanent(smtp):
    config = get("email").validate({"to": ["ops@team.example"]})
    smtp.refuse.append("451 4.3.0 try again later")
    with pytest.raises(TransportError) as caught:
        get("email").send(config, message())
    assert caught.value.outcome == Outcome.TRANSIENT
    smtp.refuse_rcpt.add("ops@team.example")
    with pytest.raises(TransportError) as caught:
        get("email").send(config, message())
    assert caught.value.outcome == Outcome.PERMANENT
    assert "550" in caught.value.message


def test_server_down_is_transient(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", 9
    with pytest.raises(TransportError) as caught:
        get("email").send(get("email").validate({"to": ["ops@team.example"]}), message())
    assert caught.value.outcome == Outcome.TRANSIENT


def test_bad_address_is_refused_on_save():
    with pytest.raises(ConfigError, match="not an email address"):
        get("email").validate({"to": "ops@team.example, nonsense"})
