"""Model string → family name (hook API contract §7). Pure."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

BUILTIN_FAMILIES = ("opus", "sonnet", "haiku")
DEFAULT_FAMILY = "default"
DEFAULT_ALIASES = {"best": "opus"}
FAMILY_RE = re.compile(r"^[a-z][a-z0-9_]{0,31}$")

_BRACKET_SUFFIX = re.compile(r"\[[^\]]*\]$")
_ALPHA_WORD = re.compile(r"^[a-z]+$")


def normalize_family(
    model: object,
    *,
    extra_families: Iterable[str] = (),
    aliases: Mapping[str, str] | None = None,
) -> str:
    """Return the family of a raw model id: `claude-opus-4-1-20250805` → `opus`; unknown → `default`."""
    if not isinstance(model, str):
        return DEFAULT_FAMILY
    s = _BRACKET_SUFFIX.sub("", model.strip().lower()).strip()
    if not s:
        return DEFAULT_FAMILY
    alias_map = DEFAULT_ALIASES if aliases is None else aliases
    s = alias_map.get(s, s)
    for family in (*BUILTIN_FAMILIES, *extra_families):
        if family in s:
            return family
    if s.startswith("claude-"):
        for token in s[len("claude-") :].split("-"):
            if _ALPHA_WORD.match(token):
                return token[:32]
        return DEFAULT_FAMILY
    if _ALPHA_WORD.match(s) and FAMILY_RE.match(s):
        return s
    return DEFAULT_FAMILY


def is_valid_family(name: str) -> bool:
    return bool(FAMILY_RE.match(name))
