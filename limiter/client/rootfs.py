"""Root-side file work shared by setup, the watchdog and uninstall: owners, modes, bytecode."""

import os
import sys

from .base import write_atomic
from .paths import running_bundle


def is_root():
    if sys.platform == "win32":
        try:
            import ctypes

            return bool(ctypes.windll.shell32.IsUserAnAdmin())
        except Exception:
            return False
    return os.geteuid() == 0


def require_root(what):
    if os.environ.get("GOVERNOR_ROOT") or is_root():
        return
    raise SystemExit(f"claude-governor {what} must run as root (sudo) or an administrator.")


def write_file(path, data, mode, owner=None):
    """An installed file: its directory readable by everyone (Claude Code reads policy as the user)."""
    os.makedirs(os.path.dirname(path), mode=0o755, exist_ok=True)
    write_atomic(path, data, mode=mode)
    os.chmod(path, mode)
    if owner is not None and hasattr(os, "chown"):
        os.chown(path, owner[0], owner[1])


def target_user(name):
    """(uid, gid, home) of the developer who will run Claude Code: --user, else the sudo caller."""
    name = name or os.environ.get("SUDO_USER")
    if not name or os.name == "nt":
        return None
    import pwd

    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        raise SystemExit(f"No such user: {name}") from None
    return entry.pw_uid, entry.pw_gid, entry.pw_dir, name


def bytecode_path(source):
    import importlib.util

    return importlib.util.cache_from_source(source)


def compile_hook(paths):
    """Bytecode for the interpreter that runs the hook, written by root beside the source: the file's
    own, and one per module it carries (the installed file carries what the running one does)."""
    import py_compile

    target = bytecode_path(paths.hook)
    py_compile.compile(paths.hook, cfile=target, doraise=True)
    os.chmod(os.path.dirname(target), 0o755)
    os.chmod(target, 0o644)
    bundle = running_bundle()
    if bundle is not None:
        type(bundle)(paths.hook, bundle.sources).precompile()


