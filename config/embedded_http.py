"""The embedded web server: daphne, with a deadline and a size cap for receiving each request.

Twisted (under daphne) gathers a whole request before the application sees any of it, with only an idle
timeout that every new byte resets: a client trickling a body, or announcing more than it sends, holds a
connection for as long as it likes, and a chunked body of any size is spooled to disk. Here each request
must arrive whole within REQUEST_BODY_TIMEOUT_SECONDS and within the body limit plus room for headers, or
the client gets a JSON 408 / 413 and the connection is closed. (Production's gunicorn sits behind a reverse
proxy that does this; docs/hardening.md.)

Run as `python -m config.embedded_http [daphne's arguments]`; `manage.py serve` does.
"""

import json
import sys
from typing import Any

from daphne.cli import CommandLineInterface
from daphne.server import Server
from django.conf import settings
from twisted.internet import reactor
from twisted.internet.protocol import connectionDone
from twisted.python import failure
from twisted.web import http

HEADER_ROOM = 64 * 1024


def _refusal(status: int, reason: str, message: str) -> bytes:
    body = json.dumps({"error": message}).encode()
    head = (
        f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    return head.encode() + body


class DeadlineHTTPChannel(http.HTTPChannel):
    """An HTTP/1.1 channel that refuses a request still arriving after the deadline or past the cap."""

    _receive_timer = None
    _received = 0

    def dataReceived(self, data: bytes) -> None:
        # `_handlingRequest` is Twisted's flag for "a whole request has arrived and is being answered".
        if not self._handlingRequest:
            if self._receive_timer is None:
                timeout = settings.REQUEST_BODY_TIMEOUT_SECONDS
                message = f"The request did not arrive whole within {timeout:g} s"
                self._receive_timer = self.callLater(
                    timeout, lambda: self._refuse(408, "Request Timeout", message)
                )
            self._received += len(data)
            if self._received > settings.DATA_UPLOAD_MAX_MEMORY_SIZE + HEADER_ROOM:
                return self._refuse(413, "Content Too Large", "Request body too large")
        super().dataReceived(data)
        if self._handlingRequest:
            self._stop_timer()

    def _stop_timer(self) -> None:
        if self._receive_timer is not None and self._receive_timer.active():
            self._receive_timer.cancel()
        self._receive_timer, self._received = None, 0

    def _refuse(self, status: int, reason: str, message: str) -> None:
        self._stop_timer()
        transport: Any = self.transport  # zope interfaces confuse the type checker
        if self._handlingRequest or transport is None:
            return
        transport.write(_refusal(status, reason, message))
        transport.loseConnection()

    def connectionLost(self, reason: failure.Failure = connectionDone) -> None:
        self._stop_timer()
        super().connectionLost(reason)


class GuardedServer(Server):
    def run(self) -> None:
        # daphne builds its HTTP factory inside run(); it is in place once the reactor is running.
        reactor.callWhenRunning(self._guard_requests)
        super().run()

    def _guard_requests(self) -> None:
        self.http_factory.protocol = DeadlineHTTPChannel


def main() -> None:
    cli = CommandLineInterface()
    cli.server_class = GuardedServer
    cli.run(sys.argv[1:])


if __name__ == "__main__":
    main()
