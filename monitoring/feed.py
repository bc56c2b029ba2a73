"""Live feed messages (contracts/hook-api-v1.md §11 plus our own kinds), built from log rows. Pure: no ORM.

Every message names its stream and row id so a browser can resume: `e` the monitoring event log, `s` the
limiter's session events (prompts allowed and blocked), `u` the limiter's counted turns. The cursor
`e<id>.s<id>.u<id>` is the highest id seen per stream.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone

EVENT, SESSION, USAGE = "e", "s", "u"
STREAMS = (EVENT, SESSION, USAGE)


def _ts(moment: datetime) -> str:
    return moment.isoformat()


def present_event(event) -> dict:
    """A monitoring Event row as a feed message; seat status changes use the v1 vocabulary's names."""
    data = event.data or {}
    message = {
        "stream": EVENT,
        "id": event.id,
        "kind": event.kind,
        "type": event.kind,
        "seatId": str(event.seat_id) if event.seat_id else None,
        "accountId": event.account_id,
        "actor": event.actor,
        "data": data,
        "timestamp": _ts(event.at),
    }
    if event.kind == "seat.status":
        new = data.get("after")
        message |= {
            "type": "user_killed" if new == "killed" else "user_status_change",
            "userId": message["seatId"],
            "userName": data.get("seat", ""),
            "oldStatus": data.get("before"),
            "newStatus": new,
        }
    return message


_ACTIVITY_TYPES = {
    "session_start": "user_status",
    "prompt": "user_check",
    "blocked": "user_blocked",
    "counted": "user_counted",
}


def present_activity(activity) -> dict:
    """A limiter HookActivity (a /sync, /check or /count row) as the v1 message of its kind."""
    message = {
        "stream": SESSION if activity.stream == "session" else USAGE,
        "id": activity.id,
        "kind": f"hook.{activity.kind}",
        "type": _ACTIVITY_TYPES[activity.kind],
        "seatId": str(activity.seat_id),
        "userId": str(activity.seat_id),
        "userName": activity.seat_name,
        "model": activity.family,
        "timestamp": _ts(activity.at),
    }
    if activity.kind == "session_start":
        message["status"] = activity.seat_status
        if activity.hostname:
            message["hostname"] = activity.hostname
    elif activity.kind == "counted":
        message |= {"creditCost": activity.credit_cost, "sessionId": activity.session_id}
        message["modelRaw"] = activity.model_raw
    else:
        message["projectDir"] = activity.project_dir
        if activity.kind == "blocked":
            message["reason"] = activity.reason
    return message


def newest_first(messages: list[dict]) -> list[dict]:
    return sorted(messages, key=lambda m: m["timestamp"], reverse=True)


@dataclass(frozen=True)
class Cursor:
    """Highest id seen per stream; `e12.s340.u200` on the wire."""

    event: int = 0
    session: int = 0
    usage: int = 0

    def __str__(self) -> str:
        return f"{EVENT}{self.event}.{SESSION}{self.session}.{USAGE}{self.usage}"

    @classmethod
    def parse(cls, text: str) -> "Cursor":
        """Raises ValueError on anything but `e<n>.s<n>.u<n>` (parts in any order, missing parts 0)."""
        ids = {EVENT: 0, SESSION: 0, USAGE: 0}
        for part in filter(None, text.strip().split(".")):
            stream, number = part[:1], part[1:]
            if stream not in ids or not number.isdigit() or len(number) > 18:
                raise ValueError(f"bad cursor part {part!r}")
            ids[stream] = int(number)
        return cls(ids[EVENT], ids[SESSION], ids[USAGE])

    def advanced(self, messages: list[dict]) -> "Cursor":
        """This cursor moved past every message given."""
        top = {EVENT: self.event, SESSION: self.session, USAGE: self.usage}
        for message in messages:
            top[message["stream"]] = max(top[message["stream"]], message["id"])
        return Cursor(top[EVENT], top[SESSION], top[USAGE])


def _pct(value) -> str:
    return "?" if value is None else f"{value:g}%"


SETTING_SCOPES = {"accounts": "Account polling settings", "alerts": "Alert settings"}


