"""JSON through the C accelerator: the json package costs about 7 ms of every hook's start-up."""

# Importing the json package costs about 7 ms of every hook's start-up (its decoder imports `re`, which
# imports `enum`). CPython's `_json` has the same scanner and encoder without those imports; where it is
# missing or differs, the json package is used instead.

import sys

_SCANNER = None


class _ScanContext:
    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int
    memo = None

    @staticmethod
    def parse_constant(name):
        return {"NaN": float("nan"), "Infinity": float("inf"), "-Infinity": float("-inf")}[name]


def _scanner():
    global _SCANNER
    if _SCANNER is None:
        try:
            from _json import make_scanner

            _SCANNER = make_scanner(_ScanContext())  # type: ignore[arg-type]  # duck-typed context
        except (ImportError, AttributeError, TypeError):
            _SCANNER = False  # type: ignore[assignment]  # tried and unavailable
    return _SCANNER or None


def json_loads(text):
    """Like json.loads; raises ValueError on anything that is not exactly one JSON document."""
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    scan = _scanner()
    if scan is None:
        import json

        return json.loads(text)
    start = len(text) - len(text.lstrip(" \t\n\r"))
    try:
        value, end = scan(text, start)
    except StopIteration:
        raise ValueError("Expecting value") from None
    except Exception:
        # Malformed input: the json package gives the authoritative error (the C scanner's error path
        # expects json.decoder to be loaded already).
        import json

        return json.loads(text)
    if text[end:].strip(" \t\n\r"):
        raise ValueError("Extra data")
    return value


def _not_serializable(obj):
    raise TypeError(f"{type(obj).__name__} is not JSON serializable")


def json_dumps(obj):
    """Like json.dumps(obj, sort_keys=True, separators=(",", ":")): compact, ASCII, sorted keys."""
    try:
        from _json import encode_basestring_ascii, make_encoder

        encode = make_encoder(
            None, _not_serializable, encode_basestring_ascii, None, ":", ",", True, False, True
        )
    except (ImportError, TypeError):
        import json

        return json.dumps(obj, sort_keys=True, separators=(",", ":"))
    return "".join(encode(obj, 0))


def pretty_json(obj):
    """For files people read (settings, config); never on the per-prompt path."""
    import json

    return json.dumps(obj, indent=2).encode() + b"\n"


def read_stdin_object():
    """What Claude Code wrote to stdin, as (raw bytes, object): an empty, malformed or non-object input is {},
    so a hook or the status line never fails on what it was handed."""
    raw = sys.stdin.buffer.read() if not sys.stdin.isatty() else b""
    try:
        value = json_loads(raw) if raw.strip() else {}
    except ValueError:
        value = {}
    return raw, value if isinstance(value, dict) else {}
