"""Generic HTTP webhook (contract §6): method, URL, headers and a body template per firing / resolved; a
stable `Idempotency-Key` so receivers can drop a retried duplicate."""

from .. import templating
from . import http
from .base import ConfigError, Message, Outcome, Sent, Transport, TransportError

CONTENT_TYPES = ("application/json", "text/plain")
_RESERVED = {"host", "content-length", "content-type", "user-agent", "idempotency-key", "transfer-encoding"}


def _headers(raw) -> dict[str, str]:
    if raw in (None, "", {}):
        return {}
    if not isinstance(raw, dict):
        raise ConfigError("Headers are a JSON object of name → value.")
    cleaned = {}
    for name, value in raw.items():
        name, value = str(name).strip(), str(value)
        if not name or any(c in name for c in " :\r\n\t") or not name.isascii():
            raise ConfigError(f"Header name {name!r} is not a valid HTTP header name.")
        if "\r" in value or "\n" in value:
            raise ConfigError(f"Header {name} contains a line break.")
        try:
            value.encode("latin-1")
        except UnicodeEncodeError:
            raise ConfigError(f"Header {name} has characters outside Latin-1.") from None
        if name.lower() in _RESERVED:
            raise ConfigError(f"Governor sets the {name} header itself.")
        cleaned[name] = value
    return cleaned


class WebhookTransport(Transport):
    kind = "webhook"
    label = "HTTP webhook"
    secret_fields = ("url", "resolved_url", "headers")
    default_rate_per_minute = 60

    def validate(self, config: dict) -> dict:
        method = str(config.get("method") or "POST").upper()
        if method not in ("POST", "PUT"):
            raise ConfigError("Method is POST or PUT.")
        content_type = str(config.get("content_type") or "application/json")
        if content_type not in CONTENT_TYPES:
            raise ConfigError(f"Content type is one of {', '.join(CONTENT_TYPES)}.")
        cleaned: dict = {
            "method": method,
            "content_type": content_type,
            "headers": _headers(config.get("headers")),
        }
        for state in ("firing", "resolved"):
            url_key, body_key = _keys(state)
            url = str(config.get(url_key) or "").strip()
            body = config.get(body_key)
            body = templating.DEFAULT_BODY if body in (None, "") else str(body)
            if url:
                try:
                    http.check_url(templating.render_url(url, templating.SAMPLE))
                    templating.validate_body(body, content_type)
                except ValueError as exc:
                    raise ConfigError(f"{state.title()}: {exc}") from None
            cleaned[url_key], cleaned[body_key] = url, body
        if not cleaned["url"] and not cleaned["resolved_url"]:
            raise ConfigError("Give a URL for firing alerts, for resolved ones, or both.")
        return cleaned

    def is_noop(self, config: dict, state: str) -> bool:
        return not config.get(_keys("resolved" if state == "resolved" else "firing")[0])

    def send(self, config: dict, message: Message) -> Sent:
        url_key, body_key = _keys("resolved" if message.state == "resolved" else "firing")
        values = dict(message.first.values())
        if message.grouped:
            values |= {"title": message.title(), "message": message.text()}
        response = http.request(
            config["method"],
            templating.render_url(config[url_key], values),
            headers={
                **config.get("headers", {}),
                "Content-Type": config["content_type"],
                "Idempotency-Key": message.key,
            },
            content=templating.render_body(config[body_key], values, config["content_type"]).encode(),
            follow_redirects=True,
        )
        if 200 <= response.status < 300:
            return Sent(response.headers.get("x-request-id", ""), response.status)
        if response.status == 410:
            raise TransportError(Outcome.PERMANENT, "The webhook receiver says it is gone (410)", status=410)
        error = http.generic_outcome(response)
        assert error is not None  # noqa: S101 - non-2xx always classifies
        raise error


def _keys(state: str) -> tuple[str, str]:
    return ("url", "body") if state == "firing" else ("resolved_url", "resolved_body")
