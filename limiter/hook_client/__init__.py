"""The hook client developers install, how the server hands it out, and the one-line install command."""

import shlex


def install_command(server_url: str, code: str) -> str:
    """What an admin copies from the seat page: download the installer from this server and run it as root."""
    base = server_url.rstrip("/")
    return f"curl -fsSL {shlex.quote(base + '/install.sh')} | sudo sh -s -- --code {shlex.quote(code)}"
