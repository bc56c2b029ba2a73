"""`setup` and `uninstall` (root): register with the server, write the install, restore it all on removal."""

import os
import sys

from .base import VERSION, Broken, Unreachable, forget, iso, now_utc, read_json, sha256_file, write_atomic
from .config import Install
from .http import http_json
from .jsonfast import pretty_json
from .managed import merge_settings, restore_settings
from .paths import DROPIN_NAME, HOOK_NAME, LAUNCHER, LAUNCHER_NAME, Paths, program_file, rooted
from .rootfs import compile_hook, is_root, require_root, target_user, write_file
from .watchdog import LAUNCHD_LABEL, UNIT_NAME, WINDOWS_TASK, install_watchdog


def _ask(question, yes):
    if yes:
        return True
    try:
        with open("/dev/tty" if os.name != "nt" else "CON") as tty:
            sys.stdout.write(question + " [y/N] ")
            sys.stdout.flush()
            return tty.readline().strip().lower() in ("y", "yes")
    except OSError:
        raise SystemExit("No terminal to confirm on; pass --yes.") from None


def cmd_setup(args):
    require_root("setup")

    server = args.server.rstrip("/")
    paths = Paths(args.install_dir or None)
    user = target_user(args.user)
    managed_dir = os.path.dirname(paths.install_dir) if args.install_dir else Paths.managed_dir()
    settings_file = (
        os.path.join(managed_dir, "managed-settings.json")
        if args.settings == "main"
        else os.path.join(managed_dir, "managed-settings.d", DROPIN_NAME)
    )
    if not _ask(
        "Install the Claude Governor hook for {} (server {})?".format(
            user[3] if user else "this machine", server
        ),
        args.yes,
    ):
        print("Nothing installed.")
        return 1
    try:
        status, body = http_json("POST", server, "/api/v1/register", {"code": args.code}, timeout=15)
    except Unreachable as exc:
        print(f"Cannot reach {server}: {exc}", file=sys.stderr)
        return 2
    if status != 200 or not body.get("auth_token"):
        print(f"Registration failed (HTTP {status}): {body.get('error') or 'no token'}", file=sys.stderr)
        return 2
    seat = body.get("user") if isinstance(body.get("user"), dict) else {}
    _revoke_previous_token(paths)
    python = os.path.realpath(sys.executable)
    os.makedirs(paths.install_dir, mode=0o755, exist_ok=True)
    os.chmod(paths.install_dir, 0o755)
    os.makedirs(paths.backup, mode=0o700, exist_ok=True)
    os.chmod(paths.backup, 0o700)
    previous = None
    try:
        previous = read_json(os.path.join(paths.backup, "config.json"))
    except (OSError, ValueError):
        previous = None
    program = program_file()
    if program is None:
        raise SystemExit("setup installs the built file: run limiter/hook_client/governor_hook.py setup …")
    with open(program, "rb") as handle:
        hook_bytes = handle.read()
    write_file(paths.hook, hook_bytes, 0o644)
    write_file(paths.launcher, LAUNCHER.encode(), 0o644)
    compile_hook(paths)
    settings_original = (previous or {}).get("settings_original")
    if previous is None:
        settings_original = None
        if os.path.exists(settings_file):
            with open(settings_file, "rb") as handle:
                original = handle.read()
            write_file(os.path.join(paths.backup, "settings.orig"), original, 0o600)
            settings_original = "settings.orig"
    try:
        current = read_json(settings_file)
    except ValueError:
        raise SystemExit(
            f"{settings_file} is not valid JSON; fix or move it, then run setup again."
        ) from None
    merged = merge_settings(current, python, paths.launcher, not args.allow_user_hooks)
    settings_dir_existed = os.path.isdir(os.path.dirname(settings_file))
    os.makedirs(os.path.dirname(settings_file), mode=0o755, exist_ok=True)
    write_file(settings_file, pretty_json(merged), 0o644)
    token_owner = (user[0], user[1]) if user and is_root() else None
    write_file(
        paths.token, (body["auth_token"] + "\n").encode(), 0o400 if token_owner else 0o600, token_owner
    )
    watchdog = install_watchdog(python, paths, args, dry=bool(os.environ.get("GOVERNOR_ROOT")))
    config = {
        "version": VERSION,
        "server_url": server,
        "seat": {k: seat.get(k) for k in ("id", "name", "slug")},
        "installed_at": iso(now_utc()),
        "python": python,
        "install_dir": paths.install_dir,
        "settings_file": settings_file,
        "settings_original": settings_original,
        "settings_dir_existed": (previous or {}).get("settings_dir_existed", settings_dir_existed),
        "managed_hooks_only": not args.allow_user_hooks,
        "claude_bin": _find_claude(user) or (previous or {}).get("claude_bin"),
        "status_line_previous": _previous_status_line(current, managed_dir, previous),
        "user": user[3] if user else None,
        "watchdog": watchdog,
    }
    write_file(paths.config, pretty_json(config), 0o644)
    snapshot_backup(paths, config)
    if user and is_root():
        _prepare_state_dir(user)
    print("Claude Governor is installed for {} ({}).".format(seat.get("name") or "this seat", server))
    print(f"  hook:     {paths.hook}")
    print(f"  settings: {settings_file}")
    print("  watchdog: {}".format(watchdog["summary"]))
    print("Restart Claude Code to start using it.")
    return 0


