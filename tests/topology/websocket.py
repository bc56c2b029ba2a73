"""Just enough of RFC 6455 over TLS to open a WebSocket through the front door and read its text frames.

The test is about the handshake as Caddy forwards it (HTTP/1.1 Upgrade over TLS), so it speaks the protocol
itself rather than letting a client library hide what the proxy did.
"""

import base64
import hashlib
import json
import os
import socket
import ssl
import struct

_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455 §1.3


class WebSocket:
    """A socket after the handshake: its status line and headers, then server frames on demand."""

    def __init__(self, tls: ssl.SSLSocket, key: str) -> None:
        self.tls, self._buffer = tls, b""
        head = self._read_until(b"\r\n\r\n").decode("latin-1").split("\r\n")
        self.status = int(head[0].split()[1])
        fields = (line.partition(":") for line in head[1:])
        self.headers = {name.strip().lower(): value.strip() for name, _, value in fields}
        digest = hashlib.sha1((key + _GUID).encode()).digest()  # noqa: S324 - the handshake's own hash
        expected = base64.b64encode(digest).decode()
        self.accepted = self.status == 101 and self.headers.get("sec-websocket-accept") == expected

    def _fill(self, enough) -> None:
        while not enough():
            chunk = self.tls.recv(4096)
            if not chunk:
                raise ConnectionError("the server closed the connection")
            self._buffer += chunk

    def _read_until(self, marker: bytes) -> bytes:
        self._fill(lambda: marker in self._buffer)
        head, _, self._buffer = self._buffer.partition(marker)
        return head

    def _read(self, size: int) -> bytes:
        self._fill(lambda: len(self._buffer) >= size)
        data, self._buffer = self._buffer[:size], self._buffer[size:]
        return data

    def receive_json(self) -> dict:
        """The next text frame as JSON (a server's frames are unmasked; Channels does not fragment them)."""
        while True:
            first, second = self._read(2)
            length = second & 0x7F
            if length == 126:
                (length,) = struct.unpack("!H", self._read(2))
            elif length == 127:
                (length,) = struct.unpack("!Q", self._read(8))
            payload, opcode = self._read(length), first & 0x0F
            if opcode == 0x8:
                code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None
                raise ConnectionError(f"the server closed the WebSocket with code {code}")
            if opcode == 0x1:
                return json.loads(payload)

    def close(self) -> None:
        self.tls.close()


def connect(host: str, port: int, path: str, context: ssl.SSLContext, headers: dict[str, str]) -> WebSocket:
    key = base64.b64encode(os.urandom(16)).decode()
    request = [
        f"GET {path} HTTP/1.1", f"Host: {host}:{port}", "Upgrade: websocket", "Connection: Upgrade",
        f"Sec-WebSocket-Key: {key}", "Sec-WebSocket-Version: 13",
        *(f"{name}: {value}" for name, value in headers.items()),
    ]  # fmt: skip
    tls = context.wrap_socket(socket.create_connection((host, port), timeout=30), server_hostname=host)
    tls.sendall(("\r\n".join(request) + "\r\n\r\n").encode())
    return WebSocket(tls, key)
