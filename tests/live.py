"""A real HTTP server on loopback serving the Django app, which tests can stop and start again."""

import socket
import threading
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from django.db import connections

from config.api_stack import SplitWSGI


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):
        pass


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 512

    def process_request_thread(self, request, client_address):
        try:
            super().process_request_thread(request, client_address)
        finally:
            connections.close_all()


class LiveServer:
    """`start()` binds 127.0.0.1 on a free port (or the port it had, after `stop()`)."""

    def __init__(self) -> None:
        self.port = 0
        self._server: _ThreadingServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "LiveServer":
        self._server = make_server(
            "127.0.0.1", self.port, SplitWSGI(), server_class=_ThreadingServer, handler_class=_QuietHandler
        )
        self.port = self._server.server_address[1]
        # A short poll interval makes stop() return in milliseconds instead of half a second.
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.02,), daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def is_listening(self) -> bool:
        with socket.socket() as probe:
            return probe.connect_ex(("127.0.0.1", self.port)) == 0
