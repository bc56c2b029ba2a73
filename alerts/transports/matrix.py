"""Matrix room messages (contract §5): PUT with a transaction id derived from the delivery, so a retry never
posts twice; the homeserver returns the same event id for the same (token, txnId)."""

import json
from html import escape
from urllib.parse import quote

from django.conf import settings

from config.retry_after import seconds_until_retry

from . import http
from .base import ConfigError, Message, Outcome, Sent, Transport, TransportError

_PERMANENT = {
    "M_UNKNOWN_TOKEN": "the homeserver rejected the bot's access token",
    "M_MISSING_TOKEN": "the homeserver got no access token",
    "M_FORBIDDEN": "the bot may not post in this room (invite it, or check its power level)",
}


def _server_default(name: str) -> str:
    return str(getattr(settings, name, "") or "")


class MatrixTransport(Transport):
    kind = "matrix"
    label = "Matrix room"
    secret_fields = ("access_token",)
    default_rate_per_minute = 10  # Synapse's default rc_message is 0.2/s with a burst of 10

    def validate(self, config: dict) -> dict:
        room = str(config.get("room_id") or "").strip()
        # Room versions 12+ have no ":server" suffix: only the leading "!" is certain.
        if not room.startswith("!") or len(room) < 2 or any(c.isspace() for c in room):
            raise ConfigError("The room id starts with '!' (Room settings → Advanced → Internal room ID).")
        homeserver = str(config.get("homeserver") or "").strip().rstrip("/")
        token = str(config.get("access_token") or "").strip()
        if bool(homeserver) != bool(token):
            raise ConfigError(
                "Give both a homeserver URL and an access token, or neither to use the server's bot."
            )
        if not homeserver and not (
            _server_default("MATRIX_HOMESERVER") and _server_default("MATRIX_ACCESS_TOKEN")
        ):
            raise ConfigError(
                "No homeserver and access token given, and the server has no bot (MATRIX_*) set up."
            )
        cleaned = {"room_id": room}
        if homeserver:
            http.check_url(homeserver)
            cleaned |= {"homeserver": homeserver, "access_token": token}
        return cleaned

    def payload(self, message: Message) -> dict:
        if message.grouped:
            plain = message.title() + "\n" + message.text()
            items = "".join(f"<li><b>{escape(a.title)}</b>: {escape(a.message)}</li>" for a in message.alerts)
            html = f"<b>{escape(message.title())}</b><ul>{items}</ul>"
        else:
            plain = f"{message.first.title}\n{message.first.message}"
            html = f"<b>{escape(message.first.title)}</b><br>{escape(message.first.message)}"
        # m.text, not m.notice: clients may not notify for notices, and people should be pinged.
        return {
            "msgtype": "m.text",
            "body": plain,
            "format": "org.matrix.custom.html",
            "formatted_body": html,
        }

    def send(self, config: dict, message: Message) -> Sent:
        homeserver = config.get("homeserver") or _server_default("MATRIX_HOMESERVER").rstrip("/")
        token = config.get("access_token") or _server_default("MATRIX_ACCESS_TOKEN")
        room = quote(config["room_id"], safe="")
        txn = quote(message.key, safe="")
        response = http.request(
            "PUT",
            f"{homeserver}/_matrix/client/v3/rooms/{room}/send/m.room.message/{txn}",
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            content=json.dumps(self.payload(message)).encode(),
        )
        body = response.json()
        if response.status == 200 and body.get("event_id"):
            return Sent(str(body["event_id"]), 200)
        raise classify(response, body)


def classify(response: http.Response, body: dict) -> TransportError:
    status, code = response.status, str(body.get("errcode") or "")
    text = str(body.get("error") or response.text)[:200]
    if code in _PERMANENT or status in (401, 403):
        reason = _PERMANENT.get(code, "the homeserver refused the bot")
        return TransportError(Outcome.PERMANENT, f"Matrix: {reason} ({status} {code}: {text})", status=status)
    if status == 429:
        # Retry-After is the spec's signal since v1.10; retry_after_ms is the deprecated body field.
        wait = seconds_until_retry(response.headers.get("retry-after"))
        if wait is None and isinstance(body.get("retry_after_ms"), int | float):
            wait = body["retry_after_ms"] / 1000
        return TransportError(
            Outcome.RATE_LIMITED, f"Matrix rate limit: {text}", status=status, retry_after=wait
        )
    if status >= 500 or status == 408:
        return TransportError(Outcome.TRANSIENT, f"Matrix homeserver error {status}: {text}", status=status)
    return TransportError(
        Outcome.REJECTED, f"Matrix refused the message ({status} {code}: {text})", status=status
    )
