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
    """Deliver after commit; outside a transaction, at once."""
    transaction.on_commit(lambda: _dispatch(event))
