"""HTTP/1.1 over a plain socket: the http and urllib packages cost more start-up than the whole gate."""

from .base import GATE_TIMEOUT, VERSION, Broken, Unreachable
from .jsonfast import json_dumps, json_loads


def _split_url(url):
    scheme, sep, rest = url.partition("://")
    if not sep or scheme not in ("http", "https"):
        raise Broken(f"The server URL {url!r} is not an http(s) URL.")
    hostport, _, base = rest.partition("/")
    base = "/" + base.rstrip("/") if base.strip("/") else ""
    if hostport.startswith("["):
        host, _, port = hostport[1:].partition("]")
        port = port.lstrip(":")
    else:
        host, _, port = hostport.partition(":")
    return scheme, host, int(port) if port else (443 if scheme == "https" else 80), hostport, base


def _read_response(sock, deadline):
    import time

    buf = b""
    head = None
    length = None
    chunked = False
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise Unreachable("timed out")
        sock.settimeout(remaining)
        data = sock.recv(65536)
        if data:
            buf += data
            if len(buf) > 4 * 1024 * 1024:
                raise Unreachable("response too large")
        if head is None and b"\r\n\r\n" in buf:
            head, buf = buf.split(b"\r\n\r\n", 1)
            lines = head.decode("latin-1").split("\r\n")
            parts = lines[0].split(" ", 2)
            if len(parts) < 2 or not parts[1].isdigit():
                raise Unreachable("not an HTTP response")
            status = int(parts[1])
            headers = {}
            for line in lines[1:]:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            chunked = "chunked" in headers.get("transfer-encoding", "").lower()
            if headers.get("content-length", "").isdigit():
                length = int(headers["content-length"])
        if head is not None:
            if length is not None and len(buf) >= length:
                return status, headers, buf[:length]
            if chunked and (buf.endswith(b"0\r\n\r\n") or not data):
                return status, headers, _unchunk(buf)
        if not data:
            if head is None:
                raise Unreachable("connection closed before a response")
            return status, headers, buf


def _unchunk(buf):
    body = b""
    while buf:
        size_line, _, buf = buf.partition(b"\r\n")
        size = int(size_line.split(b";")[0].strip() or b"0", 16)
        if size == 0:
            break
        body += buf[:size]
        buf = buf[size + 2 :]
    return body


def _connect(scheme, host, port, timeout):
    """A connected socket. Plain HTTP uses `_socket` directly: the socket module imports `enum` and
    `selectors`, and a str host name pulls in the idna codec; together several ms per prompt."""
    if scheme == "https":
        import socket
        import ssl

        plain = socket.create_connection((host, port), timeout=timeout)
        return ssl.create_default_context().wrap_socket(plain, server_hostname=host)
    import _socket

    name = host.encode("ascii") if host.isascii() else host
    error = OSError(f"cannot resolve {host}")
    for family, kind, proto, _, address in _socket.getaddrinfo(name, port, 0, _socket.SOCK_STREAM):
        sock = _socket.socket(family, kind, proto)
        sock.settimeout(timeout)
        try:
            sock.connect(address)
            return sock
        except OSError as exc:
            sock.close()
            error = exc
    raise error


def http_json(method, url, path, payload=None, token=None, timeout=GATE_TIMEOUT):
    """(status, JSON object). Raises Unreachable when the server gave no usable JSON answer in time."""
    import time

    scheme, host, port, hostport, base = _split_url(url)
    body = json_dumps(payload).encode() if payload is not None else b""
    lines = [
        f"{method} {base}{path} HTTP/1.1",
        "Host: " + hostport,
        "User-Agent: claude-governor-hook/" + VERSION,
        "Accept: application/json",
        "Connection: close",
    ]
    if token:
        lines.append("Authorization: Bearer " + token)
    if payload is not None:
        lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
    request = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body
    deadline = time.monotonic() + timeout
    try:
        sock = _connect(scheme, host, port, timeout)
        try:
            sock.sendall(request)
            status, _headers, raw = _read_response(sock, deadline)
        finally:
            sock.close()
    except (OSError, ValueError) as exc:
        raise Unreachable(str(exc) or exc.__class__.__name__) from None
    try:
        data = json_loads(raw)
    except ValueError:
        raise Unreachable(f"HTTP {status} with a body that is not JSON") from None
    if not isinstance(data, dict):
        raise Unreachable(f"HTTP {status} with a JSON body that is not an object")
    return status, data

