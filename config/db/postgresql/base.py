"""Django's PostgreSQL backend on a psycopg connection that stops waiting at the request's deadline.

psycopg waits for every connection step and every query result in `Connection.wait` / `_connect_gen`; both
are overridden to give up when config.db.deadline says the request's time is spent. A query given up on is
still in flight, so the connection is closed (Django reconnects on the next request) and the caller gets an
OperationalError, which the hook API answers as JSON 503.
"""

import types

import psycopg
from django.db.backends.postgresql import base

from config.db import deadline


class DatabaseStalled(psycopg.OperationalError):
    """The database did not answer before the request's deadline."""


class DeadlineConnection(psycopg.Connection):
    def wait(self, gen, interval=0.1, timeout=None):
        left = deadline.remaining()
        if left is None:
            return super().wait(gen, interval, timeout)
        if left <= 0:
            gen.close()
            raise DatabaseStalled("The database did not answer in time (request deadline spent).")
        try:
            return super().wait(gen, interval, left if timeout is None else min(timeout, left))
        except psycopg.errors._WaitTimeout:  # psycopg's own timeout type: ours fired, not a caller's
            if (deadline.remaining() or 0) > 0:
                raise
            # The server may still answer later; this connection can never be reused safely.
            self.close()
            raise DatabaseStalled(f"The database did not answer within {left:.1f} s.") from None

    @classmethod
    def _connect_gen(cls, conninfo=""):
        # psycopg's connect_timeout cannot go below 2 s (libpq's rule); the request deadline may be shorter.
        # wait_conn wakes this generator every 0.1 s even when the socket is silent.
        inner = super()._connect_gen(conninfo)
        wanted = next(inner)
        while True:
            left = deadline.remaining()
            if left is not None and left <= 0:
                inner.close()
                raise DatabaseStalled("Could not connect to the database in time.")
            ready = yield wanted
            try:
                wanted = inner.send(ready)
            except StopIteration as done:
                return done.value


class _Driver(types.ModuleType):
    """The psycopg module as Django's backend sees it, but connecting with DeadlineConnection."""

    connect = staticmethod(DeadlineConnection.connect)

    def __getattr__(self, name):
        return getattr(psycopg, name)


_driver = _Driver("psycopg")


class DatabaseWrapper(base.DatabaseWrapper):
    Database = _driver
