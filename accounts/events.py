"""Domain events of account polling, for the alerts and monitoring apps.

Subscribers register with `subscribe(handler)` (e.g. in their AppConfig.ready) and receive every event after
the database transaction that produced it has committed. A failing subscriber is logged and never breaks a
poll or another subscriber.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction

from monitoring import eventlog

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SnapshotRecorded:
    account_id: int
    label: str
    snapshot_id: int
    taken_at: datetime
    utilization: dict[str, float | None]  # limit_type → % (None = unknown)


@dataclass(frozen=True)
class UtilizationChanged:
    """A window's value moved (or became known/unknown): the input of threshold alerts."""

    account_id: int
    label: str
    limit_type: str
    previous: float | None
    current: float | None
    resets_at: datetime | None


@dataclass(frozen=True)
class CredentialStateChanged:
    account_id: int
    label: str
    previous: str
    current: str
    error: str


@dataclass(frozen=True)
class WindowResetDetected:
    account_id: int
    label: str
    limit_type: str
    kind: str  # reset | early | drift
    previous_resets_at: datetime | None
    resets_at: datetime | None


Event = SnapshotRecorded | UtilizationChanged | CredentialStateChanged | WindowResetDetected
Handler = Callable[[Event], None]

_handlers: list[Handler] = []


def subscribe(handler: Handler) -> Handler:
    if handler not in _handlers:
        _handlers.append(handler)
    return handler


def unsubscribe(handler: Handler) -> None:
    if handler in _handlers:
        _handlers.remove(handler)


def _dispatch(event: Event) -> None:
    log.info("accounts event %s", event)  # events carry labels and numbers, never credentials
    for handler in list(_handlers):
        try:
            handler(event)
        except Exception:
            log.exception("accounts event subscriber %r failed on %s", handler, type(event).__name__)


def publish(event: Event) -> None:
    """Log now (in the caller's transaction), deliver after commit; outside a transaction, at once."""
    _log(event)
    transaction.on_commit(lambda: _dispatch(event))


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _log(event: Event) -> None:
    """The durable row in monitoring's event log; utilization moves are covered by the poll's own row."""
    if isinstance(event, SnapshotRecorded):
        data = {"label": event.label, "outcome": "ok", "snapshot": event.snapshot_id}
        data["utilization"] = event.utilization
        eventlog.record(eventlog.POLL_RESULT, account_id=event.account_id, at=event.taken_at, data=data)
    elif isinstance(event, CredentialStateChanged):
        data = {"label": event.label, "before": event.previous, "after": event.current, "error": event.error}
        eventlog.record(eventlog.CREDENTIAL_STATE, account_id=event.account_id, data=data)
    elif isinstance(event, WindowResetDetected):
        data = {"label": event.label, "limit_type": event.limit_type, "kind": event.kind}
        data |= {"previous_resets_at": _iso(event.previous_resets_at), "resets_at": _iso(event.resets_at)}
        eventlog.record(eventlog.WINDOW_RESET, account_id=event.account_id, data=data)
