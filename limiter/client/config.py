"""The root-owned installation: config.json and this machine's token."""

import os

from .base import GATE_TIMEOUT, Broken, read_json
from .http import http_json
from .paths import DROPIN_NAME, HOOK_NAME, install_traces


class Install:
    def __init__(self, paths):
        self.paths = paths
        try:
            config = read_json(paths.config)
        except (OSError, ValueError) as exc:
            raise Broken(f"Claude Governor's configuration ({paths.config}) is unreadable: {exc}.") from None
        self.present = config is not None
        self.config = config or {}
        self.token = ""
        if not self.present:
            traces = leftovers(paths.install_dir)
            if traces:
                # Deleting config.json must not turn an install off: whatever of it remains fails closed
                # until the watchdog (or setup) restores the configuration.
                raise Broken(
                    f"Claude Governor's configuration ({paths.config}) is missing, but the rest of its "
                    f"install is present ({', '.join(traces)})."
                )
            return
        self.server = str(self.config.get("server_url") or "").rstrip("/")
        try:
            with open(paths.token, encoding="utf-8") as handle:
                self.token = handle.read().strip()
        except OSError as exc:
            raise Broken(f"Claude Governor's token ({paths.token}) is unreadable: {exc.strerror}.") from None
        if not self.server or not self.token:
            raise Broken("Claude Governor's configuration is incomplete (server URL or token missing).")

    def call(self, method, path, payload=None, timeout=GATE_TIMEOUT):
        status, body = http_json(method, self.server, path, payload, token=self.token, timeout=timeout)
        if status == 401:
            remember_rejection(self.paths, body)
        return status, body


def remember_rejection(paths, body):
    """A 401 sticks in the cache until an authenticated answer clears it (server.apply_answer): a revoked
    machine that then loses its server must not go on from cache for the offline grace."""
    from .base import iso, now_utc
    from .state import update_state

    error = body.get("error") if isinstance(body.get("error"), str) else "token rejected"
    error = f"HTTP 401: {error}"
    mark = {"at": iso(now_utc()), "error": error[:300]}
    update_state(paths, lambda state: state.__setitem__("token_rejected", mark))


def leftovers(install_dir):
    """What remains of an install without its configuration: files in its directory, its drop-in."""
    traces = install_traces(install_dir)
    if os.path.exists(os.path.join(install_dir, HOOK_NAME)):
        traces.append(HOOK_NAME)
    dropin = os.path.join(os.path.dirname(install_dir), "managed-settings.d", DROPIN_NAME)
    if os.path.exists(dropin):
        traces.append(dropin)
    return traces
