"""Admission bookkeeping: the hold an admitted prompt leaves until its count, and where a count lands in time.

Services call these inside their transactions; nothing here opens one.
"""

import uuid
from datetime import datetime, timedelta

from django.db import connection

from . import engine
from .models import CreditHold, Seat

REPLAY_HORIZON = timedelta(days=7)


def lock_seat(seat: Seat) -> None:
    """Serialises admissions of one seat. SQLite needs no row lock: every transaction there begins
    IMMEDIATE (settings), which already admits one writer at a time."""
    if connection.features.has_select_for_update:
        list(Seat.objects.select_for_update().filter(pk=seat.pk).values_list("pk", flat=True))


# A prompt checked without a session id still reserves, under a key of its own (Claude Code's session ids
# are UUIDs, never this prefix); a count without a session id consumes the oldest such hold.
ANONYMOUS_SESSION = "no-session:"


def anonymous_session() -> str:
    return f"{ANONYMOUS_SESSION}{uuid.uuid4().hex}"


def replace_hold(seat, session_id, family, decision, reserve, now) -> None:
    """One open hold per session: an admitted prompt reserves its turn and its price, replacing the
    session's last hold (that turn ended without a count, e.g. the user interrupted it)."""
    if decision.allowed and reserve:
        hold = CreditHold(
            seat=seat,
            session_id=session_id,
            family=family,
            cost=engine.credit_cost(family, seat.team.credit_weights),
            created_at=now,
            expires_at=now + timedelta(seconds=seat.team.hold_ttl_seconds),
        )
        CreditHold.objects.bulk_create(
            [hold],
            update_conflicts=True,
            unique_fields=["seat", "session_id"],
            update_fields=["family", "cost", "created_at", "expires_at"],
        )
    else:
        CreditHold.objects.filter(seat=seat, session_id=session_id).delete()


def take_hold(seat: Seat, session_id: str, now: datetime) -> CreditHold | None:
    """Consumes the hold that admitted this turn: the session's own, or for a count without a session
    the oldest hold of a check that had none. Returns it so the count can be placed at its admission."""
    holds = CreditHold.objects.filter(seat=seat, expires_at__gt=now)
    if session_id:
        holds = holds.filter(session_id=session_id)
    else:
        holds = holds.filter(session_id__startswith=ANONYMOUS_SESSION).order_by("created_at")
    hold = holds.first()
    if session_id:
        # Expired or not, the session's hold is spent by its count.
        CreditHold.objects.filter(seat=seat, session_id=session_id).delete()
    elif hold is not None:
        CreditHold.objects.filter(pk=hold.pk).delete()
    return hold


def placement(
    *,
    received_at: datetime,
    client_time: datetime | None,
    has_event_id: bool,
    admitted_at: datetime | None = None,
    silence: tuple[datetime, datetime] | None = None,
) -> datetime:
    """When a counted turn happened, by what the server itself saw, never by the client's word alone.

    A turn a /check admitted (its hold) happened at that check. A replay (event_id) may name an earlier
    time only inside the latest span in which the server heard nothing from that machine, which is when
    a genuinely offline turn ran, and within 7 days. Anything else happened when the count arrived.
    """
    if admitted_at is not None:
        return min(admitted_at, received_at)
    if not has_event_id or client_time is None or silence is None:
        return received_at
    start, end = silence
    if start <= client_time <= min(end, received_at) and client_time >= received_at - REPLAY_HORIZON:
        return client_time
    return received_at
