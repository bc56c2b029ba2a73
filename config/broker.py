"""The embedded mode's Celery broker: kombu's SQLAlchemy transport on a SQLite file, polled more often.

kombu polls the file once a second; an alert is two tasks in a row (evaluate, then deliver), so it waited
about 2 s for the broker alone (`bench/alerts_pipeline.py --celery`). Five polls a second is an indexed read
each, nothing next to what the worker does when there is work. Queues are created race-free across processes
(`Channel`).
"""

from kombu.transport import TRANSPORT_ALIASES, sqlalchemy
from sqlalchemy.exc import IntegrityError

SCHEME = "governor-sqla"


class Channel(sqlalchemy.Channel):
    def _get_or_create(self, queue):
        """kombu looks for the queue's row, then inserts it, and rolls back only an OperationalError: when
        another process (the worker, beat, the web process) inserted the row in between, the UNIQUE
        violation left the session failed for good, and every later send raised. Seen as a beat that never
        sent a task again after starting beside its worker."""
        try:
            return super()._get_or_create(queue)
        except IntegrityError:
            self.session.rollback()
            return super()._get_or_create(queue)


class Transport(sqlalchemy.Transport):
    Channel = Channel
    polling_interval = 0.2


TRANSPORT_ALIASES.setdefault(SCHEME, "config.broker:Transport")
