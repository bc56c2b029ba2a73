"""Hand-written INSERTs for the hook API's per-request writes, built once per process from model metadata.

Building a `bulk_create` costs the ORM more CPU than the database spends running it, on every /check and
/count (docs/perf.md). These statements are plain SQL text cached per column list; values pass through each
field's own `get_db_prep_save`, exactly as the ORM would prepare them.
"""

from collections.abc import Sequence
from functools import cache

from django.db import connection
from django.db.models import Model


def prepared(model: type[Model], fields: Sequence[str], values: Sequence[object]) -> list:
    return [
        model._meta.get_field(name).get_db_prep_save(value, connection)  # type: ignore[union-attr]
        for name, value in zip(fields, values, strict=True)
    ]


@cache
def insert(
    vendor: str,
    model: type[Model],
    fields: tuple[str, ...],
    rows: int = 1,
    *,
    conflict: tuple[str, ...] = (),
    update: tuple[str, ...] = (),
    returning: str = "",
) -> str:
    """`INSERT … VALUES (…), … [ON CONFLICT (…) DO UPDATE SET …] [RETURNING …]` for `rows` rows.

    `vendor` only keys the cache: quoting and placeholders are the connection's, and tests switch databases.
    """
    quote = connection.ops.quote_name
    meta = model._meta

    def column(name: str) -> str:
        return quote(meta.get_field(name).column)  # type: ignore[union-attr, arg-type]

    one = "(" + ", ".join(["%s"] * len(fields)) + ")"
    columns = ", ".join(column(f) for f in fields)
    values = ", ".join([one] * rows)
    sql = f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES {values}"  # noqa: S608 - only model metadata
    if conflict:
        assignments = ", ".join(f"{column(f)} = excluded.{column(f)}" for f in update)
        sql += f" ON CONFLICT ({', '.join(column(f) for f in conflict)}) DO UPDATE SET {assignments}"
    if returning:
        sql += f" RETURNING {column(returning)}"
    return sql


@cache
def delete(vendor: str, model: type[Model], where: tuple[str, ...], returning: tuple[str, ...] = ()) -> str:
    """`DELETE … WHERE a = %s AND b = %s … [RETURNING …]`."""
    quote = connection.ops.quote_name
    meta = model._meta

    def column(name: str) -> str:
        return quote(meta.get_field(name).column)  # type: ignore[union-attr, arg-type]

    conditions = " AND ".join(f"{column(f)} = %s" for f in where)
    sql = f"DELETE FROM {quote(meta.db_table)} WHERE {conditions}"  # noqa: S608 - only model metadata
    if returning:
        sql += f" RETURNING {', '.join(column(f) for f in returning)}"
    return sql


def execute(main: tuple[str, list], before: tuple[str, list] | None = None) -> list[tuple]:
    """Runs `before`, then `main`, in the caller's transaction; returns `main`'s rows (its RETURNING).

    On PostgreSQL both go as one statement (`before` as a data-modifying WITH, which runs to completion
    whether or not it is read): one round trip less on every /check and /count. Two statements elsewhere.
    """
    sql, params = main
    with connection.cursor() as cursor:
        if before is not None and connection.vendor == "postgresql":
            sql, params = f"WITH earlier AS ({before[0]}) {sql}", [*before[1], *params]
        elif before is not None:
            cursor.execute(*before)
        cursor.execute(sql, params)
        return cursor.fetchall() if cursor.description else []
