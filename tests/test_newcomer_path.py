"""A newcomer's first minutes: `make run` on a port they choose, the bare address leads to the admin, the
password printed on the first run logs in, and a busy port is reported before anything claims to run."""

import os
import re
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
import requests

from tests.topology.processes import free_port

ROOT = Path(__file__).resolve().parents[1]


def _embedded_env(var_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY")}
    return env | {"DJANGO_SETTINGS_MODULE": "config.settings", "GOVERNOR_VAR_DIR": str(var_dir)}


def test_the_bare_address_and_view_site_lead_to_the_admin(client):
    reply = client.get("/")
    assert reply.status_code == 302
    assert reply["Location"] == "/admin/"


def test_a_busy_port_is_reported_before_anything_claims_to_be_running(tmp_path):
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        result = subprocess.run(
            ["make", "-s", "run", f"PORT={port}", "HOST=127.0.0.1"],
            cwd=ROOT,
            env=_embedded_env(tmp_path),
            capture_output=True,
            text=True,
            timeout=120,
        )

    assert result.returncode != 0
    assert f"Cannot listen on 127.0.0.1:{port}" in result.stderr
    assert f"make run PORT={port + 1}" in result.stderr
    assert "running" not in result.stdout
    assert not (tmp_path / "governor.sqlite3").exists()  # it stopped before migrating anything


def test_make_run_on_a_chosen_port_prints_a_login_that_works(tmp_path):
    port = free_port()
    log = tmp_path / "run.log"
    with open(log, "w") as out:
        run = subprocess.Popen(
            ["make", "-s", "run", f"PORT={port}"],
            cwd=ROOT,
            env=_embedded_env(tmp_path / "var"),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # one process group: make, serve, daphne and celery stop together
        )
    try:
        deadline = time.monotonic() + 120
        while "Governor is running" not in log.read_text() and time.monotonic() < deadline:
            assert run.poll() is None, log.read_text()
            time.sleep(0.3)
        output = log.read_text()
        assert f"Governor is running at http://127.0.0.1:{port}/" in output
        password = re.search(r"as user 'admin' with password (\S+)", output).group(1)

        browser = requests.Session()
        landing = browser.get(f"http://127.0.0.1:{port}/", timeout=30)
        assert landing.url.startswith(f"http://127.0.0.1:{port}/admin/login/")
        signed_in = browser.post(
            landing.url,
            data={
                "username": "admin",
                "password": password,
                "csrfmiddlewaretoken": browser.cookies["csrftoken"],
                "next": "/admin/",
            },
            headers={"Referer": landing.url},
            timeout=30,
        )
        assert signed_in.url == f"http://127.0.0.1:{port}/admin/"
        assert "Dashboard | Claude Governor" in signed_in.text
    finally:
        os.killpg(run.pid, signal.SIGTERM)
        try:
            run.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(run.pid, signal.SIGKILL)
            pytest.fail("make run did not stop on SIGTERM")
