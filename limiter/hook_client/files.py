"""The client file and the installer as served: bytes, digest, and the installer with this server baked in."""

import hashlib
import shlex
from functools import lru_cache
from pathlib import Path

CLIENT_PATH = Path(__file__).with_name("governor_hook.py")
INSTALLER_PATH = Path(__file__).with_name("install.sh")


@lru_cache(maxsize=1)
def _client(mtime_ns: int) -> tuple[bytes, str]:
    data = CLIENT_PATH.read_bytes()
    return data, hashlib.sha256(data).hexdigest()


def client_file() -> tuple[bytes, str]:
    """(contents, SHA-256 hex) of the client this server runs; re-read when the file changes on disk."""
    return _client(CLIENT_PATH.stat().st_mtime_ns)


def installer_script(server_url: str) -> str:
    _, digest = client_file()
    return (
        INSTALLER_PATH.read_text()
        .replace("@@SERVER_URL@@", shlex.quote(server_url.rstrip("/")))
        .replace("@@CLIENT_SHA256@@", digest)
    )
