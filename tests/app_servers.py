"""The production app servers as real processes: gunicorn (WSGI, `docker compose`) and daphne (ASGI, the
embedded `manage.py serve`), on a free loopback port, serving the test database."""

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from django.conf import settings

from accounts.tests.celery_procs import database_url
from tests.topology.processes import free_port

ROOT = Path(__file__).resolve().parents[1]


class AppServer:
    """One web process on the test database; every process of a run shares the secret key, so one login
    (a session cookie) works on all of them."""

    def __init__(self, kind: str, log_dir: Path, *, name: str = "", **env: str) -> None:
        assert kind in ("gunicorn", "daphne")
        self.kind = kind
        self.port = free_port()
        self.log_path = log_dir / f"{name or kind}.log"
        self.env = dict(
            os.environ,
            DJANGO_SETTINGS_MODULE="config.test_settings",
            DATABASE_URL=database_url(),
            SECRET_KEY=settings.SECRET_KEY,
            FERNET_KEYS=",".join(settings.FERNET_KEYS),
            CONN_MAX_AGE="0",
            **env,
        )
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def _command(self) -> list[str]:
        if self.kind == "gunicorn":
            return [
                sys.executable, "-m", "gunicorn", "config.wsgi:application",
                "--bind", f"127.0.0.1:{self.port}",
                "--workers", "1", "--worker-class", "gthread", "--threads", "4", "--timeout", "30",
                "--no-control-socket",  # its default path is shared by every gunicorn on the machine
            ]  # fmt: skip
        return [
            sys.executable, "-m", "config.embedded_http", "-b", "127.0.0.1", "-p", str(self.port),
            "config.asgi:application",
        ]  # fmt: skip

    def start(self) -> "AppServer":
        log = open(self.log_path, "wb")  # noqa: SIM115 (closed with the process)
        self.proc = subprocess.Popen(
            self._command(), cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT
        )
        # Ready when the app itself answers: gunicorn listens before its worker has loaded Django.
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.log_path.read_text()
            try:
                health = f"http://127.0.0.1:{self.port}/api/v1/health"
                with urllib.request.urlopen(health, timeout=10) as reply:
                    if reply.status == 200:
                        return self
            except OSError:
                time.sleep(0.2)
        raise AssertionError(f"{self.kind} did not start: {self.log_path.read_text()}")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc = None


def raw_exchange(port: int, request: bytes, *, pause_after: float = 0.0, timeout: float = 60.0) -> bytes:
    """Sends bytes as they are (no HTTP library tidies them) and reads until the server answers or closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(request)
        if pause_after:
            time.sleep(pause_after)
        received = b""
        while True:
            try:
                chunk = sock.recv(65536)
            except (TimeoutError, ConnectionResetError):
                break
            if not chunk:
                break
            received += chunk
            if _complete(received):
                break
        return received


def _complete(data: bytes) -> bool:
    head, sep, body = data.partition(b"\r\n\r\n")
    if not sep:
        return False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(body) >= int(value.strip())
    return False


def status_of(response: bytes) -> int:
    return int(response.split(b" ", 2)[1]) if response.startswith(b"HTTP/") else 0


def body_of(response: bytes) -> bytes:
    return response.partition(b"\r\n\r\n")[2]
