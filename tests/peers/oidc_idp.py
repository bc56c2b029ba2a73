"""A real OpenID Connect provider (npm `oidc-provider`) on loopback, for the single sign-on tests.

`npm ci` installs it from the committed lock file the first time (CI has the npm registry, nothing else).
"""

import json
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests

from tests.topology.processes import free_port

PEERS = Path(__file__).resolve().parent
CLIENT_ID = "governor-test"
CLIENT_SECRET = "governor-test-secret"  # the test provider's client, not a real credential


def ensure_installed() -> None:
    installed = PEERS / "node_modules" / ".package-lock.json"  # npm writes it after each install
    if installed.exists() and installed.stat().st_mtime >= (PEERS / "package-lock.json").stat().st_mtime:
        return
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("npm is needed for the OIDC provider tests (Debian: apt-get install nodejs npm).")
    subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=PEERS, check=True, timeout=300
    )


class OidcProvider:
    def __init__(self, port: int, log: Path) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.log = log

    def set_person(self, sub: str, *, groups: list[str], email: str | None = None, name: str | None = None):
        """Changes what the provider says about `sub` from its next login on."""
        claims = {"name": name or sub.capitalize(), "email": email or f"{sub}@example.test", "groups": groups}
        response = requests.put(f"{self.url}/test-users/{sub}", json=claims, timeout=5)
        assert response.status_code == 204, response.text


@contextmanager
def running_provider(*, redirect_uris: list[str], people: dict, log_dir: Path) -> Iterator[OidcProvider]:
    ensure_installed()
    node = shutil.which("node")
    if node is None:
        raise RuntimeError("node is needed for the OIDC provider tests (Debian: apt-get install nodejs).")
    port = free_port()
    log = log_dir / "idp.log"
    env = {
        **os.environ,
        "IDP_PORT": str(port),
        "IDP_REDIRECTS": ",".join(redirect_uris),
        "IDP_USERS": json.dumps(people),
        "NODE_NO_WARNINGS": "1",
    }
    with log.open("w") as out:
        process = subprocess.Popen([node, str(PEERS / "idp.mjs")], cwd=PEERS, env=env, stdout=out, stderr=out)
    provider = OidcProvider(port, log)
    try:
        _wait_ready(provider, process)
        yield provider
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_ready(provider: OidcProvider, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"The OIDC provider exited: {provider.log.read_text()}")
        try:
            if requests.get(f"{provider.url}/.well-known/openid-configuration", timeout=1).ok:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"The OIDC provider did not start: {provider.log.read_text()}")
