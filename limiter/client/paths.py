"""Where the client's files live on each OS, and the hook log."""

import os
import sys

from .base import LOG_LIMIT, iso, now_utc

HOOK_NAME = "governor_hook.py"
# Claude Code starts this small file; it imports the client, whose bytecode setup compiled ahead. Running
# the built client as a script would compile it on every prompt (about 40 ms).
LAUNCHER_NAME = "run_governor_hook.py"
LAUNCHER = (
    "import os, sys\n"
    "sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))\n"
    "from governor_hook import main\n"
    "sys.exit(main(sys.argv[1:]))\n"
)
DROPIN_NAME = "50-claude-governor.json"


def _system_managed_dir():
    if sys.platform == "darwin":
        return "/Library/Application Support/ClaudeCode"
    if os.name == "nt":
        return os.path.join(os.environ.get("PROGRAMFILES", r"C:\Program Files"), "ClaudeCode")
    return "/etc/claude-code"


def rooted(path):
    """`path` under GOVERNOR_ROOT when set: tests install into a temporary root."""
    root = os.environ.get("GOVERNOR_ROOT")
    if not root:
        return path
    rest = os.path.splitdrive(path)[1].lstrip("\\/")
    return os.path.join(root, rest)


def running_bundle():
    """The built single file's loader (limiter/hook_client/bundle_head.py) when running from it."""
    return getattr(sys.modules.get(__name__.split(".")[0]), "__bundle__", None)


def program_file():
    """The built single file this client runs from; None when running from the package sources."""
    bundle = running_bundle()
    return bundle.path if bundle is not None else None


def install_traces(install_dir):
    """The root-owned parts of an install present in `install_dir`."""
    names = ("config.json", "token", LAUNCHER_NAME, ".backup")
    return [name for name in names if os.path.exists(os.path.join(install_dir, name))]


def home_dir():
    return os.environ.get("GOVERNOR_HOME") or os.path.expanduser("~")


def default_state_dir():
    if os.environ.get("GOVERNOR_STATE_DIR"):
        return os.environ["GOVERNOR_STATE_DIR"]
    if os.name == "nt":
        base = os.environ.get("LOCALAPPDATA") or os.path.join(home_dir(), "AppData", "Local")
        return os.path.join(base, "claude-governor")
    if sys.platform == "darwin":
        return os.path.join(home_dir(), "Library", "Application Support", "claude-governor")
    base = os.environ.get("XDG_STATE_HOME") or os.path.join(home_dir(), ".local", "state")
    return os.path.join(base, "claude-governor")


class Paths:
    """Where things live. An installed copy trusts only the directory it sits in, never the environment:
    a user who could point the hook at another config through an env var could bypass it."""

    def __init__(self, install_dir=None):
        program = program_file()
        here = os.path.dirname(program) if program else None
        # A copy in a directory holding any part of an install is that install, even with config.json
        # gone: it then fails closed instead of falling back to the environment (or to "not installed").
        self.installed_copy = install_dir is None and here is not None and bool(install_traces(here))
        if install_dir:
            self.install_dir = install_dir
        elif self.installed_copy:
            self.install_dir = here
        else:
            self.install_dir = os.environ.get("GOVERNOR_INSTALL_DIR") or os.path.join(
                self.managed_dir(), "claude-governor"
            )
        self.config = os.path.join(self.install_dir, "config.json")
        self.token = os.path.join(self.install_dir, "token")
        self.hook = os.path.join(self.install_dir, HOOK_NAME)
        self.launcher = os.path.join(self.install_dir, LAUNCHER_NAME)
        self.backup = os.path.join(self.install_dir, ".backup")
        self.state_dir = default_state_dir()
        self.state = os.path.join(self.state_dir, "state.json")
        self.lock = os.path.join(self.state_dir, "state.lock")
        self.queue = os.path.join(self.state_dir, "queue")
        self.sessions = os.path.join(self.state_dir, "sessions")
        self.log = os.path.join(self.state_dir, "hook.log")

    @staticmethod
    def managed_dir():
        return os.environ.get("GOVERNOR_MANAGED_DIR") or rooted(_system_managed_dir())

    def tunable(self, config, name, default):
        """Test knobs (timeouts, recheck interval) come from the root-owned config of an installed copy,
        and from the environment only when running outside an install."""
        value = config.get(name) if self.installed_copy else os.environ.get("GOVERNOR_" + name.upper())
        if value is None:
            value = config.get(name, default)
        try:
            return float(value)
        except (TypeError, ValueError):
            return default

def log(paths, message):
    """A line in the state directory's hook.log (kept under about 2 MB: one previous file)."""
    try:
        os.makedirs(paths.state_dir, mode=0o700, exist_ok=True)
        if os.path.exists(paths.log) and os.path.getsize(paths.log) > LOG_LIMIT:
            os.replace(paths.log, paths.log + ".1")
        with open(paths.log, "a", encoding="utf-8") as handle:
            handle.write(f"{iso(now_utc())} {message}\n")
    except OSError:
        pass

