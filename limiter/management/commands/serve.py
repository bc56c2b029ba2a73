"""The embedded one-command service: migrate, first admin, then web (daphne) + Celery worker with beat."""

import os
import secrets
import signal
import socket
import subprocess
import sys
import time

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from config.private_files import PRIVATE_UMASK

from ... import services

APP = ["config.asgi:application"]


class Command(BaseCommand):
    help = "Run Governor on this machine: web server, Celery worker and beat, until Ctrl-C."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)

    def handle(self, *args, host: str, port: int, **options) -> None:
        # Before anything else, so a busy port is the first and only thing the newcomer reads.
        _check_port_free(host, port)
        # Everything this service and its children create in var/ (database, WAL, queue) is private.
        os.umask(PRIVATE_UMASK)
        call_command("migrate", interactive=False, verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)
        services.team_current()
        url = f"http://{host}:{port}"
        self._first_admin(url)
        processes = [
            subprocess.Popen(  # noqa: S603 - our own interpreter and fixed arguments
                # daphne, refusing requests that arrive too slowly or too large (config/embedded_http.py)
                [sys.executable, "-m", "config.embedded_http", "-b", host, "-p", str(port), *APP]
            ),
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "config",
                    "worker",
                    "--beat",
                    "--pool=threads",
                    "--concurrency=4",
                    "--loglevel=INFO",
                    "--without-mingle",
                    "--without-gossip",
                ]
            ),
        ]
        # Announce only what is true: the web server accepts connections (it may still lose a bind race).
        started = _wait_until_listening(host, port, processes[0])
        if started:
            self.stdout.write(self.style.SUCCESS(f"Governor is running at {url}/ (Ctrl-C stops it)."))
        stopping = False

        def stop(signum, frame):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        while started and not stopping and all(p.poll() is None for p in processes):
            time.sleep(0.5)
        for process in processes:
            if process.poll() is None:
                process.terminate()
        for process in processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
        if not started:
            raise SystemExit(f"The web server did not start on {host}:{port}; see its error above.")
        if not stopping:
            raise SystemExit("A Governor process stopped unexpectedly; see the log above.")

    def _first_admin(self, url: str) -> None:
        users = get_user_model().objects
        # With single sign-on configured, /admin/login/ goes to the provider; the local form lives apart.
        login = f"{url}/admin/login/local/" if settings.OIDC_SERVER_URL else f"{url}/admin/"
        if users.filter(is_superuser=True).exists():
            self.stdout.write(f"Log in at {login} with your admin account.")
            return
        password = secrets.token_urlsafe(12)
        users.create_superuser("admin", email="", password=password)
        self.stdout.write(
            self.style.WARNING(
                f"First run: log in at {login} as user 'admin' with password {password}\n"
                "This password is shown only now; change it after logging in "
                "(or run `python manage.py changepassword admin`)."
            )
        )


def _check_port_free(host: str, port: int) -> None:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        # SO_REUSEADDR as daphne sets it: a port in TIME_WAIT after a restart is free, a listener is not.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            raise CommandError(
                f"Cannot listen on {host}:{port}: {error.strerror}. Another program is using it; "
                f"choose another, e.g. `make run PORT={port + 1}` or `manage.py serve --port {port + 1}`."
            ) from error


def _wait_until_listening(host: str, port: int, web: subprocess.Popen, timeout: float = 60.0) -> bool:
    """True once the web server accepts connections; False if it exited first (its error is in the log)."""
    deadline = time.monotonic() + timeout
    address = "127.0.0.1" if host in ("0.0.0.0", "") else "::1" if host == "::" else host  # noqa: S104
    while time.monotonic() < deadline and web.poll() is None:
        try:
            socket.create_connection((address, port), timeout=1).close()
            return True
        except OSError:
            time.sleep(0.2)
    return web.poll() is None
