"""ASGI guard for the embedded server (daphne): a request body must arrive whole, small and in time.

Daphne hands the application a body in pieces for as long as the client keeps sending, and Django waits for
it with no limit: a client that trickles bytes, or announces more than it sends, holds a request open for
ever, and a chunked upload is spooled to disk whatever its size. This guard reads the body first, with one
deadline for all of it and the same cap as DATA_UPLOAD_MAX_MEMORY_SIZE, then replays it to Django.
(Under gunicorn the reverse proxy in front does this; docs/hardening.md.)
"""

import asyncio
import json

from django.conf import settings


class _TooLarge(Exception):
    pass


class _Gone(Exception):
    pass


async def _respond(send, status: int, message: str) -> None:
    body = json.dumps({"error": message}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def _read_body(receive, limit: int) -> bytes:
    parts, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise _Gone
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise _TooLarge
        parts.append(chunk)
        if not message.get("more_body", False):
            return b"".join(parts)


class BodyGuard:
    def __init__(self, app, *, timeout: float | None = None, limit: int | None = None):
        self.app = app
        self.timeout = timeout
        self.limit = limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        timeout = self.timeout if self.timeout is not None else settings.REQUEST_BODY_TIMEOUT_SECONDS
        # Slack over Django's own limit so a form a little over it gets Django's clearer refusal.
        limit = self.limit if self.limit is not None else settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 4096
        try:
            body = await asyncio.wait_for(_read_body(receive, limit), timeout)
        except _Gone:
            return
        except _TooLarge:
            return await _respond(send, 413, "Request body too large")
        except TimeoutError:
            return await _respond(send, 408, f"The request body did not arrive within {timeout:g} s")

        replayed = False

        async def replay():
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()  # Django listens for the client's disconnect

        return await self.app(scope, replay, send)
