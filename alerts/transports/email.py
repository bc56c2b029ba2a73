"""Email through Django's mail backend over SMTP (EMAIL_* settings). The Message-ID is derived from the
delivery, so a retried send that did reach the server is recognisable as the same message."""

import smtplib

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.validators import validate_email

from .base import ConfigError, Message, Outcome, Sent, Transport, TransportError

MAX_RECIPIENTS = 20


class EmailTransport(Transport):
    kind = "email"
    label = "Email"
    secret_fields = ()
    default_rate_per_minute = 30

    def validate(self, config: dict) -> dict:
        raw = config.get("to")
        addresses = raw.replace(";", ",").split(",") if isinstance(raw, str) else list(raw or [])
        addresses = [str(a).strip() for a in addresses if str(a).strip()]
        if not addresses:
            raise ConfigError("Give at least one recipient address.")
        if len(addresses) > MAX_RECIPIENTS:
            raise ConfigError(f"At most {MAX_RECIPIENTS} recipients per channel.")
        for address in addresses:
            try:
                validate_email(address)
            except ValidationError:
                raise ConfigError(f"{address!r} is not an email address.") from None
        return {"to": addresses}

    def send(self, config: dict, message: Message) -> Sent:
        message_id = f"<{message.key}@{getattr(settings, 'ALERTS_EMAIL_DOMAIN', 'governor.invalid')}>"
        text = message.text() if not message.grouped else message.title() + "\n\n" + message.text()
        mail = EmailMultiAlternatives(
            subject=message.title()[:200],
            body=text + ("\n\n" + message.first.url if message.first.url else ""),
            to=config["to"],
            headers={"Message-ID": message_id, "Auto-Submitted": "auto-generated"},
        )
        try:
            connection = get_connection(timeout=getattr(settings, "EMAIL_TIMEOUT", None) or 15)
            connection.send_messages([mail])
        except smtplib.SMTPRecipientsRefused as exc:
            codes = {code for code, _ in exc.recipients.values()}
            outcome = Outcome.PERMANENT if all(c >= 500 for c in codes) else Outcome.TRANSIENT
            raise TransportError(
                outcome, f"The mail server refused every recipient: {_refusals(exc)}"
            ) from None
        except smtplib.SMTPResponseException as exc:
            outcome = Outcome.TRANSIENT if 400 <= exc.smtp_code < 500 else Outcome.REJECTED
            error = (
                exc.smtp_error.decode(errors="replace")
                if isinstance(exc.smtp_error, bytes)
                else str(exc.smtp_error)
            )
            raise TransportError(outcome, f"Mail server said {exc.smtp_code} {error}") from None
        except (TimeoutError, smtplib.SMTPException, OSError) as exc:
            raise TransportError(
                Outcome.TRANSIENT, f"Cannot send mail: {type(exc).__name__}: {exc}"
            ) from None
        return Sent(message_id, None)


def _refusals(exc: smtplib.SMTPRecipientsRefused) -> str:
    return "; ".join(
        f"{rcpt}: {code} {text.decode(errors='replace') if isinstance(text, bytes) else text}"
        for rcpt, (code, text) in exc.recipients.items()
    )
