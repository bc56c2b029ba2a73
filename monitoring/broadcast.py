"""The only code that touches the channel layer: hands one live feed message to every connected dashboard.

With Redis (channels-redis) a message published by any process (web, Celery worker, management command)
reaches the sockets of every web process at once. The in-memory layer of the embedded mode cannot cross a
process boundary, so there publishing is skipped and each web process tails the event log instead
(`monitoring.relay`): the log is the transport, a little later but never lost. Imports no project app.
"""

import logging

from asgiref.sync import async_to_sync
from channels.layers import InMemoryChannelLayer, get_channel_layer

log = logging.getLogger(__name__)

GROUP = "governor.feed"
MESSAGE_TYPE = "feed.message"  # the consumer's handler: feed_message()


def crosses_processes() -> bool:
    """True when the channel layer carries messages between processes (Redis), False in embedded mode."""
    layer = get_channel_layer()
    return layer is not None and not isinstance(layer, InMemoryChannelLayer)


def publish(message: dict) -> None:
    """Sends one feed message now; call it after commit (eventlog.record and the hot path arrange that).

    A failure is logged, never raised: the change already committed, and a browser that missed the message
    gets it from the log when it reconnects.
    """
    if not crosses_processes():
        return
    try:
        async_to_sync(get_channel_layer().group_send)(GROUP, {"type": MESSAGE_TYPE, "message": message})
    except Exception:
        log.exception("live publish of %s failed", message.get("type"))
