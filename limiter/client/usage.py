"""The usage table shown in deny messages and by `status`: the server's windows and message formats."""

from ..families import BUILTIN_FAMILIES
from ..messages import format_when
from ..windows import SLIDING_24H, WINDOWS, window_bounds
from .tally import team_zone


def countdown(delta_seconds):
    minutes = max(0, int(delta_seconds // 60))
    days, minutes = divmod(minutes, 1440)
    hours, minutes = divmod(minutes, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes:02d}m"
    return f"{minutes}m"


def _bar(used, limit, width=12):
    if limit is None or limit < 0:
        return "·" * width
    if limit == 0:
        return "█" * width
    filled = min(width, round(width * used / float(limit)))
    return "█" * filled + "░" * (width - filled)


def usage_lines(report, state, now, bars=False):
    """One line per model family and window it is limited in, then the credit line."""
    tz = team_zone(state)
    limits = report.get("limits") if isinstance(report.get("limits"), list) else state.get("limits") or []
    usage = report.get("usage") if isinstance(report.get("usage"), dict) else {}
    families = list(BUILTIN_FAMILIES) + [f for f in state.get("extra_families") or [] if isinstance(f, str)]
    for window in WINDOWS:
        for family in (usage.get(window) or {}).get("counts") or {}:
            if family not in families and family != "default":
                families.append(family)
    if any(((usage.get(w) or {}).get("counts") or {}).get("default") for w in WINDOWS):
        families.append("default")
    lines = []
    for family in families:
        rules = [
            r
            for r in limits
            if r.get("type") == "per_model"
            and r.get("model") in (None, family)
            and r.get("window") in WINDOWS
        ]
        if not rules:
            used = ((usage.get("daily") or {}).get("counts") or {}).get(family, 0)
            lines.append(f"  {family:<8} {'today':<12} {_bar(used, -1) if bars else ''} {used:>7}  no limit")
            continue
        for rule in rules:
            window = rule["window"]
            used = ((usage.get(window) or {}).get("counts") or {}).get(family, 0)
            limit = rule.get("value")
            shown = f"{used}/{'∞' if limit == -1 else limit}"
            bar = _bar(used, limit) if bars else ""
            lines.append(
                f"  {family:<8} {window:<12} {bar} {shown:>7}  {_reset_text(window, now, tz)}"
            )
    balance, budget = report.get("credit_balance"), report.get("credit_budget")
    credit_rules = [r for r in limits if r.get("type") == "credits" and isinstance(r.get("value"), int)]
    for rule in credit_rules:
        if rule["value"] < 0:
            continue
        window = rule.get("window")
        used = (usage.get(window) or {}).get("totalCredits", 0)
        bar = _bar(used, rule["value"]) if bars else ""
        shown = f"{used}/{rule['value']}"
        left = max(0, rule["value"] - used)
        resets = _reset_text(window, now, tz)
        lines.append(f"  {'credits':<8} {window:<12} {bar} {shown:>7}  {left} left, {resets}")
    if balance is not None:
        lines.append(f"Credit balance: {balance}/{budget}")
    return lines


def _reset_text(window, now, tz):
    if window == SLIDING_24H:
        return "rolling 24 h"
    end = window_bounds(window, now, tz)[1]
    if end is None:
        return ""
    return f"resets {format_when(end, tz)}, in {countdown((end - now).total_seconds())}"


def deny_message(reason, report, state, resets_at, now, offline_note=None):
    parts = [reason.strip() or "Claude Governor blocked this prompt."]
    if offline_note:
        parts.append(offline_note)
    if state is not None and report is not None:
        parts.append("Usage by model:\n" + "\n".join(usage_lines(report, state, now)))
    if resets_at is not None and state is not None:
        tz = team_zone(state)
        parts.append(
            f"Allowed again: {format_when(resets_at, tz)} "
            f"(in {countdown((resets_at - now).total_seconds())})."
        )
    return "\n\n".join(parts)[:9500]

