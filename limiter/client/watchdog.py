"""The watchdog: a root timer that restores the install and its hook registrations when changed."""

import os
import sys

from .base import read_json, sha256_file, write_atomic
from .jsonfast import pretty_json
from .managed import merge_settings, registered
from .paths import DROPIN_NAME, HOOK_NAME, LAUNCHER_NAME, Paths, rooted
from .rootfs import bytecode_path, compile_hook, is_root, require_root, target_user, write_file

UNIT_NAME = "claude-governor-watchdog"
LAUNCHD_LABEL = "com.claude-governor.watchdog"
WINDOWS_TASK = "ClaudeGovernorWatchdog"


def _units(python, paths):
    backup_hook = os.path.join(paths.backup, HOOK_NAME)
    argv = [python, "-I", "-S", backup_hook, "watchdog", "--once", "--install-dir", paths.install_dir]
    if sys.platform == "darwin":
        items = "\n".join(
            "    <string>{}</string>".format(a.replace("&", "&amp;").replace("<", "&lt;")) for a in argv
        )
        plist = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">\n'
            f'<plist version="1.0">\n<dict>\n  <key>Label</key><string>{LAUNCHD_LABEL}</string>\n'
            f"  <key>ProgramArguments</key>\n  <array>\n{items}\n  </array>\n"
            "  <key>StartInterval</key><integer>300</integer>\n"
            "  <key>RunAtLoad</key><true/>\n</dict>\n</plist>\n"
        )
        return "launchd", {rooted(f"/Library/LaunchDaemons/{LAUNCHD_LABEL}.plist"): plist}, argv
    if os.name == "nt":
        return "schtasks", {}, argv
    quoted = " ".join(f'"{a}"' if " " in a else a for a in argv)
    service = (
        "[Unit]\nDescription=Claude Governor watchdog: restores the Claude Code hook if changed\n\n"
        f"[Service]\nType=oneshot\nExecStart={quoted}\n"
    )
    timer = (
        "[Unit]\nDescription=Run the Claude Governor watchdog every 5 minutes\n\n"
        f"[Timer]\nOnBootSec=1min\nOnUnitActiveSec=5min\nUnit={UNIT_NAME}.service\n\n[Install]\nWantedBy=timers.target\n"
    )
    unit_dir = rooted("/etc/systemd/system")
    return (
        "systemd",
        {
            os.path.join(unit_dir, UNIT_NAME + ".service"): service,
            os.path.join(unit_dir, UNIT_NAME + ".timer"): timer,
        },
        argv,
    )


def install_watchdog(python, paths, args, dry):
    """Writes the platform's periodic job and, on a real install, activates it."""
    import subprocess

    kind, files, argv = _units(python, paths)
    for path, text in files.items():
        os.makedirs(os.path.dirname(path), exist_ok=True)
        write_file(path, text.encode(), 0o644)
    commands = []
    if kind == "systemd":
        commands = [["systemctl", "daemon-reload"], ["systemctl", "enable", "--now", UNIT_NAME + ".timer"]]
    elif kind == "launchd":
        commands = [["launchctl", "bootstrap", "system", next(iter(files))]]
    else:
        task = " ".join(f'"{a}"' for a in argv)
        commands = [
            [
                "schtasks",
                "/Create",
                "/F",
                "/TN",
                WINDOWS_TASK,
                "/SC",
                "MINUTE",
                "/MO",
                "5",
                "/RU",
                "SYSTEM",
                "/TR",
                task,
            ]
        ]
    activated = False
    if not dry:
        activated = True
        for command in commands:
            try:
                result = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
            except (OSError, subprocess.SubprocessError) as exc:
                activated = False
                print("warning: {}: {}".format(" ".join(command), exc), file=sys.stderr)
                continue
            if result.returncode != 0:
                activated = False
                print("warning: {}: {}".format(" ".join(command), result.stderr.strip()), file=sys.stderr)
    summary = "{}, every 5 minutes{}".format(kind, "" if activated else " (written, not activated)")
    return {"kind": kind, "files": sorted(files), "activated": activated, "summary": summary}


def cmd_watchdog(args):
    require_root("watchdog")
    paths = Paths(args.install_dir or None)
    restored = watchdog_once(paths)
    for line in restored:
        print(line)
    if not restored:
        print("Claude Governor: hook, configuration and managed settings intact.")
    return 0


def watchdog_once(paths):
    """Restores tampered or missing files from the root-only backup and re-registers removed hooks."""
    backup_config = read_json(os.path.join(paths.backup, "config.json"))
    sums = read_json(os.path.join(paths.backup, "checksums.json")) or {}
    if backup_config is None:
        return [f"No backup in {paths.backup}: nothing to guard (is Claude Governor installed?)."]
    restored = []
    os.makedirs(paths.install_dir, mode=0o755, exist_ok=True)
    for name, mode in ((HOOK_NAME, 0o644), (LAUNCHER_NAME, 0o644), ("config.json", 0o644), ("token", None)):
        target = os.path.join(paths.install_dir, name)
        source = os.path.join(paths.backup, name)
        try:
            intact = sha256_file(target) == sums.get(name)
        except OSError:
            intact = False
        if intact:
            continue
        owner = None
        if name == "token":
            user = (
                target_user(backup_config.get("user")) if backup_config.get("user") and is_root() else None
            )
            owner = (user[0], user[1]) if user else None
            mode = 0o400 if owner else 0o600
        with open(source, "rb") as handle:
            write_file(target, handle.read(), mode, owner)
        restored.append(f"restored {target} from the backup")
    if not os.path.isfile(bytecode_path(paths.hook)) or any(HOOK_NAME in line for line in restored):
        compile_hook(paths)
    settings_file = backup_config["settings_file"]
    try:
        settings_intact = sha256_file(settings_file) == sums.get("settings")
    except OSError:
        settings_intact = False
    if not settings_intact and os.path.basename(settings_file) == DROPIN_NAME:
        # The drop-in is ours alone: any change (a disableAllHooks, a removed hook) is undone whole.
        with open(os.path.join(paths.backup, "settings.json"), "rb") as handle:
            write_file(settings_file, handle.read(), 0o644)
        return [*restored, f"restored {settings_file} from the backup"]
    try:
        current = read_json(settings_file)
    except (OSError, ValueError):
        current = None
        restored.append(f"{settings_file} was not valid JSON; rewrote it")
    managed_only = backup_config.get("managed_hooks_only", True)
    if not registered(current, backup_config["python"], paths.launcher, managed_only):
        merged = merge_settings(current, backup_config["python"], paths.launcher, managed_only)
        os.makedirs(os.path.dirname(settings_file), mode=0o755, exist_ok=True)
        write_file(settings_file, pretty_json(merged), 0o644)
        restored.append(f"re-registered the Claude Governor hooks in {settings_file}")
    if restored:
        sums["settings"] = sha256_file(settings_file)
        write_atomic(os.path.join(paths.backup, "checksums.json"), sums, mode=0o600)
    return restored

