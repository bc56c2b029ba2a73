"""Kind → transport. Each kind is one small module; imported lazily so a broken one breaks only itself."""

from importlib import import_module

from .base import Transport

KINDS = {
    "discord": ("discord", "DiscordTransport", "Discord webhook"),
    "slack": ("slack", "SlackTransport", "Slack-compatible webhook"),
    "pushover": ("pushover", "PushoverTransport", "Pushover"),
    "matrix": ("matrix", "MatrixTransport", "Matrix room"),
    "webhook": ("webhook", "WebhookTransport", "HTTP webhook"),
    "email": ("email", "EmailTransport", "Email"),
    "ntfy": ("ntfy", "NtfyTransport", "ntfy"),
}
CHOICES = [(kind, label) for kind, (_, _, label) in KINDS.items()]


def get(kind: str) -> Transport:
    module, name, _ = KINDS[kind]
    return getattr(import_module(f"{__name__}.{module}"), name)()