def _previous_status_line(current, managed_dir, previous):
    """A managed status line ours replaces (in the file we write, or the main managed file beside our
    drop-in): the status line command runs it and keeps its output."""
    from .statusline import command_of

    main: dict = {}
    try:
        main = read_json(os.path.join(managed_dir, "managed-settings.json")) or {}
    except (OSError, ValueError):
        pass
    for settings in (current, main):
        command = command_of((settings or {}).get("statusLine"))
        if command:
            return command
    return (previous or {}).get("status_line_previous")


def _find_claude(user):
    """The `claude` the developer runs: sudo's PATH rarely has a per-user install in it."""
    import shutil

    found = shutil.which("claude")
    if found or user is None:
        return found
    home = user[2]
    for candidate in (
        os.path.join(home, ".local", "bin", "claude"),
        os.path.join(home, ".claude", "local", "claude"),
        os.path.join(home, ".npm-global", "bin", "claude"),
        "/usr/local/bin/claude",
        "/opt/homebrew/bin/claude",
    ):
        if os.access(candidate, os.X_OK):
            return candidate
    return None


def _revoke_previous_token(paths):
    """Setting up again replaces this machine's token; the old one is retired on its server."""
    try:
        old = Install(Paths(paths.install_dir))
    except Broken:
        return
    if not old.present:
        return
    try:
        status, _ = old.call("POST", "/api/v1/revoke", {}, timeout=10)
    except Unreachable:
        status = None
    if status != 200:
        print(
            "warning: could not revoke this machine's previous token; ask your admin to revoke it.",
            file=sys.stderr,
        )


def _prepare_state_dir(user):
    """The per-user state directory, created owned by the developer so the hook can always write it."""
    uid, gid, home, _name = user
    parts = (".local", "state") if sys.platform != "darwin" else ("Library", "Application Support")
    directory = rooted(home)
    for part in (*parts, "claude-governor"):
        directory = os.path.join(directory, part)
        if not os.path.isdir(directory):
            os.makedirs(directory, mode=0o700, exist_ok=True)
            os.chown(directory, uid, gid)
    os.chmod(directory, 0o700)
    return directory


def snapshot_backup(paths, config):
    """Root-only copies of everything the watchdog guards, and their SHA-256."""
    import shutil

    sums = {}
    for name in (HOOK_NAME, LAUNCHER_NAME, "config.json", "token"):
        source = os.path.join(paths.install_dir, name)
        target = os.path.join(paths.backup, name)
        shutil.copyfile(source, target)
        os.chmod(target, 0o600)
        sums[name] = sha256_file(source)
    sums["settings"] = sha256_file(config["settings_file"])
    shutil.copyfile(config["settings_file"], os.path.join(paths.backup, "settings.json"))
    os.chmod(os.path.join(paths.backup, "settings.json"), 0o600)
    write_atomic(os.path.join(paths.backup, "checksums.json"), sums, mode=0o600)

def cmd_uninstall(args):
    require_root("uninstall")
    import shutil
    import subprocess

    paths = Paths(args.install_dir or None)
    try:
        config = read_json(os.path.join(paths.backup, "config.json")) or read_json(paths.config)
    except (OSError, ValueError):
        config = None
    if config is None:
        print(f"Claude Governor is not installed in {paths.install_dir}.")
        return 1
    if not _ask("Remove Claude Governor from this machine?", args.yes):
        return 1
    try:
        install = Install(Paths(paths.install_dir))
        status, body = install.call("POST", "/api/v1/revoke", {}, timeout=10)
        if status == 200:
            print(f"Revoked this machine's token on {install.server}.")
        else:
            print(
                f"warning: the server did not revoke the token (HTTP {status}: {body.get('error')}); "
                "ask your admin to revoke it.",
                file=sys.stderr,
            )
    except (Broken, Unreachable) as exc:
        print(
            f"warning: could not revoke the token on the server ({exc}); ask your admin to revoke it.",
            file=sys.stderr,
        )
    watchdog = config.get("watchdog") or {}
    if watchdog.get("activated"):
        kind = watchdog.get("kind")
        commands = {
            "systemd": [["systemctl", "disable", "--now", UNIT_NAME + ".timer"]],
            "launchd": [["launchctl", "bootout", "system/" + LAUNCHD_LABEL]],
            "schtasks": [["schtasks", "/Delete", "/F", "/TN", WINDOWS_TASK]],
        }.get(str(kind), [])
        for command in commands:
            try:
                subprocess.run(command, capture_output=True, timeout=60, check=False)
            except (OSError, subprocess.SubprocessError):
                pass
    for path in watchdog.get("files") or []:
        forget(path)
    restore_settings(paths, config)
    shutil.rmtree(paths.install_dir, ignore_errors=True)
    print("Claude Governor removed. Restart Claude Code.")
    return 0

