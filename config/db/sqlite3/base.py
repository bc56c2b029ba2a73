"""Django's SQLite backend: its file private to the service's user, and a web request waiting for a busy
database only as long as the request has time left.

The embedded mode's worker and beat write the same file; a web request that finds it locked waits in
SQLite's busy handler (20 s by default, so background jobs never fail). For a web request that wait is cut
to the request's remaining deadline (config/db/deadline.py), so a stuck writer costs the hook client a JSON
503 in time rather than a hang past its gate timeout.
"""

from django.db.backends.sqlite3 import base

from config.db import deadline
from config.private_files import private_database_file


class DatabaseWrapper(base.DatabaseWrapper):
    _busy_for: float | None = None  # the deadline the busy timeout was last set for
    _busy_set = False

    def _bound_busy_wait(self) -> None:
        current = deadline.current()
        if current == self._busy_for and self._busy_set:
            return
        left = deadline.remaining()
        default_ms = int(self.settings_dict["OPTIONS"].get("timeout", 5) * 1000)
        wait_ms = default_ms if left is None else max(0, min(default_ms, int(left * 1000)))
        self.connection.execute(f"PRAGMA busy_timeout = {wait_ms}")
        self._busy_for, self._busy_set = current, True

    def create_cursor(self, name=None):
        self._bound_busy_wait()
        return super().create_cursor(name)

    def _start_transaction_under_autocommit(self):
        self._bound_busy_wait()
        super()._start_transaction_under_autocommit()  # type: ignore[misc]  # private in the stubs

    def get_new_connection(self, conn_params):
        self._busy_set = False
        private_database_file(str(conn_params["database"]))
        return super().get_new_connection(conn_params)
