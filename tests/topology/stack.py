"""What docker-compose.yml starts, without Docker: Caddy with deploy/Caddyfile in front of two gunicorn
servers and daphne, two Celery workers and one beat, all on the test run's database and Redis, with the
production settings (config.production) the image runs."""

import http.client
import json
import secrets
import shutil
import ssl
import sys
from pathlib import Path

from django.conf import settings

from accounts.tests.celery_procs import database_url

from .processes import Process, free_port

ROOT = Path(__file__).resolve().parents[2]
CADDY = shutil.which("caddy") or "/usr/bin/caddy"


class Topology:
    def __init__(self, work_dir: Path, redis_url: str, claude_url: str) -> None:
        self.work_dir = work_dir
        self.redis_url = redis_url
        self.claude_url = claude_url
        self.web_ports = [free_port(), free_port()]
        self.ws_port = free_port()
        self.https_port = free_port()
        self.http_port = free_port()
        self.url = f"https://127.0.0.1:{self.https_port}"
        self.queue = f"topology-{secrets.token_hex(4)}"
        self.processes: dict[str, Process] = {}
        self.env = self._environment()

    def _environment(self) -> dict[str, str]:
        import os

        var = self.work_dir / "var"
        var.mkdir(parents=True, exist_ok=True)
        return {
            **{k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "DJANGO_"))},
            "DJANGO_SETTINGS_MODULE": "config.production",
            "SECRET_KEY": settings.SECRET_KEY,
            "FERNET_KEYS": ",".join(settings.FERNET_KEYS),
            "DATABASE_URL": database_url(),
            "CONN_MAX_AGE": "0",  # the test run flushes and finally drops this database
            "REDIS_URL": self.redis_url,
            "REDIS_KEY_PREFIX": settings.REDIS_KEY_PREFIX,  # deleted with the run's other keys
            "CELERY_QUEUE": self.queue,
            "GOVERNOR_VAR_DIR": str(var),
            "STATIC_ROOT": str(self.work_dir / "static"),
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "CSRF_TRUSTED_ORIGINS": self.url,
            "PUBLIC_URL": self.url,
            "TRUSTED_PROXIES": "127.0.0.1",  # Caddy's address as gunicorn and daphne see it
            "ACCOUNTS_POLL_TICK_SECONDS": "1",
            # Beat polls the loopback fake of the Claude APIs; alerts may go to loopback receivers.
            "CLAUDE_AI_BASE_URL": self.claude_url,
            "ANTHROPIC_API_BASE_URL": self.claude_url,
            "ALERTS_ALLOWED_PRIVATE_NETWORKS": "127.0.0.0/8",
            "LOG_LEVEL": "INFO",
            # Caddy: the same Caddyfile as compose, on loopback ports, with its own CA and state directory.
            "GOVERNOR_SITE": "127.0.0.1",
            "GOVERNOR_TLS": "internal",
            "GOVERNOR_HTTP_PORT": str(self.http_port),
            "GOVERNOR_HTTPS_PORT": str(self.https_port),
            "GOVERNOR_WEB_UPSTREAM": " ".join(f"127.0.0.1:{port}" for port in self.web_ports),
            "GOVERNOR_WS_UPSTREAM": f"127.0.0.1:{self.ws_port}",
            "XDG_DATA_HOME": str(self.work_dir / "caddy-data"),
            "XDG_CONFIG_HOME": str(self.work_dir / "caddy-config"),
        }

    def _start(self, name: str, *argv: str) -> Process:
        process = Process(name, list(argv), env=self.env, cwd=ROOT, log_dir=self.work_dir)
        self.processes[name] = process
        return process

    def _python(self, name: str, *argv: str) -> Process:
        return self._start(name, sys.executable, *argv)

    def start(self) -> "Topology":
        # As the image does at build time: the manifest storage needs collected files to render any page.
        self._python("collectstatic", "manage.py", "collectstatic", "--noinput", "-v0").popen.wait()
        for index, port in enumerate(self.web_ports, start=1):
            self._python(
                f"web{index}", "-m", "gunicorn", "config.wsgi:application", "--bind", f"127.0.0.1:{port}",
                "--workers", "1", "--worker-class", "gthread", "--threads", "4", "--access-logfile", "-",
            )  # fmt: skip
        self._python("ws", "-m", "daphne", "--no-server-name", "-b", "127.0.0.1", "-p", str(self.ws_port),
                     "config.asgi:application")  # fmt: skip
        for index in (1, 2):
            self._python(
                f"worker{index}", "-m", "celery", "-A", "config", "worker", "-n", f"worker{index}@%h",
                "--pool=threads", "--concurrency=2", "--without-gossip", "--without-mingle", "-l", "INFO",
            )  # fmt: skip
        self._python("beat", "-m", "celery", "-A", "config", "beat", "-l", "INFO",
                     "--schedule", str(self.work_dir / "var" / "celerybeat-schedule"))  # fmt: skip
        caddyfile = str(ROOT / "deploy" / "Caddyfile")
        self._start("caddy", CADDY, "run", "--config", caddyfile, "--adapter", "caddyfile")
        for name, port in [("web1", self.web_ports[0]), ("web2", self.web_ports[1]), ("ws", self.ws_port)]:
            self.processes[name].wait_listening(port)
        self.processes["caddy"].wait_listening(self.https_port)
        for name in ("worker1", "worker2"):
            self.processes[name].wait_for_line("ready.")
        return self

    def stop(self) -> None:
        # The front door first, then the servers, the scheduler and the workers that drain what it queued.
        for name in ["caddy", "web1", "web2", "ws", "beat", "worker1", "worker2"]:
            if name in self.processes:
                self.processes[name].stop()

    # --- talking to it ---------------------------------------------------------------------------------

    @property
    def ca_file(self) -> Path:
        return self.work_dir / "caddy-data" / "caddy" / "pki" / "authorities" / "local" / "root.crt"

    def ssl_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(cafile=str(self.ca_file))
        context.set_alpn_protocols(["http/1.1"])
        return context

    def request(
        self,
        method: str,
        path: str,
        body: object = None,
        *,
        headers: dict[str, str] | None = None,
        source: str = "127.0.0.1",
    ) -> tuple[int, dict[str, str], bytes]:
        """One HTTPS request through Caddy, from a chosen loopback address (127.0.0.0/8 are all this host)."""
        connection = http.client.HTTPSConnection(
            "127.0.0.1", self.https_port, timeout=30, context=self.ssl_context(), source_address=(source, 0)
        )
        payload = None if body is None else json.dumps(body).encode()
        sent = {"Content-Type": "application/json"} if payload is not None else {}
        try:
            connection.request(method, path, body=payload, headers=sent | (headers or {}))
            response = connection.getresponse()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
        finally:
            connection.close()

    def register(self, seat) -> dict[str, str]:
        """Registers `seat` through the front door as the hook does; returns its Authorization header."""
        from limiter import services

        code = services.install_code_issue(seat=seat)
        status, _, body = self.request("POST", "/api/v1/register", {"code": code})
        assert status == 200, body
        return {"Authorization": f"Bearer {json.loads(body)['auth_token']}"}

    def celery_app(self):
        """A Celery client on the topology's broker and queue (the test process's own settings may differ)."""
        from celery import Celery

        app = Celery("topology-client", broker=self.redis_url, set_as_current=False)
        app.conf.broker_transport_options = {"global_keyprefix": settings.REDIS_KEY_PREFIX}
        app.conf.task_default_queue = self.queue
        return app
