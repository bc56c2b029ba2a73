"""ntfy (self-hosted push): JSON publish to the server root with the topic in the body.

The topic on a public server is effectively a password, so it is masked like a token.
"""

import json
import re

from django.conf import settings

from . import http
from .base import ConfigError, Message, Outcome, Sent, Transport, TransportError, truncate

_TOPIC = re.compile(r"^[-_A-Za-z0-9]{1,64}$")


class NtfyTransport(Transport):
    kind = "ntfy"
    label = "ntfy"
    secret_fields = ("topic", "token")
    default_rate_per_minute = 30

    def validate(self, config: dict) -> dict:
        server = str(config.get("server") or getattr(settings, "ALERTS_NTFY_URL", "https://ntfy.sh"))
        server = server.strip().rstrip("/")
        http.check_url(server)
        topic = str(config.get("topic") or "").strip()
        if not _TOPIC.match(topic):
            raise ConfigError("The topic is 1-64 letters, digits, '-' or '_'.")
        cleaned: dict = {"server": server, "topic": topic}
        if token := str(config.get("token") or "").strip():
            cleaned["token"] = token
        try:
            priority = int(config.get("priority") or 3)
        except (TypeError, ValueError):
            raise ConfigError("Priority is 1 (min) to 5 (max).") from None
        if not 1 <= priority <= 5:
            raise ConfigError("Priority is 1 (min) to 5 (max).")
        cleaned["priority"] = priority
        return cleaned

    def payload(self, config: dict, message: Message) -> dict:
        priority = config.get("priority", 3)
        if message.urgent and message.state != "resolved":
            priority = 5
        tag = {"resolved": "white_check_mark", "test": "test_tube"}.get(message.state, "warning")
        body = {
            "topic": config["topic"],
            "title": truncate(message.title(), 250),
            "message": truncate(message.text(), 4000),
            "priority": priority,
            "tags": [tag],
        }
        if message.first.url:
            body["click"] = message.first.url
        return body

    def send(self, config: dict, message: Message) -> Sent:
        headers = {"Content-Type": "application/json"}
        if config.get("token"):
            headers["Authorization"] = f"Bearer {config['token']}"
        response = http.request(
            "POST",
            config["server"] + "/",
            headers=headers,
            content=json.dumps(self.payload(config, message)).encode(),
        )
        if response.status == 200:
            return Sent(str(response.json().get("id", "")), 200)
        body = response.json()
        text = str(body.get("error") or response.text)[:200]
        if response.status in (401, 403):
            raise TransportError(
                Outcome.PERMANENT,
                f"ntfy refused the token or topic ({response.status}: {text})",
                status=response.status,
            )
        error = http.generic_outcome(response)
        assert error is not None  # noqa: S101
        raise error
