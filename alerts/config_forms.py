"""A channel's config as form fields, one group per kind, for the admin (instead of a JSON document).

Field names are `<kind>__<key>`, so every kind's fields can live on one form and only the chosen kind's are
read. Secrets (the transport's `secret_fields`) are write-only: the input is never filled in, its help shows
at most the last four characters, and an empty input keeps the stored value. The transport validates the
assembled config exactly as it validates a JSON one (`Channel.set_config`).
"""

import json
from dataclasses import dataclass

from django import forms

from . import transports
from .transports.base import mask


@dataclass(frozen=True)
class Spec:
    key: str
    label: str
    help: str = ""
    type: str = "text"  # text | int | json | textarea


FIELDS: dict[str, tuple[Spec, ...]] = {
    "discord": (
        Spec("url", "Webhook URL", "https://discord.com/api/webhooks/ID/TOKEN"),
        Spec("thread_id", "Thread id", "Optional: post into this thread."),
        Spec("username", "Username", "Optional: the name the messages show."),
    ),
    "slack": (Spec("url", "Webhook URL", "https://hooks.slack.com/services/T…/B…/…"),),
    "pushover": (
        Spec("token", "Application token"),
        Spec("user", "User or group key"),
        Spec("priority", "Priority", "-2 to 2; alerts at 100 % are sent with 1.", "int"),
        Spec("sound", "Sound", "Optional."),
        Spec("device", "Device", "Optional."),
    ),
    "matrix": (
        Spec("room_id", "Room id", "Starts with !, e.g. !abc:example.org"),
        Spec("homeserver", "Homeserver", "Empty: the server-wide bot (MATRIX_HOMESERVER)."),
        Spec("access_token", "Access token", "Empty: the server-wide bot's token."),
    ),
    "webhook": (
        Spec("url", "URL", "Empty: no firing messages."),
        Spec("method", "Method", "POST or PUT."),
        Spec("content_type", "Content type", "application/json unless set."),
        Spec("headers", "Headers", 'A JSON object, e.g. {"Authorization": "Bearer …"}.', "json"),
        Spec(
            "body",
            "Body template",
            "Placeholders: {title} {message} {account} {pct} {limit_type} {threshold} {state} {resets_at} "
            "{event_id} {seat} {url}. Empty: the default JSON body.",
            "textarea",
        ),
        Spec("resolved_url", "Resolved URL", "Empty: no resolved messages."),
        Spec("resolved_body", "Resolved body template", "Empty: the default JSON body.", "textarea"),
    ),
    "email": (Spec("to", "Recipients", "Comma-separated addresses."),),
    "ntfy": (
        Spec("server", "Server", "Empty: ALERTS_NTFY_URL (https://ntfy.sh)."),
        Spec("topic", "Topic", "On a public server the topic is a password: pick a long random one."),
        Spec("token", "Access token", "Optional."),
        Spec("priority", "Priority", "1 to 5.", "int"),
    ),
}


def name(kind: str, key: str) -> str:
    return f"{kind}__{key}"


def _secret(kind: str, key: str) -> bool:
    return key in transports.get(kind).secret_fields


def declared_fields() -> dict[str, forms.Field]:
    """Every kind's fields, to declare on the channel form (the admin lists them in its fieldsets)."""
    fields: dict[str, forms.Field] = {}
    for kind, specs in FIELDS.items():
        for spec in specs:
            widget: forms.Widget | None = None
            if _secret(kind, spec.key):
                widget = forms.PasswordInput(render_value=False, attrs={"autocomplete": "off", "size": 60})
            elif spec.type in ("textarea", "json"):
                widget = forms.Textarea(attrs={"rows": 3, "cols": 80})
            fields[name(kind, spec.key)] = forms.CharField(
                label=spec.label, help_text=spec.help, required=False, widget=widget, strip=True
            )
    return fields


def fieldsets(current_kind: str | None) -> list[tuple[str, dict]]:
    """One group per kind; all but the channel's own kind start collapsed."""
    return [
        (
            f"{transports.get(kind).label} settings",
            {
                "fields": [name(kind, spec.key) for spec in specs],
                "classes": [] if kind == current_kind else ["collapse"],
            },
        )
        for kind, specs in FIELDS.items()
    ]


def fill(form: forms.BaseForm, kind: str, config: dict) -> None:
    """Shows the stored config: plain values as initial values, secrets only as a mask in the help."""
    for spec in FIELDS.get(kind, ()):
        field = form.fields.get(name(kind, spec.key))
        value = config.get(spec.key)
        if field is None or value in (None, "", {}):
            continue
        if _secret(kind, spec.key):
            text = value if isinstance(value, str) else json.dumps(value)
            field.help_text = f"Stored: {mask(text)}. Leave empty to keep it. {spec.help}".strip()
        elif spec.type == "json":
            field.initial = json.dumps(value)
        else:
            field.initial = ", ".join(map(str, value)) if isinstance(value, list) else value


def assemble(form: forms.BaseForm, kind: str, stored: dict) -> dict | None:
    """The config from the kind's fields, stored secrets kept where left empty; None after a field error."""
    raw: dict = {}
    ok = True
    for spec in FIELDS.get(kind, ()):
        field = name(kind, spec.key)
        text = (form.cleaned_data.get(field) or "").strip()
        if not text:
            if _secret(kind, spec.key) and spec.key in stored:
                raw[spec.key] = stored[spec.key]
            continue
        if spec.type == "int":
            try:
                raw[spec.key] = int(text)
            except ValueError:
                form.add_error(field, "A whole number.")
                ok = False
        elif spec.type == "json":
            try:
                raw[spec.key] = json.loads(text)
            except ValueError as exc:
                form.add_error(field, f"Not valid JSON: {exc}")
                ok = False
        else:
            raw[spec.key] = text
    return raw if ok else None
