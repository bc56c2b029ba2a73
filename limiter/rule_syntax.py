"""The compact rule syntax of the `seats` command, e.g. `per_model:opus:daily:5`. Pure."""

import re
from datetime import time

from .engine import CREDITS, PER_MODEL, TIME_OF_DAY
from .families import is_valid_family
from .windows import WINDOWS

SYNTAX_HELP = (
    "per_model:FAMILY|all:WINDOW:VALUE, credits:WINDOW:VALUE or "
    "time_of_day:FAMILY|all:HH:MM-HH:MM[:ZONE]; WINDOW is one of " + ", ".join(WINDOWS)
)
_TIME_OF_DAY = re.compile(
    r"^time_of_day:(?P<model>[^:]+):(?P<start>\d{1,2}:\d{2})-(?P<end>\d{1,2}:\d{2})(?::(?P<tz>.+))?$"
)


class RuleSyntaxError(ValueError):
    pass


def _model(text: str) -> str:
    if text == "all":
        return ""
    if not is_valid_family(text):
        raise RuleSyntaxError(f"{text!r} is not a model family (e.g. opus) or 'all'")
    return text


def _value(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise RuleSyntaxError(f"{text!r} is not a whole number") from None
    if value < -1:
        raise RuleSyntaxError("a limit is -1 (unlimited), 0 (blocked) or a positive number")
    return value


def _window(text: str) -> str:
    if text not in WINDOWS:
        raise RuleSyntaxError(f"{text!r} is not a window ({', '.join(WINDOWS)})")
    return text


def _clock(text: str) -> time:
    hours, minutes = (int(part) for part in text.split(":"))
    if not (0 <= hours <= 23 and 0 <= minutes <= 59):
        raise RuleSyntaxError(f"{text!r} is not a time between 00:00 and 23:59")
    return time(hours, minutes)


def parse_rule(text: str) -> dict:
    """`per_model:opus:daily:5` → the fields of a Rule."""
    match = _TIME_OF_DAY.match(text)
    if match:
        return {
            "type": TIME_OF_DAY,
            "model": _model(match["model"]),
            "schedule_start": _clock(match["start"]),
            "schedule_end": _clock(match["end"]),
            "schedule_tz": match["tz"] or "UTC",
        }
    parts = text.split(":")
    if parts[0] == PER_MODEL and len(parts) == 4:
        return {
            "type": PER_MODEL,
            "model": _model(parts[1]),
            "window": _window(parts[2]),
            "value": _value(parts[3]),
        }
    if parts[0] == CREDITS and len(parts) == 3:
        return {"type": CREDITS, "window": _window(parts[1]), "value": _value(parts[2])}
    raise RuleSyntaxError(f"cannot read rule {text!r}; expected {SYNTAX_HELP}")
