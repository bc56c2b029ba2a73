"""Pushover (contract §4): form-encoded messages, quota headers, emergencies cancelled by tag on resolve."""

import contextlib
import re
import time
from urllib.parse import urlencode

from django.conf import settings

from . import http
from .base import ConfigError, Message, Outcome, Sent, Transport, TransportError, require_str, truncate

_KEY = re.compile(r"^[A-Za-z0-9]{30}$")
# Pushover asks for no retry of a failed 5xx / network attempt sooner than this.
MIN_RETRY_SECONDS = 5.0


def _base() -> str:
    return getattr(settings, "ALERTS_PUSHOVER_URL", "https://api.pushover.net").rstrip("/")


class PushoverTransport(Transport):
    kind = "pushover"
    label = "Pushover"
    secret_fields = ("token", "user")
    default_rate_per_minute = 6  # a sane cap per user key (contract §4)

    def validate(self, config: dict) -> dict:
        token = require_str(config, "token", "The application token")
        user = require_str(config, "user", "The user or group key")
        for value, name in ((token, "application token"), (user, "user or group key")):
            if not _KEY.match(value):
                raise ConfigError(f"The {name} is 30 letters and digits.")
        cleaned: dict = {"token": token, "user": user}
        try:
            priority = int(config.get("priority", 0))
        except (TypeError, ValueError):
            raise ConfigError("Priority is a whole number from -2 to 2.") from None
        if priority not in (-2, -1, 0, 1, 2):
            raise ConfigError("Priority is a whole number from -2 to 2.")
        cleaned["priority"] = priority
        for key in ("device", "sound"):
            if value := str(config.get(key) or "").strip():
                cleaned[key] = value[:64]
        return cleaned

    @staticmethod
    def tag(message: Message) -> str:
        alert = message.first
        return re.sub(r"[^A-Za-z0-9_-]", "-", f"gov-{alert.account}-{alert.limit_type}-{alert.threshold}")[
            :100
        ]

    def send(self, config: dict, message: Message) -> Sent:
        if message.state == "resolved" and config.get("priority") == 2:
            self._cancel(config, message)
        priority = config.get("priority", 0)
        if message.urgent and message.state != "resolved":
            priority = max(priority, 1)
        form = {
            "token": config["token"],
            "user": config["user"],
            "title": truncate(message.title(), 250),
            "message": truncate(message.text(), 1024),
            "priority": str(priority),
        }
        if priority == 2:
            form |= {"retry": "60", "expire": "3600", "tags": self.tag(message)}
        if url := message.first.url:
            form |= {"url": url[:512], "url_title": "Open in Governor"}
        for key in ("device", "sound"):
            if config.get(key):
                form[key] = config[key]
        response = http.request(
            "POST",
            f"{_base()}/1/messages.json",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            content=urlencode(form).encode(),
        )
        body = response.json()
        if response.status == 200 and body.get("status") == 1:
            return Sent(str(body.get("request", "")), 200)
        raise classify(response, body)

    def _cancel(self, config: dict, message: Message) -> None:
        # Best effort: an emergency alert left ringing is annoying, not a lost alert.
        with contextlib.suppress(TransportError):
            http.request(
                "POST",
                f"{_base()}/1/receipts/cancel_by_tag/{self.tag(message)}.json",
                headers={"Content-Type": "application/x-www-form-urlencoded"},
                content=urlencode({"token": config["token"]}).encode(),
            )


def classify(response: http.Response, body: dict) -> TransportError:
    status = response.status
    errors = "; ".join(str(e) for e in body.get("errors") or []) or response.text[:200]
    if status == 429:
        reset = response.headers.get("x-limit-app-reset")
        wait = None
        if reset and reset.isdigit():
            wait = max(int(reset) - time.time(), MIN_RETRY_SECONDS)
        return TransportError(
            Outcome.RATE_LIMITED, f"Pushover message quota used up: {errors}", status=status, retry_after=wait
        )
    if 400 <= status < 500:
        if body.get("user") == "invalid":
            return TransportError(
                Outcome.PERMANENT, f"Pushover says the user key is invalid: {errors}", status=status
            )
        if body.get("token") == "invalid":
            return TransportError(
                Outcome.PERMANENT, f"Pushover says the application token is invalid: {errors}", status=status
            )
        return TransportError(
            Outcome.REJECTED, f"Pushover refused the message ({status}): {errors}", status=status
        )
    return TransportError(
        Outcome.TRANSIENT, f"Pushover error {status}: {errors}", status=status, retry_after=MIN_RETRY_SECONDS
    )
