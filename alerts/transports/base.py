"""The transport contract (contract §1): one `send` per kind, a `Sent` on success, or a classified
`TransportError`.

Transports talk to the outside only; they never touch the database. Each kind validates its own config on save
and names which config keys are secrets (masked everywhere they are shown).
"""

import json
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum

ERROR_TEXT_LIMIT = 500


class Outcome(StrEnum):
    SUCCESS = "success"
    PERMANENT = "permanent"  # no retry; the channel is disabled with the reason
    RATE_LIMITED = "rate_limited"  # retry at the provider's time, not earlier
    TRANSIENT = "transient"  # retry with backoff
    REJECTED = "rejected"  # this message is bad: fail the delivery, keep the channel


class TransportError(Exception):
    def __init__(
        self,
        outcome: Outcome,
        message: str,
        *,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        message = message[:ERROR_TEXT_LIMIT]
        super().__init__(message)
        self.outcome = outcome
        self.message = message
        self.status = status
        self.retry_after = retry_after


class ConfigError(ValueError):
    """A channel config that cannot work; the message says what to fix and never repeats a secret."""


@dataclass(frozen=True)
class Sent:
    provider_id: str = ""
    status: int | None = None


@dataclass(frozen=True)
class Alert:
    """One alert's values: the placeholders of contract §6 and the default texts of §10.7."""

    title: str
    message: str
    account: str = ""
    pct: int | None = None
    limit_type: str = ""
    threshold: int | None = None
    state: str = "firing"  # firing | resolved | reminder | test
    resets_at: datetime | None = None
    event_id: str = ""
    seat: str = ""
    url: str = ""
    urgent: bool = False
    kind: str = "threshold"

    def values(self) -> dict[str, object]:
        resets = self.resets_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if self.resets_at else ""
        return {
            "title": self.title,
            "message": self.message,
            "account": self.account,
            "pct": self.pct,
            "limit_type": self.limit_type,
            "threshold": self.threshold,
            "state": self.state,
            "resets_at": resets,
            "event_id": self.event_id,
            "seat": self.seat,
            "url": self.url,
        }

    def to_json(self) -> dict:
        data = self.values() | {"urgent": self.urgent, "kind": self.kind}
        data["resets_at"] = self.resets_at.isoformat() if self.resets_at else None
        return data

    @classmethod
    def from_json(cls, data: dict) -> "Alert":
        resets = data.get("resets_at")
        return cls(
            title=data["title"],
            message=data["message"],
            account=data.get("account", ""),
            pct=data.get("pct"),
            limit_type=data.get("limit_type", ""),
            threshold=data.get("threshold"),
            state=data.get("state", "firing"),
            resets_at=datetime.fromisoformat(resets) if resets else None,
            event_id=str(data.get("event_id", "")),
            seat=data.get("seat", ""),
            url=data.get("url", ""),
            urgent=bool(data.get("urgent")),
            kind=data.get("kind", "threshold"),
        )


@dataclass(frozen=True)
class Message:
    """What one send carries: one alert, or several that arose in one poll cycle (grouped, contract §10)."""

    alerts: tuple[Alert, ...]
    key: str  # stable across retries: Matrix txnId, webhook Idempotency-Key
    extra: dict = field(default_factory=dict)

    @property
    def first(self) -> Alert:
        return self.alerts[0]

    @property
    def grouped(self) -> bool:
        return len(self.alerts) > 1

    @property
    def state(self) -> str:
        states = {a.state for a in self.alerts}
        return states.pop() if len(states) == 1 else "firing"

    @property
    def urgent(self) -> bool:
        return any(a.urgent for a in self.alerts)

    def title(self) -> str:
        if not self.grouped:
            return self.first.title
        accounts = sorted({a.account for a in self.alerts if a.account})
        scope = f" for {', '.join(accounts)}" if 0 < len(accounts) <= 3 else ""
        return f"{len(self.alerts)} alerts{scope}"

    def text(self) -> str:
        """Plain text: the message, or one line per alert when grouped."""
        if not self.grouped:
            return self.first.message
        return "\n".join(f"• {a.title}: {a.message}" for a in self.alerts)


class Transport(ABC):
    kind: str = ""
    label: str = ""
    secret_fields: tuple[str, ...] = ()
    # Sends per minute per channel, from the provider's documented limits (contract §2-§5).
    default_rate_per_minute: int = 30

    @abstractmethod
    def validate(self, config: dict) -> dict:
        """The cleaned config, or ConfigError. Network checks (SSRF guard) happen here and again at send."""

    @abstractmethod
    def send(self, config: dict, message: Message) -> Sent:
        """One attempt; TransportError (with its Outcome) when the provider did not take the message."""

    def is_noop(self, config: dict, state: str) -> bool:
        """True when this channel is configured to ignore this kind of message (webhook: empty URL)."""
        return False


def mask(value: str) -> str:
    """At most the last four characters, never more than a quarter of the secret."""
    value = value or ""
    shown = min(4, len(value) // 4)
    return "…" + value[-shown:] if shown else "…"


def require_str(config: dict, key: str, label: str, *, max_length: int = 2000) -> str:
    value = config.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{label} is required.")
    value = value.strip()
    if len(value) > max_length:
        raise ConfigError(f"{label} is longer than {max_length} characters.")
    return value


def json_body(raw: bytes) -> dict:
    try:
        body = json.loads(raw or b"null")
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
