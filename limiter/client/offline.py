"""Offline decisions: the server's own engine (windows, engine, families, messages) fed from the cache.

Nothing here decides by itself: the cached rules become the engine's RuleSpecs, the last usage report
plus this machine's turns since become its Usage, and `engine.evaluate` answers as the server would.
Imported only when the server gave no decision: the engine's imports cost start-up time.
"""

from datetime import time

from .. import engine, families, windows
from .base import iso
from .tally import tally, team_zone


def _clock(text):
    if not isinstance(text, str):
        return None
    hours, sep, minutes = text.partition(":")
    try:
        return time(int(hours), int(minutes[:2])) if sep else None
    except ValueError:
        return None


def _int(value):
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def rule_specs(limits):
    """The cached `limits` (the server's rule JSON) as the engine's rules, in the server's order.
    A rule the server could not have sent (no window, no value, no times) is left out."""
    specs = []
    for rule in limits if isinstance(limits, list) else []:
        if not isinstance(rule, dict) or rule.get("type") not in engine.RULE_TYPES:
            continue
        window = rule.get("window") if rule.get("window") in windows.WINDOWS else None
        start, end = _clock(rule.get("schedule_start")), _clock(rule.get("schedule_end"))
        if rule["type"] == engine.TIME_OF_DAY:
            if start is None or end is None:
                continue
        elif window is None or _int(rule.get("value")) is None:
            continue
        model = rule.get("model")
        specs.append(
            engine.RuleSpec(
                id=str(rule.get("id") or ""),
                type=rule["type"],
                model=model if isinstance(model, str) and model else None,
                window=window,
                value=_int(rule.get("value")),
                schedule_start=start,
                schedule_end=end,
                schedule_tz=rule.get("schedule_tz") if isinstance(rule.get("schedule_tz"), str) else None,
            )
        )
    return specs


def local_usage(state, now, tz):
    """The engine's Usage from the cache (tally.py); credit holds are not modelled offline."""
    counts, credits, recent = tally(state, now, tz)
    turns = [engine.CountedTurn(occurred_at=at, family=family, cost=cost) for at, family, cost in recent]
    return engine.Usage(counts=counts, credits=credits, recent=turns)


def _unknown_policy(state):
    """The team's policy for unrecognised model names, from /sync; the server's default before any."""
    policy = state.get("unknown_model_policy")
    return policy if policy in families.UNKNOWN_POLICIES else families.UNKNOWN_COSTLIEST


def resolve(state, model):
    """(family, recognised) as the server resolves them: same folding, aliases, extra families and
    unknown-name policy."""
    extra = state.get("extra_families") if isinstance(state.get("extra_families"), list) else ()
    aliases = state.get("model_aliases") if isinstance(state.get("model_aliases"), dict) else None
    weights = state.get("credit_weights") if isinstance(state.get("credit_weights"), dict) else None
    return families.resolve_family(
        model, extra_families=extra, aliases=aliases, weights=weights, unknown_policy=_unknown_policy(state)
    )


def family_of(state, model):
    """The family the server would charge."""
    return resolve(state, model)[0]


def credit_cost(state, family):
    weights = state.get("credit_weights") if isinstance(state.get("credit_weights"), dict) else {}
    return engine.credit_cost(family, weights)


def decide(state, model, now):
    """The server's /check decision for a prompt for `model` at `now`, from the cache: an engine.Decision.
    A model the team does not recognise is refused under its `deny` policy, as the server refuses it."""
    tz = team_zone(state)
    rules = rule_specs(state.get("limits"))
    seat_name = (state.get("seat") or {}).get("name") or "you"
    family, recognised = resolve(state, model)
    decision = engine.evaluate(
        status=state["status"],
        seat_name=seat_name,
        rules=rules,
        family=family,
        usage=local_usage(state, now, tz),
        weights=state.get("credit_weights") if isinstance(state.get("credit_weights"), dict) else {},
        tz=tz,
        now=now,
    )
    if not recognised and _unknown_policy(state) == families.UNKNOWN_DENY:
        return engine.refuse_unrecognised(decision, model)
    return decision


def report_from_local(state, now):
    """A /status-shaped report built offline from the cache, for messages, `status` and the status line."""
    tz = team_zone(state)
    usage = local_usage(state, now, tz)
    rules = rule_specs(state.get("limits"))
    position = engine.tightest_credit_position(rules, usage)
    return {
        "user": state.get("seat") or {},
        "limits": state.get("limits") or [],
        "credit_weights": state.get("credit_weights") or {},
        "credit_balance": position.balance if position else None,
        "credit_budget": position.budget if position else None,
        "usage": {
            window: {
                "counts": dict(usage.counts[window]),
                "totalCredits": usage.credits[window],
                "windowStart": iso(windows.window_bounds(window, now, tz)[0]),
            }
            for window in windows.WINDOWS
        },
    }
