"""Discord webhooks (contract §2): embeds, `?wait=true` for a message id, 404/401 mean the webhook is gone."""

import json
import re
from urllib.parse import urlencode, urlsplit, urlunsplit

from config.retry_after import seconds_until_retry

from . import http
from .base import ConfigError, Message, Outcome, Sent, Transport, TransportError, require_str, truncate

_PATH = re.compile(r"^/api/(v\d+/)?webhooks/\d+/[\w-]+/?$")
_MARKDOWN = re.compile(r"([\\*_`~|>])")
RED, GREEN, AMBER, GREY = 15158332, 3066993, 15105570, 9807270
EMBED_LIMIT = 10
EMBEDS_TOTAL = 6000


def escape(text: str) -> str:
    """User-supplied strings (account labels) never format text or ping anyone."""
    return _MARKDOWN.sub(r"\\\1", text)


def _colour(state: str, urgent: bool) -> int:
    if state == "resolved":
        return GREEN
    if state == "test":
        return GREY
    return RED if urgent else AMBER


class DiscordTransport(Transport):
    kind = "discord"
    label = "Discord webhook"
    secret_fields = ("url",)
    default_rate_per_minute = 30  # 30 messages / minute per channel, about 5 / 2 s per webhook

    def validate(self, config: dict) -> dict:
        url = require_str(config, "url", "The webhook URL")
        parts = urlsplit(url)
        if parts.hostname in ("discordapp.com", "www.discordapp.com"):
            parts = parts._replace(netloc="discord.com")  # legacy host (contract §2)
        if not _PATH.match(parts.path):
            raise ConfigError(
                "This is not a Discord webhook URL: expected https://discord.com/api/webhooks/<id>/<token>."
            )
        url = urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/"), "", ""))
        http.check_url(url)
        cleaned = {"url": url}
        thread_id = str(config.get("thread_id") or "").strip()
        if thread_id and not thread_id.isdigit():
            raise ConfigError("The thread id is a number (right-click the thread → Copy Thread ID).")
        if thread_id:
            cleaned["thread_id"] = thread_id
        if username := str(config.get("username") or "").strip():
            cleaned["username"] = username[:80]
        return cleaned

    def payload(self, config: dict, message: Message) -> dict:
        embeds, used = [], 0
        for alert in message.alerts[:EMBED_LIMIT]:
            title = truncate(escape(alert.title), 256)
            description = truncate(escape(alert.message), 1024)
            embed: dict[str, object] = {
                "title": title,
                "description": description,
                "color": _colour(alert.state, alert.urgent),
            }
            fields: list[dict] = []
            if alert.limit_type:
                fields.append({"name": "Limit", "value": escape(alert.limit_type), "inline": True})
            if alert.pct is not None:
                fields.append({"name": "Usage", "value": f"{alert.pct}%", "inline": True})
            if fields:
                embed["fields"] = fields
            if alert.resets_at:
                embed["timestamp"] = alert.resets_at.isoformat()
            size = len(title) + len(description) + sum(len(f["name"] + f["value"]) for f in fields)
            if used + size > EMBEDS_TOTAL - 100:
                break
            embeds.append(embed)
            used += size
        left = len(message.alerts) - len(embeds)
        body: dict = {
            "content": f"…and {left} more alerts" if left else None,
            "allowed_mentions": {"parse": []},
            "embeds": embeds,
        }
        if config.get("username"):
            body["username"] = config["username"]
        return body

    def send(self, config: dict, message: Message) -> Sent:
        query = {"wait": "true"}
        if config.get("thread_id"):
            query["thread_id"] = config["thread_id"]
        response = http.request(
            "POST",
            f"{config['url']}?{urlencode(query)}",
            headers={"Content-Type": "application/json"},
            content=json.dumps(self.payload(config, message)).encode(),
        )
        if response.status in (200, 204):
            return Sent(str(response.json().get("id", "")), response.status)
        raise classify(response)


def classify(response: http.Response) -> TransportError:
    body = response.json()
    code, text = body.get("code"), str(body.get("message") or response.text)[:200]
    status = response.status
    if status == 404:
        return TransportError(
            Outcome.PERMANENT, f"Discord says this webhook was deleted (404, code {code})", status=status
        )
    if status == 401:
        return TransportError(
            Outcome.PERMANENT, f"Discord rejected the webhook token (401, code {code})", status=status
        )
    if status == 429:
        hints = [
            seconds_until_retry(response.headers.get("retry-after")),
            _float(body.get("retry_after")),
            _float(response.headers.get("x-ratelimit-reset-after")),
        ]
        known = [h for h in hints if h]
        scope = response.headers.get("x-ratelimit-scope", "")
        return TransportError(
            Outcome.RATE_LIMITED,
            f"Discord rate limit ({scope or 'webhook'}): {text}",
            status=status,
            retry_after=max(known) if known else None,
        )
    if status >= 500:
        return TransportError(Outcome.TRANSIENT, f"Discord error {status}: {text}", status=status)
    return TransportError(
        Outcome.REJECTED, f"Discord refused the message ({status}, code {code}): {text}", status=status
    )


def _float(value) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if number > 0 else None
