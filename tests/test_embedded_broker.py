"""The embedded mode's Celery broker (config/broker.py, kombu's SQLAlchemy transport on a SQLite file), as the
worker, beat and web processes share it."""

import sqlite3

from kombu import Connection
from sqlalchemy import event

from config.broker import SCHEME  # importing it registers the transport, whatever broker the run uses


def test_a_queue_another_process_creates_meanwhile_does_not_wedge_the_sender(tmp_path):
    """Beat and its worker start together and both create the queue's row: the loser of that race must go on
    sending, not fail every later task (seen in CI: a beat that never sent a poll after starting)."""
    path = tmp_path / "celery-broker.sqlite3"
    with Connection(f"{SCHEME}+sqlite:///{path}") as connection:
        channel = connection.channel()
        session = channel.session  # creates the tables, as the first use does

        def another_process_creates_the_queue(session, flush_context, instances):
            with sqlite3.connect(path) as other:
                other.execute("INSERT INTO kombu_queue (name) VALUES ('accounts')")

        event.listen(session, "before_flush", another_process_creates_the_queue, once=True)
        channel._put("accounts", {"body": "poll due accounts"})
        channel._put("accounts", {"body": "and the next tick"})

        assert channel._get("accounts") == {"body": "poll due accounts"}
        assert channel._get("accounts") == {"body": "and the next tick"}
    with sqlite3.connect(path) as check:
        assert check.execute("SELECT COUNT(*) FROM kombu_queue WHERE name = 'accounts'").fetchone() == (1,)