def describe(message: dict) -> str:
    """One line of plain text for the feed; static/monitoring/dashboard.js mirrors this for live rows."""
    kind, data, who = message.get("type", ""), message.get("data") or {}, message.get("userName", "")
    by = f" by {message['actor']}" if message.get("actor") else ""
    if kind == "user_check":
        return f"{who}: prompt ({message.get('model')}) in {message.get('projectDir') or '?'}"
    if kind == "user_blocked":
        return f"{who}: blocked ({message.get('model')}): {message.get('reason', '')}"
    if kind == "user_counted":
        return f"{who}: turn counted ({message.get('model')}, {message.get('creditCost')} credits)"
    if kind == "user_status":
        host = f" on {message['hostname']}" if message.get("hostname") else ""
        return f"{who}: session started ({message.get('model')}){host}"
    if kind in ("user_status_change", "user_killed"):
        return f"{who}: {message.get('oldStatus')} → {message.get('newStatus')}{by}"
    if kind == "rule.changed":
        before, after = data.get("before") or "(none)", data.get("after") or "(deleted)"
        return f"Rule of {data.get('owner', '?')}: {before} → {after}{by}"
    if kind == "setting.changed":
        changes = ", ".join(f"{k}: {b} → {a}" for k, (b, a) in (data.get("changes") or {}).items())
        return f"{SETTING_SCOPES.get(str(data.get('scope')), 'Team settings')}: {changes}{by}"
    if kind == "install_code.issued":
        return f"Install code issued for {data.get('seat', '?')}{by}"
    if kind == "token.revoked":
        verb = "rotated" if data.get("rotated") else "revoked"
        return f"Hook token #{data.get('token')} {verb}{by}"
    if kind == "poll.result":
        levels = ", ".join(f"{k} {_pct(v)}" for k, v in (data.get("utilization") or {}).items())
        detail = f": {levels}" if levels else f": {data.get('error')}" if data.get("error") else ""
        return f"{data.get('label', '?')}: poll {data.get('outcome')}{detail}"
    if kind == "credential.state":
        return f"{data.get('label', '?')}: credential {data.get('before')} → {data.get('after')}"
    if kind == "window.reset":
        return f"{data.get('label', '?')}: {data.get('limit_type')} window {data.get('kind')}"
    if kind in _ALERT_LINES:
        return _ALERT_LINES[kind](data, message["timestamp"])
    return f"{kind}{by}: {data.get('summary') or data.get('title') or ''}".rstrip(": ")


# The limiter's and the alerts app's events, one line each. Times are in the zone the page renders in (the
# team's, activated per request); dashboard.js formats live rows in the same zone, the same way.
_UNITS = {"daily": "day", "day": "day", "weekly": "week", "monthly": "month", "sliding_24h": "24 h"}
_BUDGETS = {"daily": "daily", "weekly": "weekly", "monthly": "monthly", "sliding_24h": "24-hour"}


def _local(iso: str, since: str) -> str:
    """A moment as "00:00 Europe/Berlin", with its date when it is a day or more after `since`."""
    moment = datetime.fromisoformat(iso)
    local = timezone.localtime(moment)
    near = moment - datetime.fromisoformat(since) < timedelta(days=1)
    return f"{local:%H:%M}" if near else f"{local:%Y-%m-%d %H:%M}"


def _zone() -> str:
    return timezone.get_current_timezone_name()


def _blocked(data: dict, at: str) -> str:
    window, limit, cause = data.get("window", ""), data.get("limit"), data.get("cause")
    unit = _UNITS.get(window, window)
    if cause == "per_model" and limit is not None:
        what = f"{data.get('family') or 'all models'} {limit}/{unit} reached"
    elif cause == "credits" and limit is not None:
        what = f"{limit} credits/{unit} reached"
    else:  # time of day, unknown models, events written before the limit was recorded: the reason's headline
        lines = str(data.get("reason") or "").strip().splitlines()
        what = lines[0].rstrip(".") if lines else str(cause or "blocked")
    resets = f" (resets {_local(data['resets_at'], at)} {_zone()})" if data.get("resets_at") else ""
    return f"{data.get('seat', '?')} blocked: {what}{resets}"


def _credits(data: dict, at: str) -> str:
    used, budget = int(data.get("used") or 0), int(data.get("budget") or 0)
    step = used * 100 // budget // 5 * 5 if budget > 0 else 0  # the 5 % step the turn crossed
    window = data.get("window", "")
    label = _BUDGETS.get(window, window)
    return f"{data.get('seat', '?')} used {step}% of the {label} credit budget ({used}/{budget})"


def _titles(titles: list[str]) -> str:
    more = f" (+{len(titles) - 1} more)" if len(titles) > 1 else ""
    return f"{titles[0]}{more}" if titles else ""


def _fired(data: dict, at: str) -> str:
    alerts, silenced = data.get("alerts") or [], data.get("silenced") or []
    titles = [str(a.get("title", "")) for a in alerts] or [str(s.get("title", "")) for s in silenced]
    channels = {c for a in alerts for c in a.get("channels") or []}
    line = f"Alert fired: {_titles(titles)}" if titles else "Alert fired"
    if channels:
        line += f", to {len(channels)} channel{'s' if len(channels) > 1 else ''}"
    if data.get("deferred_until"):
        line += f", held for quiet hours until {_local(data['deferred_until'], at)} {_zone()}"
    if silenced:
        line += f", silenced on {len({s.get('channel') for s in silenced})}"
    return line


def _delivered(data: dict, at: str) -> str:
    titles = _titles([str(t) for t in data.get("titles") or []])
    return f"Alert sent to #{data.get('channel', '?')}" + (f": {titles}" if titles else "")


def _failed(data: dict, at: str) -> str:
    return f"Alert to #{data.get('channel', '?')} failed: {data.get('error') or 'unknown error'}"


_ALERT_LINES = {
    "seat.blocked": _blocked,
    "seat.credits": _credits,
    "alert.fired": _fired,
    "alert.delivered": _delivered,
    "alert.failed": _failed,
}
