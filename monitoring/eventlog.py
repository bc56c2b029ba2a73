"""The event log (architecture §4): one row per change, in the change's own transaction, then a live publish.

Other apps call `record()` from their services inside the transaction that makes the change: the row commits
or rolls back with it, and the live feed hears of it only after commit. Readers (the live relay, a browser's
backfill, the alert evaluator, the history pages) walk the log by id with `events_after()`.
"""

from collections.abc import Iterable
from datetime import datetime, timedelta
from uuid import UUID

from django.db import transaction
from django.utils import timezone

from . import broadcast, feed
from .models import Event

SEAT_STATUS = "seat.status"
# The first block of a seat in a window, and a counted turn taking a credit budget past a 5 % step.
SEAT_BLOCKED = "seat.blocked"
SEAT_CREDITS = "seat.credits"
RULE_CHANGED = "rule.changed"
SETTING_CHANGED = "setting.changed"
INSTALL_CODE_ISSUED = "install_code.issued"
TOKEN_REVOKED = "token.revoked"  # noqa: S105 - an event kind, not a secret
POLL_RESULT = "poll.result"
CREDENTIAL_STATE = "credential.state"
WINDOW_RESET = "window.reset"
ALERT_FIRED = "alert.fired"
ALERT_DELIVERED = "alert.delivered"
ALERT_FAILED = "alert.failed"


def record(
    kind: str,
    *,
    seat_id: UUID | str | None = None,
    account_id: int | None = None,
    actor: str = "",
    data: dict | None = None,
    at: datetime | None = None,
) -> Event:
    """Writes one event now and publishes it to the live feed once the surrounding transaction commits.

    `seat_id` is a seat's UUID (seats have UUID keys), `account_id` a Claude account's integer key.
    `data` must be JSON-serialisable and never hold a secret: it is shown to every staff member.
    """
    if at is not None and timezone.is_naive(at):
        raise ValueError("Event times must be timezone-aware.")
    event = Event.objects.create(
        kind=kind[:64],
        at=at or timezone.now(),
        seat_id=seat_id,
        account_id=account_id,
        actor=(actor or "")[:150],
        data=data or {},
    )
    transaction.on_commit(lambda: broadcast.publish(feed.present_event(event)))
    return event


def events_after(event_id: int, *, limit: int = 500, kinds: Iterable[str] | None = None) -> list[Event]:
    """Events with an id above `event_id`, oldest first, at most `limit` of them."""
    rows = Event.objects.filter(id__gt=event_id)
    if kinds is not None:
        rows = rows.filter(kind__in=list(kinds))
    return list(rows.order_by("id")[: max(0, limit)])


def last_event_id() -> int:
    return Event.objects.order_by("-id").values_list("id", flat=True).first() or 0


def events_of_seat(seat_id: UUID | str, *, limit: int = 100) -> list[Event]:
    """A seat's trail, newest first."""
    return list(Event.objects.filter(seat_id=seat_id).order_by("-id")[:limit])


def events_of_account(
    account_id: int, *, limit: int = 100, kinds: Iterable[str] | None = None
) -> list[Event]:
    rows = Event.objects.filter(account_id=account_id)
    if kinds is not None:
        rows = rows.filter(kind__in=list(kinds))
    return list(rows.order_by("-id")[:limit])


def prune(*, retention_days: int, now: datetime | None = None) -> int:
    """Drops events older than the retention; returns how many went."""
    cutoff = (now or timezone.now()) - timedelta(days=retention_days)
    return Event.objects.filter(at__lt=cutoff).delete()[0]
