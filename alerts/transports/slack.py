"""Slack-compatible incoming webhooks (contract §3): `ok` in plain text; errors are plain-text codes."""

import json

from . import http
from .base import Message, Outcome, Sent, Transport, TransportError, require_str

# Slack's codes that mean the webhook itself is dead (contract §1): disable the channel.
_DEAD = {
    "no_service": "Slack says this webhook was revoked",
    "channel_not_found": "Slack says the webhook's channel no longer exists",
    "channel_is_archived": "Slack says the webhook's channel is archived",
    "action_prohibited": "Slack says an admin prohibited posting through this webhook",
    "invalid_token": "Slack says the webhook's token is invalid",
    "no_active_hooks": "Slack says this webhook was deactivated",
}


def escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class SlackTransport(Transport):
    kind = "slack"
    label = "Slack-compatible webhook (Slack, Mattermost, Rocket.Chat, Discord /slack)"
    secret_fields = ("url",)
    default_rate_per_minute = 60  # about one message per second per webhook

    def validate(self, config: dict) -> dict:
        url = require_str(config, "url", "The webhook URL")
        http.check_url(url)
        return {"url": url}

    def payload(self, message: Message) -> dict:
        lines = [f"*{escape(message.title())}*"]
        if message.grouped:
            lines += [f"• *{escape(a.title)}*: {escape(a.message)}" for a in message.alerts]
        else:
            lines.append(escape(message.first.message))
        return {"text": "\n".join(lines)}

    def send(self, config: dict, message: Message) -> Sent:
        response = http.request(
            "POST",
            config["url"],
            headers={"Content-Type": "application/json"},
            content=json.dumps(self.payload(message)).encode(),
        )
        code = response.text.strip()
        if response.status == 200:
            return Sent("", 200)
        if code in _DEAD or response.status in (404, 410):
            reason = _DEAD.get(code, "Slack says this webhook is gone")
            raise TransportError(
                Outcome.PERMANENT, f"{reason} ({response.status} {code})", status=response.status
            )
        error = http.generic_outcome(response)
        if error is None:  # a 2xx other than 200: Slack-compatible servers vary
            return Sent("", response.status)
        raise error
