"""A real Matrix homeserver (Synapse) on loopback for the alerts tests (contract alert-transports §8).

Synapse gets a virtualenv of its own (it brings Twisted and pins of its own, about 240 MB), made on first use
under var/peers/ and reused by every later run on the machine; CI pays the install once. A homeserver that
cannot be installed or started is a test failure, never a skip.
"""

import fcntl
import json
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest

SYNAPSE_VERSION = "1.163.2"
ROOT = Path(__file__).resolve().parents[2]
VENV = ROOT / "var" / "peers" / f"synapse-{SYNAPSE_VERSION}"
STARTUP_SECONDS = 60


@dataclass(frozen=True)
class Homeserver:
    url: str
    token: str
    room_id: str

    def call(self, method: str, path: str, body: dict | None = None) -> dict:
        request = urllib.request.Request(
            self.url + path,
            method=method,
            data=json.dumps(body).encode() if body is not None else None,
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.load(response)

    def messages(self) -> list[dict]:
        """The room's m.room.message events, oldest first."""
        room = quote(self.room_id, safe="")
        found = self.call("GET", f"/_matrix/client/v3/rooms/{room}/messages?dir=b&limit=100")
        return [e for e in reversed(found["chunk"]) if e["type"] == "m.room.message"]


def _installed() -> Path:
    python = VENV / "bin" / "python"
    VENV.parent.mkdir(parents=True, exist_ok=True)
    # Two xdist workers may both get here first: one installs, the other waits for it.
    with open(VENV.parent / "synapse.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (VENV / ".installed").exists():
            subprocess.run([sys.executable, "-m", "venv", "--clear", str(VENV)], check=True)
            subprocess.run(
                [str(python), "-m", "pip", "install", "-q", f"matrix-synapse=={SYNAPSE_VERSION}"],
                check=True,
                timeout=900,
                capture_output=True,
            )
            (VENV / ".installed").touch()
    return python


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _overrides(port: int) -> str:
    # Loopback only, no federation, and message limits high enough for back-to-back test sends.
    return f"""
listeners:
  - {{port: {port}, bind_addresses: ['127.0.0.1'], type: http, tls: false, x_forwarded: false,
     resources: [{{names: [client], compress: false}}]}}
trusted_key_servers: []
suppress_key_server_warning: true
federation_domain_whitelist: []
presence: {{enabled: false}}
rc_message: {{per_second: 1000, burst_count: 1000}}
rc_registration: {{per_second: 1000, burst_count: 1000}}
rc_login:
  address: {{per_second: 1000, burst_count: 1000}}
  account: {{per_second: 1000, burst_count: 1000}}
  failed_attempts: {{per_second: 1000, burst_count: 1000}}
"""


def _wait_until_up(process: subprocess.Popen, url: str, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"Synapse exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url + "/_matrix/client/versions", timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"Synapse did not answer within {STARTUP_SECONDS} s:\n{log.read_text()[-3000:]}")


def _login(url: str) -> str:
    body = {"type": "m.login.password", "identifier": {"type": "m.id.user", "user": "alertbot"}}
    request = urllib.request.Request(
        url + "/_matrix/client/v3/login",
        data=json.dumps(body | {"password": "alertbot-pass"}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)["access_token"]


@pytest.fixture(scope="session")
def synapse(tmp_path_factory):
    try:
        python = _installed()
    except subprocess.SubprocessError as exc:
        output = getattr(exc, "stderr", b"") or b""
        pytest.fail(f"Cannot install Synapse {SYNAPSE_VERSION}: {exc}\n{output.decode()[-3000:]}")
    home = tmp_path_factory.mktemp("synapse")
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    subprocess.run(  # from inside its directory: the generated log config uses relative paths
        [str(python), "-m", "synapse.app.homeserver", "--server-name", "localhost", "--config-path",
         "homeserver.yaml", "--data-directory", ".", "--generate-config", "--report-stats=no"],
        cwd=home, check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    (home / "overrides.yaml").write_text(_overrides(port))
    log = home / "stdout.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [str(python), "-m", "synapse.app.homeserver", "-c", "homeserver.yaml", "-c", "overrides.yaml"],
            cwd=home,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_until_up(process, url, log)
        subprocess.run(
            [str(VENV / "bin" / "register_new_matrix_user"), "-c", "homeserver.yaml", "-u", "alertbot",
             "-p", "alertbot-pass", "--no-admin", url],
            cwd=home, check=True, capture_output=True, timeout=60,
        )  # fmt: skip
        token = _login(url)
        bot = Homeserver(url, token, "")
        room = bot.call("POST", "/_matrix/client/v3/createRoom", {"preset": "private_chat", "name": "alerts"})
        yield Homeserver(url, token, room["room_id"])
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
