"""The one read in front of every hook call: token → seat, team and device, in a single prepared statement.

The ORM spends longer building this four-table select_related query than PostgreSQL spends answering it,
so the SQL is built once per process from the models' metadata and only executed per request. Values pass
through the same converters the ORM applies, and rows become ordinary model instances.
"""

from functools import cache
from typing import cast

from django.db import connection

from .models import Device, HookToken, Seat, Team

_JOINED = ((HookToken, "t"), (Seat, "s"), (Team, "m"), (Device, "d"))


@cache
def _plan(vendor: str) -> tuple[str, tuple]:
    quote = connection.ops.quote_name
    columns, layout = [], []
    for model, alias in _JOINED:
        fields = model._meta.concrete_fields
        columns += [f"{alias}.{quote(cast(str, f.column))}" for f in fields]
        converters = []
        for field in fields:
            col = field.get_col(alias)
            chain = connection.ops.get_db_converters(col) + col.get_db_converters(connection)
            converters.append((col, tuple(chain)))
        layout.append((model, [f.attname for f in fields], converters))
    table = {model: quote(model._meta.db_table) for model, _ in _JOINED}
    sql = (
        f"SELECT {', '.join(columns)} FROM {table[HookToken]} t "  # noqa: S608 - only model metadata
        f"JOIN {table[Seat]} s ON s.{quote('id')} = t.{quote('seat_id')} "
        f"JOIN {table[Team]} m ON m.{quote('id')} = s.{quote('team_id')} "
        f"LEFT JOIN {table[Device]} d ON d.{quote('id')} = t.{quote('device_id')} "
        f"WHERE t.{quote('token_hash')} = %s AND t.{quote('revoked_at')} IS NULL"
    )
    return sql, tuple(layout)


def token_holder(token_hash: str) -> HookToken | None:
    sql, layout = _plan(connection.vendor)
    with connection.cursor() as cursor:
        cursor.execute(sql, [token_hash])
        row = cursor.fetchone()
    if row is None:
        return None
    instances: list = []
    offset = 0
    for model, names, converters in layout:
        values = list(row[offset : offset + len(names)])
        offset += len(names)
        for index, (col, chain) in enumerate(converters):
            for convert in chain:
                values[index] = convert(values[index], col, connection)
        instances.append(None if values[0] is None else model.from_db(connection.alias, names, values))
    token, seat, team, device = instances
    seat.team = team
    token.seat = seat
    token.device = device
    return token
