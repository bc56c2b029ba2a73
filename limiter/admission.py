"""Admission bookkeeping: the hold an admitted prompt leaves until its count, and where a count lands in time.

Services call these inside their transactions; nothing here opens one. The statements are hand-written
(limiter/statements.py): they run on every /check and /count.
"""

import uuid
from datetime import datetime, timedelta

from django.db import connection

from . import engine, statements
from .models import CreditHold, Seat

REPLAY_HORIZON = timedelta(days=7)
HOLD_FIELDS = ("seat", "session_id", "family", "cost", "created_at", "expires_at")
HOLD_KEY = ("seat", "session_id")


def begin(seat: Seat, *, lock: bool) -> None:
    """The first statement of an admission's transaction, on PostgreSQL; SQLite needs none.

    Holds and prompt events may lose their last moments in a database crash, never their integrity: not
    waiting for the WAL flush takes the disk off /check's critical path (counts keep full durability).
    With `lock`, the same statement serialises the seat's admissions on its row. SQLite needs no row lock:
    every transaction there begins IMMEDIATE (settings), which already admits one writer at a time.
    """
    if connection.vendor != "postgresql":
        return
    relax = "SELECT set_config('synchronous_commit', 'off', true)"
    with connection.cursor() as cursor:
        if lock:
            table = connection.ops.quote_name(Seat._meta.db_table)
            cursor.execute(f"{relax} FROM {table} WHERE id = %s FOR UPDATE", [seat.pk])
        else:
            cursor.execute(relax)


# A prompt checked without a session id still reserves, under a key of its own (Claude Code's session ids
# are UUIDs, never this prefix); a count without a session id consumes the oldest such hold.
ANONYMOUS_SESSION = "no-session:"


def anonymous_session() -> str:
    return f"{ANONYMOUS_SESSION}{uuid.uuid4().hex}"


def hold_statement(seat, session_id, family, decision, reserve, now) -> tuple[str, list]:
    """One open hold per session: an admitted prompt reserves its turn and its price, replacing the
    session's last hold (that turn ended without a count, e.g. the user interrupted it); any other check
    of the session drops it. Returned as (sql, params) for the caller to run, alone or with its insert."""
    vendor = connection.vendor
    if decision.allowed and reserve:
        cost = engine.credit_cost(family, seat.team.credit_weights)
        expires_at = now + timedelta(seconds=seat.team.hold_ttl_seconds)
        sql = statements.insert(
            vendor, CreditHold, HOLD_FIELDS, conflict=HOLD_KEY, update=HOLD_FIELDS[2:]
        )
        values = [seat.pk, session_id, family, cost, now, expires_at]
        return sql, statements.prepared(CreditHold, HOLD_FIELDS, values)
    sql = statements.delete(vendor, CreditHold, HOLD_KEY)
    return sql, statements.prepared(CreditHold, HOLD_KEY, [seat.pk, session_id])


def take_hold(seat: Seat, session_id: str, now: datetime) -> datetime | None:
    """Consumes the hold that admitted this turn, in one statement: the session's own, or for a count
    without a session the oldest open hold of a check that had none. Returns when that check admitted the
    turn (None without an open hold), so the count can be placed there."""
    vendor, quote = connection.vendor, connection.ops.quote_name
    returning = ("created_at", "expires_at")
    if session_id:
        # Expired or not, the session's hold is spent by its count.
        sql = statements.delete(vendor, CreditHold, HOLD_KEY, returning)
        params = statements.prepared(CreditHold, HOLD_KEY, [seat.pk, session_id])
    else:
        table = quote(CreditHold._meta.db_table)
        oldest = (
            f"SELECT id FROM {table} WHERE seat_id = %s AND expires_at > %s AND session_id LIKE %s "  # noqa: S608
            "ORDER BY created_at LIMIT 1"
        )
        sql = f"DELETE FROM {table} WHERE id = ({oldest}) RETURNING created_at, expires_at"  # noqa: S608
        params = statements.prepared(
            CreditHold, ("seat", "expires_at", "session_id"), [seat.pk, now, f"{ANONYMOUS_SESSION}%"]
        )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return None
    created_at, expires_at = (_datetime(CreditHold, name, row[i]) for i, name in enumerate(returning))
    return created_at if expires_at > now else None


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


def _datetime(model, name: str, value) -> datetime:
    """A datetime column as the ORM would return it (SQLite hands back text)."""
    col = model._meta.get_field(name).get_col(model._meta.db_table)
    for convert in connection.ops.get_db_converters(col) + col.get_db_converters(connection):
        value = convert(value, col, connection)
    return value
