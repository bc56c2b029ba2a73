"""The limit decision (hook API contract §6): plain values in, a Decision out. No ORM, no clock.

Also runs in the hook client (Python 3.9+, standard library only): limiter/hook_client/build.py.
"""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

from . import messages
from .windows import SLIDING_24H, SLIDING_SPAN, in_daily_range, next_local_time, window_bounds

# Annotations only, for mypy: importing `typing` or `collections.abc` at run time would cost the hook
# client's offline start-up several milliseconds (mypy honours any constant of this name).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

ACTIVE, PAUSED, KILLED = "active", "paused", "killed"
STATUSES = (ACTIVE, PAUSED, KILLED)
PER_MODEL, CREDITS, TIME_OF_DAY = "per_model", "credits", "time_of_day"
RULE_TYPES = (PER_MODEL, CREDITS, TIME_OF_DAY)
# Rules that cap how many turns (or credits) a window may hold; each admitted prompt reserves against them.
COUNT_BASED = (PER_MODEL, CREDITS)
UNLIMITED = -1
# The cause of a refusal under a team's `deny` policy for model names it does not recognise.
UNKNOWN_MODEL = "unknown_model"

_set = object.__setattr__


class _Value:
    """What `@dataclass(frozen=True)` gave these types (equality, hashing, repr, no assignment) without
    importing `dataclasses`: it imports `inspect` (and with it `ast`, `dis`, `enum`) and compiles each
    class's methods at import, which was half of the hook client's start-up when it decides offline."""

    __slots__: tuple[str, ...] = ()

    def _values(self) -> tuple:
        return tuple(getattr(self, name) for name in self.__slots__)

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self._values() == other._values()

    def __hash__(self) -> int:
        return hash(self._values())

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__slots__)
        return f"{type(self).__name__}({fields})"

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")


class RuleSpec(_Value):
    __slots__ = ("id", "model", "schedule_end", "schedule_start", "schedule_tz", "type", "value", "window")
    id: str
    type: str
    model: str | None
    window: str | None
    value: int | None
    schedule_start: time | None
    schedule_end: time | None
    schedule_tz: str | None

    def __init__(
        self,
        id: str,
        type: str,
        model: str | None = None,
        window: str | None = None,
        value: int | None = None,
        schedule_start: time | None = None,
        schedule_end: time | None = None,
        schedule_tz: str | None = None,
    ) -> None:
        _set(self, "id", id)
        _set(self, "type", type)
        _set(self, "model", model)
        _set(self, "window", window)
        _set(self, "value", value)
        _set(self, "schedule_start", schedule_start)
        _set(self, "schedule_end", schedule_end)
        _set(self, "schedule_tz", schedule_tz)

    def applies_to(self, family: str) -> bool:
        return self.model is None or self.model == family


class CountedTurn(_Value):
    __slots__ = ("cost", "family", "occurred_at")
    occurred_at: datetime
    family: str
    cost: int

    def __init__(self, occurred_at: datetime, family: str, cost: int) -> None:
        _set(self, "occurred_at", occurred_at)
        _set(self, "family", family)
        _set(self, "cost", cost)


class Usage(_Value):
    """What a seat has used: counts and credits per window, and its turns of the last 24 hours.

    `held` is the turns per family that other sessions were admitted for and have not counted yet, and
    `held_credits` their price: a turn in flight is happening now, so it weighs on every window.
    """

    __slots__ = ("counts", "credits", "held", "held_credits", "recent")
    counts: Mapping[str, Mapping[str, int]]
    credits: Mapping[str, int]
    recent: Sequence[CountedTurn]
    held_credits: int
    held: Mapping[str, int]

    def __init__(
        self,
        counts: Mapping[str, Mapping[str, int]],
        credits: Mapping[str, int],
        recent: Sequence[CountedTurn] = (),
        held_credits: int = 0,
        held: Mapping[str, int] | None = None,
    ) -> None:
        _set(self, "counts", counts)
        _set(self, "credits", credits)
        _set(self, "recent", recent)
        _set(self, "held_credits", held_credits)
        _set(self, "held", {} if held is None else held)

    def count(self, window: str, family: str) -> int:
        return self.counts.get(window, {}).get(family, 0) + self.held.get(family, 0)


class Decision(_Value):
    __slots__ = ("allowed", "cause", "reason", "resets_at", "rule_id")
    allowed: bool
    reason: str | None
    resets_at: datetime | None
    cause: str | None
    rule_id: str | None

    def __init__(
        self,
        allowed: bool,
        reason: str | None = None,
        resets_at: datetime | None = None,
        cause: str | None = None,
        rule_id: str | None = None,
    ) -> None:
        _set(self, "allowed", allowed)
        _set(self, "reason", reason)
        _set(self, "resets_at", resets_at)
        _set(self, "cause", cause)
        _set(self, "rule_id", rule_id)


class CreditPosition(_Value):
    __slots__ = ("balance", "budget", "rule", "used")
    rule: RuleSpec
    used: int
    budget: int
    balance: int

    def __init__(self, rule: RuleSpec, used: int, budget: int, balance: int) -> None:
        _set(self, "rule", rule)
        _set(self, "used", used)
        _set(self, "budget", budget)
        _set(self, "balance", balance)


ALLOW = Decision(allowed=True)


def credit_cost(family: str, weights: Mapping[str, int]) -> int:
    """A family's price; a weight of 0 makes it free, so presence of the key decides, not truthiness."""
    if family in weights:
        return weights[family]
    return weights.get("default", 1)


