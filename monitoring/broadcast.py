"""The only code that touches the channel layer: hands one live feed message to every connected dashboard.

With Redis (channels-redis) a message published by any process (web, Celery worker, management command)
reaches the sockets of every web process. Publishing only queues the message: a daemon thread of the
publishing process sends it, so a request or a poll never waits on Redis. The in-memory layer of the embedded
mode cannot cross a process boundary, so there `publish` does nothing and each web process tails the event
log instead (`monitoring.relay`): the log is the transport. Imports no project app.
"""

import asyncio
import logging
import os
import queue
import threading

from channels.layers import InMemoryChannelLayer, get_channel_layer

log = logging.getLogger(__name__)

GROUP = "governor.feed"
MESSAGE_TYPE = "feed.message"  # the consumer's handler: feed_message()


def crosses_processes() -> bool:
    """True when the channel layer carries messages between processes (Redis), False in embedded mode."""
    layer = get_channel_layer()
    return layer is not None and not isinstance(layer, InMemoryChannelLayer)


def envelope(message: dict) -> dict:
    return {"type": MESSAGE_TYPE, "message": message}


class _Sender:
    """One daemon thread per process with its own event loop, draining a queue into the channel layer."""

    def __init__(self) -> None:
        self._queue: queue.SimpleQueue[dict] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._pid = 0
        self._pending = 0
        self._idle = threading.Condition(self._lock)

    def put(self, message: dict) -> None:
        with self._lock:
            if self._pid != os.getpid():  # first use, or a forked child: threads do not survive fork
                self._queue = queue.SimpleQueue()
                self._pending = 0
                threading.Thread(target=self._run, args=(self._queue,), daemon=True).start()
                self._pid = os.getpid()
            self._pending += 1
            self._queue.put(message)

    def wait_idle(self, timeout: float) -> bool:
        """True once everything queued so far was handed to the channel layer (tests, clean shutdown)."""
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout)

    def _run(self, inbox: queue.SimpleQueue) -> None:
        loop = asyncio.new_event_loop()
        layer = get_channel_layer()
        while True:
            message = inbox.get()
            try:
                loop.run_until_complete(layer.group_send(GROUP, envelope(message)))
            except Exception:
                # The change is committed; a browser that misses this gets it from the log on reconnect.
                log.exception("live publish of %s failed", message.get("type"))
            with self._idle:
                self._pending -= 1
                self._idle.notify_all()


_sender = _Sender()


def publish(message: dict) -> None:
    """Queues one feed message for every dashboard; call it after commit. Never raises, never blocks."""
    if crosses_processes():
        _sender.put(message)


def wait_published(timeout: float = 5.0) -> bool:
    return _sender.wait_idle(timeout)
