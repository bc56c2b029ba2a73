"""The embedded mode's Celery broker: kombu's SQLAlchemy transport on a SQLite file, polled more often.

kombu polls the file once a second; an alert is two tasks in a row (evaluate, then deliver), so it waited
about 2 s for the broker alone (`bench/alerts_pipeline.py --celery`). Five polls a second is an indexed read
each, nothing next to what the worker does when there is work.
"""

from kombu.transport import TRANSPORT_ALIASES, sqlalchemy

SCHEME = "governor-sqla"


class Transport(sqlalchemy.Transport):
    polling_interval = 0.2


TRANSPORT_ALIASES.setdefault(SCHEME, "config.broker:Transport")
