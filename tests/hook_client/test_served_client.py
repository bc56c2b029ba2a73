"""The server hands out the client it ships, verifiably, and that client runs on Python 3.9."""

import hashlib
import subprocess
import sys
from pathlib import Path

import pytest

from limiter import services
from limiter.hook_client import build, install_command
from limiter.models import HookToken

from .conftest import CLIENT, oldest_python

REPO = CLIENT.parents[2]


def test_client_file_is_served_with_its_sha256(client):
    data = CLIENT.read_bytes()
    digest = hashlib.sha256(data).hexdigest()

    response = client.get("/api/v1/client.py")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/x-python")
    assert response.content == data
    assert response["X-Content-SHA256"] == digest

    sums = client.get("/api/v1/client.py.sha256")
    assert sums.content.decode() == f"{digest}  governor_hook.py\n"


def test_install_script_bakes_in_the_public_url_and_the_clients_digest(client, settings):
    settings.PUBLIC_URL = "https://governor.example.com"
    script = client.get("/install.sh").content.decode()
    assert "SERVER=https://governor.example.com\n" in script
    assert f'CLIENT_SHA256="{hashlib.sha256(CLIENT.read_bytes()).hexdigest()}"' in script
    assert "@@" not in script
    assert subprocess.run(["sh", "-n"], input=script, text=True, check=False).returncode == 0


def test_install_command_quotes_what_it_is_given():
    assert install_command("https://gov.example.com/", "CLM-alice-1f3a9c") == (
        "curl -fsSL https://gov.example.com/install.sh | sudo sh -s -- --code CLM-alice-1f3a9c"
    )
    assert "'CLM-a;rm -rf ~'" in install_command("https://gov.example.com", "CLM-a;rm -rf ~")


def test_client_compiles_under_the_oldest_python_available(tmp_path):
    python = oldest_python()
    done = subprocess.run(
        [
            python,
            "-c",
            "import py_compile, sys; py_compile.compile(sys.argv[1], cfile=sys.argv[2], doraise=True)",
            str(CLIENT),
            str(tmp_path / "client.pyc"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr


def test_client_sources_are_python39_clean_for_ruff():
    """The package and the server modules it bundles, checked as the oldest supported Python reads them."""
    done = subprocess.run(
        [
            str(Path(sys.executable).with_name("ruff")),
            "check",
            "--target-version",
            "py39",
            "--no-cache",
            "limiter/client",
            *(f"limiter/{name}.py" for name in build.SERVER_MODULES),
            "limiter/hook_client/bundle_head.py",
        ],
        capture_output=True,
        text=True,
        cwd=REPO,
        check=False,
    )
    assert done.returncode == 0, done.stdout


@pytest.mark.django_db
def test_revoke_retires_only_the_calling_token(client):
    seat = services.seat_create(slug="bob", name="Bob")
    token, _ = services.register(code=services.install_code_issue(seat=seat), ip="127.0.0.1")
    other, _ = services.register(code=services.install_code_issue(seat=seat), ip="127.0.0.1")

    assert client.post("/api/v1/revoke", content_type="application/json").status_code == 401
    response = client.post(
        "/api/v1/revoke", HTTP_AUTHORIZATION=f"Bearer {token}", content_type="application/json"
    )
    assert response.json() == {"revoked": True}
    assert HookToken.objects.filter(seat=seat, revoked_at__isnull=True).count() == 1
    again = client.post(
        "/api/v1/revoke", HTTP_AUTHORIZATION=f"Bearer {token}", content_type="application/json"
    )
    assert again.status_code == 401
    assert client.get("/api/v1/status", HTTP_AUTHORIZATION=f"Bearer {other}").status_code == 200
