"""The hook client developers install, how the server hands it out, and the one-line install command."""

import shlex

from django.conf import settings


def server_url(request) -> str:
    """This server as developer machines reach it: PUBLIC_URL, else the address the request came to."""
    return settings.PUBLIC_URL or request.build_absolute_uri("/").rstrip("/")


def install_command(server_url: str, code: str) -> str:
    """What an admin copies from the seat page: download the installer from this server and run it as root."""
    base = server_url.rstrip("/")
    return f"curl -fsSL {shlex.quote(base + '/install.sh')} | sudo sh -s -- --code {shlex.quote(code)}"
