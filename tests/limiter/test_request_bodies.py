"""Request bodies over the real app servers: gunicorn (production) and daphne (embedded).

A body is read whole or refused: the 64 KiB limit holds for chunked bodies too, a chunked body is read
rather than taken for `{}`, a body shorter than its Content-Length is never a decision, and the embedded
server cuts off a client that sends its body slowly or not at all.
"""

import socket
import time

import pytest

from limiter.models import SessionEvent
from tests.app_servers import AppServer, body_of, raw_exchange, status_of

from .conftest import token_for

BODY_TIMEOUT = 1.5


@pytest.fixture(params=["gunicorn", "daphne"])
def server(request, transactional_db, tmp_path):
    app = AppServer(request.param, tmp_path, REQUEST_BODY_TIMEOUT_SECONDS=str(BODY_TIMEOUT)).start()
    yield app
    app.stop()


@pytest.fixture
def token(alice):
    return token_for(alice)


def head(path: str, token: str, **headers: str) -> bytes:
    lines = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", f"Authorization: Bearer {token}"]
    lines += ["Content-Type: application/json", *(f"{k.replace('_', '-')}: {v}" for k, v in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def post_chunked(port: int, token: str, body: bytes, size: int = 4096) -> bytes:
    return raw_exchange(port, head("/api/v1/check", token, Transfer_Encoding="chunked") + chunked(body, size))


def chunked(body: bytes, size: int = 4096) -> bytes:
    pieces = [body[i : i + size] for i in range(0, len(body), size)]
    return b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in pieces) + b"0\r\n\r\n"


def test_a_chunked_body_over_64_kib_is_refused_with_413(server, token):
    body = b'{"model": "opus", "project_dir": "' + b"x" * 70_000 + b'"}'
    reply = post_chunked(server.port, token, body)
    assert status_of(reply) == 413, reply[:300]
    assert b"too large" in body_of(reply)
    assert not SessionEvent.objects.exists()


def test_a_chunked_body_is_read_not_taken_for_an_empty_object(server, token):
    reply = post_chunked(server.port, token, b'{"model": ')
    assert status_of(reply) == 400, reply[:300]
    assert b"Malformed JSON" in body_of(reply)
    good = b'{"model": "opus", "session_id": "s1", "project_dir": "chunked-proj"}'
    reply = post_chunked(server.port, token, good, 7)
    assert status_of(reply) == 200, reply[:300]
    assert SessionEvent.objects.get().project_dir == "chunked-proj"


def test_a_body_cut_short_by_a_hang_up_is_never_answered_as_an_empty_object(server, token):
    with socket.create_connection(("127.0.0.1", server.port), timeout=15) as sock:
        sock.sendall(head("/api/v1/check", token, Content_Length="60") + b'{"model"')
        sock.shutdown(socket.SHUT_WR)  # the client is gone before the 60 bytes it announced
        reply = b""
        while chunk := sock.recv(65536):
            reply += chunk
    # gunicorn sees the short body and answers 400; daphne sees the hang-up and answers nobody.
    assert status_of(reply) in (0, 400), reply[:300]
    if reply:
        assert b"could not be read whole" in body_of(reply)
    assert not SessionEvent.objects.exists()


@pytest.mark.parametrize("server", ["daphne"], indirect=True)
def test_embedded_server_cuts_off_a_body_that_never_arrives(server, token):
    started = time.monotonic()
    reply = raw_exchange(server.port, head("/api/v1/check", token, Content_Length="100") + b'{"model": "o')
    elapsed = time.monotonic() - started
    assert status_of(reply) == 408, reply[:300]
    assert b"did not arrive" in body_of(reply)
    assert BODY_TIMEOUT <= elapsed < BODY_TIMEOUT + 10
    assert not SessionEvent.objects.exists()


@pytest.mark.parametrize("server", ["daphne"], indirect=True)
def test_embedded_server_cuts_off_a_body_trickled_byte_by_byte(server, token):
    body = b'{"model": "opus", "session_id": "slow"}'
    with socket.create_connection(("127.0.0.1", server.port), timeout=15) as sock:
        sock.sendall(head("/api/v1/check", token, Content_Length=str(len(body))))
        started, reply = time.monotonic(), b""
        for byte in body:
            try:
                sock.sendall(bytes([byte]))
            except OSError:
                break  # the server hung up on us
            time.sleep(0.25)
            if time.monotonic() - started > BODY_TIMEOUT + 1:
                break
        sock.settimeout(5)
        try:
            while chunk := sock.recv(65536):
                reply += chunk
        except (TimeoutError, ConnectionResetError):
            pass
    assert status_of(reply) == 408, reply[:300]
    assert not SessionEvent.objects.exists()


def test_a_malformed_chunked_body_is_a_400(server, token):
    broken = head("/api/v1/check", token, Transfer_Encoding="chunked") + b"ZZ\r\nabc\r\n0\r\n\r\n"
    reply = raw_exchange(server.port, broken)
    assert status_of(reply) == 400, reply[:300]
    assert not SessionEvent.objects.exists()
