"""Placeholder substitution for user templates (contract §6). Pure.

Only the exact `{name}` tokens below are replaced; every other brace passes through, so JSON templates need no
escaping. Never `str.format` on a user template: it would evaluate attribute and index lookups.
"""

import json
import re
from urllib.parse import quote

PLACEHOLDERS = (
    "title",
    "message",
    "account",
    "pct",
    "limit_type",
    "threshold",
    "state",
    "resets_at",
    "event_id",
    "seat",
    "url",
)
_TOKEN = re.compile(r"\{(" + "|".join(PLACEHOLDERS) + r")\}")
# Values that are numbers go into JSON bare (`"pct": {pct}` → `"pct": 90`); the rest JSON-escaped, unquoted.
NUMERIC = frozenset({"pct", "threshold"})

SAMPLE = {
    "title": "acct-42: 90% of 5-hour limit",
    "message": "acct-42 reached 90% of its 5-hour limit (threshold 90%). Resets 2026-11-22 14:00 UTC.",
    "account": "acct-42",
    "pct": 90,
    "limit_type": "5-hour",
    "threshold": 90,
    "state": "firing",
    "resets_at": "2026-11-22T14:00:00Z",
    "event_id": "0",
    "seat": "",
    "url": "",
}

DEFAULT_BODY = (
    '{"title":"{title}","message":"{message}","account":"{account}","pct":{pct},"limit_type":"{limit_type}"}'
)


def _json_value(name: str, value: object) -> str:
    if name in NUMERIC:
        return "null" if value is None else str(int(value))  # type: ignore[call-overload]
    return json.dumps("" if value is None else str(value))[1:-1]


def render_json(template: str, values: dict[str, object]) -> str:
    return _TOKEN.sub(lambda m: _json_value(m.group(1), values.get(m.group(1))), template)


def render_text(template: str, values: dict[str, object]) -> str:
    return _TOKEN.sub(lambda m: "" if values.get(m.group(1)) is None else str(values[m.group(1)]), template)


def render_url(template: str, values: dict[str, object]) -> str:
    return _TOKEN.sub(
        lambda m: quote("" if values.get(m.group(1)) is None else str(values[m.group(1)]), safe=""), template
    )


def render_body(template: str, values: dict[str, object], content_type: str) -> str:
    if content_type == "application/json":
        return render_json(template, values)
    return render_text(template, values)


def validate_body(template: str, content_type: str) -> str:
    """The body rendered with sample values; ValueError when a JSON template does not give JSON."""
    rendered = render_body(template, SAMPLE, content_type)
    if content_type == "application/json":
        try:
            json.loads(rendered)
        except ValueError as exc:
            raise ValueError(f"With sample values the body is not valid JSON: {exc}") from None
    return rendered
