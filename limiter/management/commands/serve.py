"""The embedded one-command service: migrate, first admin, then web (daphne) + Celery worker with beat."""

import os
import secrets
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from config.private_files import PRIVATE_UMASK

from ... import services

APP = ["config.asgi:application"]


class Command(BaseCommand):
    help = "Run Governor on this machine: web server, Celery worker and beat, until Ctrl-C."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)

    def handle(self, *args, host: str, port: int, **options) -> None:
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
        self.stdout.write(self.style.SUCCESS(f"Governor is running at {url}/admin/ (Ctrl-C stops it)."))
        stopping = False

        def stop(signum, frame):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        while not stopping and all(p.poll() is None for p in processes):
            time.sleep(0.5)
        for process in processes:
            if process.poll() is None:
                process.terminate()
        for process in processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
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
