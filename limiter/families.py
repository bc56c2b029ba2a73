"""Model string → family name (hook API contract §7). Pure."""

from __future__ import annotations

import unicodedata

# Annotations only, for mypy: `collections.abc` would cost the hook client's offline start-up ≈ 1.5 ms.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

BUILTIN_FAMILIES = ("opus", "sonnet", "haiku")
DEFAULT_FAMILY = "default"
DEFAULT_ALIASES = {"best": "opus"}
_LOWER = frozenset("abcdefghijklmnopqrstuvwxyz")
_NAME_CHARS = _LOWER | frozenset("0123456789_")

# What to do with a model name that maps to no family the team knows (a Team setting).
UNKNOWN_COSTLIEST, UNKNOWN_AS_DEFAULT, UNKNOWN_DENY = "costliest", "default", "deny"
UNKNOWN_POLICIES = (UNKNOWN_COSTLIEST, UNKNOWN_AS_DEFAULT, UNKNOWN_DENY)

# Letters from other scripts that render like the Latin ones model names use; NFKC leaves them alone.
# Kept to what looks alike in common fonts: enough that `opus` spelled with a Cyrillic o (\u043e) is opus.
_LOOKALIKES = {
    "a": "\u0430\u0251\u03b1",
    "b": "\u044c\u0432\u03b2",
    "c": "\u0441\u03f2\u03c2",
    "d": "\u0501",
    "e": "\u0435\u03b5\u04bd",
    "g": "\u0261\u0581",
    "h": "\u04bb\u0570",
    "i": "\u0456\u0131\u03b9\u0269",
    "j": "\u0458\u0237\u03f3",
    "k": "\u03ba\u043a",
    "l": "\u04cf",
    "m": "\u043c",
    "n": "\u043f\u0578\u03b7",
    "o": "\u043e\u03bf\u0585\u03c3",
    "p": "\u0440\u03c1",
    "q": "\u051b",
    "r": "\u0433",
    "s": "\u0455",
    "t": "\u0442\u03c4",
    "u": "\u03c5\u057d\u03bc",
    "v": "\u03bd\u0475",
    "w": "\u051d\u03c9\u0461",
    "x": "\u0445\u03c7",
    "y": "\u0443\u04af\u03b3",
    "-": "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe63",
}
_FOLD = str.maketrans({c: latin for latin, chars in _LOOKALIKES.items() for c in chars})
# Invisible or decorative: format characters (zero-width space, joiners, direction marks), combining marks
# (an accent on a letter), controls and private-use code points.
_DROPPED_CATEGORIES = {"Cf", "Cc", "Co", "Cs", "Mn", "Me", "Mc"}

# Plain string tests instead of regular expressions: `re` (with `enum`) is a quarter of what the hook
# client imports to decide offline.


def _without_bracket_suffix(text: str) -> str:
    """`opus[1m]` → `opus`: a trailing `[…]` with no `]` inside goes (from its first `[`)."""
    if not text.endswith("]"):
        return text
    previous_close = text.rfind("]", 0, len(text) - 1)
    start = text.find("[", previous_close + 1, len(text) - 1)
    return text if start < 0 else text[:start]


def _is_word(text: str) -> bool:
    """Lower-case ASCII letters only, at least one."""
    return text.isascii() and text.isalpha() and text.islower()


def normalize_family(
    model: object,
    *,
    extra_families: Iterable[str] = (),
    aliases: Mapping[str, str] | None = None,
) -> str:
    """Return the family of a raw model id: `claude-opus-4-1-20250805` → `opus`; unknown → `default`."""
    if not isinstance(model, str):
        return DEFAULT_FAMILY
    s = _without_bracket_suffix(model.strip().lower()).strip()
    if not s:
        return DEFAULT_FAMILY
    alias_map = DEFAULT_ALIASES if aliases is None else aliases
    s = alias_map.get(s, s)
    for family in (*BUILTIN_FAMILIES, *extra_families):
        if family in s:
            return family
    if s.startswith("claude-"):
        for token in s[len("claude-") :].split("-"):
            if _is_word(token):
                return token[:32]
        return DEFAULT_FAMILY
    if _is_word(s) and is_valid_family(s):
        return s
    return DEFAULT_FAMILY


def fold_model_name(model: str) -> str:
    """The plain lower-case spelling of a model name as a reader would see it.

    NFKC turns compatibility forms (fullwidth, mathematical letters, ligatures) into plain ones; splitting
    accents off (NFD) lets them be dropped with the invisible characters; look-alike letters from other
    scripts become Latin; all whitespace goes, so `o p u s` and `opus` are one name.
    """
    text = unicodedata.normalize("NFD", unicodedata.normalize("NFKC", model).casefold())
    kept = "".join(
        c for c in text if not c.isspace() and unicodedata.category(c) not in _DROPPED_CATEGORIES
    )
    return unicodedata.normalize("NFKC", kept.translate(_FOLD))


def known_families(extra_families: Iterable[str] = (), weights: Mapping[str, int] | None = None) -> list:
    """The families a team recognises: the built-in ones, its extra ones, and any it has priced."""
    names = [*BUILTIN_FAMILIES, *extra_families, *(f for f in (weights or {}) if f != DEFAULT_FAMILY)]
    return list(dict.fromkeys(names))


def costliest_family(known: Iterable[str], weights: Mapping[str, int]) -> str:
    """The known family with the highest price; the first in order among equals."""
    fallback = weights.get(DEFAULT_FAMILY, 1)
    best, best_price = DEFAULT_FAMILY, -1
    for family in known:
        price = weights.get(family, fallback)
        if price > best_price:
            best, best_price = family, price
    return best


def resolve_family(
    model: object,
    *,
    extra_families: Iterable[str] = (),
    aliases: Mapping[str, str] | None = None,
    weights: Mapping[str, int] | None = None,
    unknown_policy: str = UNKNOWN_COSTLIEST,
) -> tuple:
    """(family, recognised). A name the team does not know is charged by its policy: as the costliest
    known family (also under `deny`, for a turn that ran anyway) or as `default`."""
    extra = list(extra_families)
    folded = fold_model_name(model) if isinstance(model, str) else model
    family = normalize_family(folded, extra_families=extra, aliases=aliases)
    known = known_families(extra, weights)
    if family in known:
        return family, True
    if unknown_policy == UNKNOWN_AS_DEFAULT:
        return DEFAULT_FAMILY, False
    return costliest_family(known, weights or {}), False


def is_valid_family(name: str) -> bool:
    """A lower-case ASCII letter, then up to 31 of letters, digits and `_`."""
    return 0 < len(name) <= 32 and name[0] in _LOWER and all(c in _NAME_CHARS for c in name)
