"""The live sockets: staff with view access to the event log receive every feed message on the dashboard's;
people with the `user` role receive their own seats' messages on "My seat"'s.

Refusals accept the handshake and close with 4403 so the page can tell "not allowed" from "network trouble"
(a refused handshake reaches the browser only as 1006). A client resumes with `?since=e<id>.s<id>.u<id>`
and first receives exactly what it missed, from the log.
"""

from urllib.parse import parse_qs, urlsplit

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.http.request import split_domain_port, validate_host
from django.utils import timezone

from limiter import selectors as limiter_selectors

from . import broadcast, selectors
from .feed import Cursor
from .relay import tail

FORBIDDEN, BAD_REQUEST = 4403, 4400
BACKFILL_LIMIT = 2000  # more missed than this: the page reloads instead of replaying


def _header(scope, name: bytes) -> str:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin-1")
    return ""


def origin_allowed(scope) -> bool:
    """The page's origin must be the socket's own host (or a trusted origin), and that host an allowed one."""
    origin, host = _header(scope, b"origin"), _header(scope, b"host")
    if not origin or not host:
        return False
    allowed_hosts = settings.ALLOWED_HOSTS or ([".localhost", "127.0.0.1", "[::1]"] if settings.DEBUG else [])
    domain, _ = split_domain_port(host)
    if not domain or not validate_host(domain, allowed_hosts):
        return False
    return urlsplit(origin).netloc == host or origin in settings.CSRF_TRUSTED_ORIGINS


def may_watch(user) -> bool:
    return bool(
        user is not None
        and user.is_authenticated
        and user.is_active
        and user.is_staff
        and user.has_perm("monitoring.view_event")
    )


def own_seat_ids(user) -> set[str] | None:
    """The seats a user may watch on "My seat" (linked by email), or None when they may not use the page."""
    if not (user is not None and user.is_authenticated and user.is_active and user.is_staff):
        return None
    if not user.has_perm("monitoring.see_own_seat"):
        return None
    return {str(seat.pk) for seat in limiter_selectors.seats_for_email(getattr(user, "email", ""))}


class FeedConsumer(AsyncJsonWebsocketConsumer):
    joined = False

    async def allowed(self, user) -> bool:
        return await database_sync_to_async(may_watch)(user)

    def visible(self, message: dict) -> bool:
        """Whether this socket's user may see the message; the dashboard's staff see them all."""
        return True

    async def connect(self) -> None:
        await self.accept()
        user = self.scope.get("user")
        if not (origin_allowed(self.scope) and await self.allowed(user)):
            await self.close(code=FORBIDDEN)
            return
        since = parse_qs(self.scope.get("query_string", b"").decode("latin-1")).get("since", [""])[0]
        try:
            cursor = Cursor.parse(since) if since else None
        except ValueError:
            await self.close(code=BAD_REQUEST)
            return
        # Join before reading so nothing committed from here on is missed; what both bring is sent once.
        await self.channel_layer.group_add(broadcast.GROUP, self.channel_name)
        self.joined = True
        if not broadcast.crosses_processes():
            await tail.attach()
        self.backfilled: set[tuple[str, int]] = set()
        heads = await database_sync_to_async(selectors.feed_heads)()
        now = timezone.now().isoformat()
        await self.send_json({"type": "connected", "timestamp": now, "cursor": str(heads)})
        if cursor is not None:
            await self._backfill(cursor)

    async def _backfill(self, cursor: Cursor) -> None:
        read = database_sync_to_async(selectors.feed_after)
        sent = 0
        while True:
            page = await read(cursor)
            for message in filter(self.visible, page.messages):
                self.backfilled.add((message["stream"], message["id"]))
                await self.send_json(message)
            # Counted as read, not as sent: a filtered socket gives up after as much reading as any other.
            sent += len(page.messages)
            cursor = page.cursor
            if page.complete:
                break
            if sent >= BACKFILL_LIMIT:
                await self.send_json({"type": "backfill_truncated", "cursor": str(cursor)})
                break
        await self.send_json({"type": "backfill_done", "cursor": str(cursor)})

    async def feed_message(self, event: dict) -> None:
        message = event["message"]
        if not self.visible(message):
            return
        key = (message.get("stream"), message.get("id"))
        if key in self.backfilled:
            self.backfilled.discard(key)
            return
        await self.send_json(message)

    async def receive_json(self, content, **kwargs) -> None:
        """The socket only listens; anything sent to it is ignored."""

    async def disconnect(self, code) -> None:
        if self.joined:
            await self.channel_layer.group_discard(broadcast.GROUP, self.channel_name)
            if not broadcast.crosses_processes():
                tail.detach()


class OwnSeatConsumer(FeedConsumer):
    """On "My seat": the messages about the user's own seats (prompts, turns, blocks, status and rule
    changes), and neither other seats' activity nor the accounts'."""

    seat_ids: set[str] = set()

    async def allowed(self, user) -> bool:
        seat_ids = await database_sync_to_async(own_seat_ids)(user)
        if seat_ids is None:
            return False
        self.seat_ids = seat_ids
        return True

    def visible(self, message: dict) -> bool:
        return message.get("seatId") in self.seat_ids
