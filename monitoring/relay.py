"""Embedded mode's live transport: the web process tails the event log and fans rows out to its own sockets.

The in-memory channel layer only reaches sockets of the process it lives in, so a row written by a Celery
worker (a poll, a credential change) or by another process would never be heard. Instead, while at least one
dashboard is connected, one task per web process reads every stream after its cursor every
`LIVE_TAIL_INTERVAL_SECONDS` (100 ms by default) and hands what it finds to the local group. SQLite has a
single writer, so ids commit in order and "after id N" never skips a row. With Redis this is not used:
publishers send through channels-redis directly (`monitoring.broadcast`).
"""

import asyncio
import logging

from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings

from . import broadcast, selectors

log = logging.getLogger(__name__)


class Tail:
    def __init__(self) -> None:
        self.listeners = 0
        self._task: asyncio.Task | None = None

    async def attach(self) -> None:
        loop = asyncio.get_running_loop()
        if self._task is not None and self._task.get_loop() is not loop:
            self._task, self.listeners = None, 0  # a new event loop (tests): the old task died with its loop
        self.listeners += 1
        if self._task is None or self._task.done():
            start = await database_sync_to_async(selectors.feed_heads)()
            self._task = loop.create_task(self._run(start))

    def detach(self) -> None:
        self.listeners = max(0, self.listeners - 1)

    async def _run(self, cursor) -> None:
        interval = getattr(settings, "LIVE_TAIL_INTERVAL_SECONDS", 0.1)
        layer = get_channel_layer()
        read = database_sync_to_async(selectors.feed_after)
        while self.listeners > 0:
            try:
                page = await read(cursor)
            except Exception:
                log.exception("live tail: reading the event log failed; retrying")
                await asyncio.sleep(1)
                continue
            for message in page.messages:
                await layer.group_send(broadcast.GROUP, broadcast.envelope(message))
            cursor = page.cursor
            if page.complete:
                await asyncio.sleep(interval)


tail = Tail()