def reserves(rules: Sequence[RuleSpec], family: str, cost: int) -> bool:
    """Whether an admitted prompt must reserve its turn: a cap on its family's turns applies, or a
    credit budget it would spend from (a free family spends nothing)."""
    for rule in rules:
        if rule.value is None or rule.value == UNLIMITED or not rule.applies_to(family):
            continue
        if rule.type == PER_MODEL or (rule.type == CREDITS and cost > 0):
            return True
    return False


def credit_positions(rules: Sequence[RuleSpec], usage: Usage) -> list[CreditPosition]:
    positions = []
    for rule in rules:
        if rule.type != CREDITS or rule.value is None or rule.value < 0 or rule.window is None:
            continue
        used = usage.credits.get(rule.window, 0)
        balance = max(0, rule.value - used - usage.held_credits)
        positions.append(CreditPosition(rule=rule, used=used, budget=rule.value, balance=balance))
    return positions


def tightest_credit_position(rules: Sequence[RuleSpec], usage: Usage) -> CreditPosition | None:
    """The most constraining credits rule: smallest balance, first in order on ties."""
    positions = credit_positions(rules, usage)
    return min(positions, key=lambda p: p.balance) if positions else None


def evaluate(
    *,
    status: str,
    seat_name: str,
    rules: Sequence[RuleSpec],
    family: str,
    usage: Usage,
    weights: Mapping[str, int],
    tz: ZoneInfo,
    now: datetime,
) -> Decision:
    """Killed, paused, time of day, per model, credits: the first deny wins."""
    if status == KILLED:
        return Decision(False, messages.KILLED, cause=KILLED)
    if status == PAUSED:
        return Decision(False, messages.PAUSED, cause=PAUSED)
    for check in (_time_of_day, _per_model, _credits):
        for rule in rules:
            decision = check(rule, family, seat_name, usage, weights, tz, now)
            if decision is not None:
                return decision
    return ALLOW


def refuse_unrecognised(decision: Decision, model: str) -> Decision:
    """A prompt for a model the team does not recognise, under its `deny` policy: refused, unless another
    deny (killed, paused, a limit) already refuses it in its own words."""
    if not decision.allowed:
        return decision
    return Decision(False, messages.unknown_model(model), cause=UNKNOWN_MODEL)


def _time_of_day(rule, family, seat_name, usage, weights, tz, now) -> Decision | None:
    if rule.type != TIME_OF_DAY or not rule.applies_to(family):
        return None
    start, end = rule.schedule_start, rule.schedule_end
    rule_tz = ZoneInfo(rule.schedule_tz or "UTC")
    local = now.astimezone(rule_tz)
    if in_daily_range(local.hour * 60 + local.minute, _minutes(start), _minutes(end)):
        return None
    reason = messages.time_of_day(
        model=rule.model,
        start=f"{start:%H:%M}",
        end=f"{end:%H:%M}",
        rule_tz=rule_tz,
        now=now,
    )
    return Decision(
        False, reason, next_local_time(now, start, rule_tz), cause=TIME_OF_DAY, rule_id=rule.id
    )


def _per_model(rule, family, seat_name, usage, weights, tz, now) -> Decision | None:
    if rule.type != PER_MODEL or not rule.applies_to(family) or rule.value == UNLIMITED:
        return None
    used = usage.count(rule.window, family)
    if used < rule.value:
        return None
    resets_at = None
    if rule.value > 0:
        if rule.window == SLIDING_24H:
            turns = [t for t in usage.recent if t.family == family]
            # The turn whose ageing-out brings the count below the limit.
            index = used - rule.value
            resets_at = turns[index].occurred_at + SLIDING_SPAN if index < len(turns) else None
        else:
            resets_at = window_bounds(rule.window, now, tz)[1]
    reason = messages.per_model(
        window=rule.window,
        family=family,
        seat_name=seat_name,
        used=used,
        limit=rule.value,
        resets_at=resets_at,
        tz=tz,
    )
    return Decision(False, reason, resets_at, cause=PER_MODEL, rule_id=rule.id)


def _credits(rule, family, seat_name, usage, weights, tz, now) -> Decision | None:
    if rule.type != CREDITS or rule.value == UNLIMITED:
        return None
    cost = credit_cost(family, weights)
    used = usage.credits.get(rule.window, 0)
    balance = max(0, rule.value - used - usage.held_credits)
    if balance >= cost:
        return None
    resets_at = None
    # A budget below the price never frees up: no reset to promise.
    if rule.value >= cost and cost > 0:
        if rule.window == SLIDING_24H:
            resets_at = _sliding_credit_reset(usage, rule.value, cost)
        else:
            resets_at = window_bounds(rule.window, now, tz)[1]
    reason = messages.credits(
        window=rule.window,
        family=family,
        seat_name=seat_name,
        used=used,
        budget=rule.value,
        balance=balance,
        cost=cost,
        resets_at=resets_at,
        tz=tz,
    )
    return Decision(False, reason, resets_at, cause=CREDITS, rule_id=rule.id)


def _sliding_credit_reset(usage: Usage, budget: int, cost: int) -> datetime | None:
    must_age_out = usage.credits.get(SLIDING_24H, 0) + usage.held_credits + cost - budget
    aged = 0
    for turn in usage.recent:
        aged += turn.cost
        if aged >= must_age_out:
            return turn.occurred_at + SLIDING_SPAN
    return None


def _minutes(moment: time | None) -> int:
    return moment.hour * 60 + moment.minute if moment else 0
