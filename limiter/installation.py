"""What an admin copies to install the hook client on a developer machine."""

import shlex

from django.conf import settings


def server_url(request) -> str:
    return settings.PUBLIC_URL or request.build_absolute_uri("/").rstrip("/")


def install_command(request, code: str) -> str:
    base = server_url(request)
    return f"curl -fsSL {shlex.quote(base + '/install.sh')} | sudo sh -s -- --code {shlex.quote(code)}"
