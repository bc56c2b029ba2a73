"""Our registrations in Claude Code's managed settings: merged in, checked, and taken out again."""

import os

from .base import EVENTS, HANDLER_TIMEOUTS, forget, read_json, sha256_file
from .jsonfast import json_loads, pretty_json
from .paths import HOOK_NAME
from .rootfs import write_file


def hook_command(python, hook_path, event):
    return f'"{python}" -I -S "{hook_path}" hook {event}'


def governor_hooks(python, hook_path):
    hooks = {}
    for event in EVENTS:
        handler = {
            "type": "command",
            "command": hook_command(python, hook_path, event),
            "timeout": HANDLER_TIMEOUTS[event],
        }
        group: dict = {"hooks": [handler]}
        if event in ("PreToolUse", "SessionStart"):
            group["matcher"] = "*" if event == "PreToolUse" else ""
        hooks[event] = [group]
    return hooks


def _is_ours(handler):
    return isinstance(handler, dict) and HOOK_NAME in str(handler.get("command", ""))


def status_line(python, hook_path):
    """The managed status line (statusline.py); it runs the one it replaces, so nothing is lost."""
    return {"type": "command", "command": f'"{python}" -I -S "{hook_path}" statusline', "padding": 0}


def merge_settings(existing, python, hook_path, managed_only):
    """Our four hook registrations and the status line merged into a settings object; the rest is kept."""
    settings = dict(existing) if isinstance(existing, dict) else {}
    settings["statusLine"] = status_line(python, hook_path)
    hooks = settings.get("hooks") if isinstance(settings.get("hooks"), dict) else {}
    hooks = strip_ours(hooks)
    for event, groups in governor_hooks(python, hook_path).items():
        hooks[event] = list(hooks.get(event) or []) + groups
    settings["hooks"] = hooks
    if managed_only:
        settings["allowManagedHooksOnly"] = True
    return settings


def strip_ours(hooks):
    cleaned = {}
    for event, groups in hooks.items():
        kept_groups = []
        for group in groups if isinstance(groups, list) else []:
            if not isinstance(group, dict):
                kept_groups.append(group)
                continue
            handlers = [h for h in group.get("hooks") or [] if not _is_ours(h)]
            if handlers:
                kept_groups.append(dict(group, hooks=handlers))
        if kept_groups:
            cleaned[event] = kept_groups
    return cleaned


def registered(settings, python, hook_path, managed_only):
    """Whether the settings still run our four hooks (and keep other hooks out, if so configured)."""
    if not isinstance(settings, dict) or not isinstance(settings.get("hooks"), dict):
        return False
    if managed_only and settings.get("allowManagedHooksOnly") is not True:
        return False
    if settings.get("statusLine") != status_line(python, hook_path):
        return False
    for event in EVENTS:
        commands = [
            h.get("command")
            for g in settings["hooks"].get(event) or []
            if isinstance(g, dict)
            for h in g.get("hooks") or []
            if isinstance(h, dict)
        ]
        if hook_command(python, hook_path, event) not in commands:
            return False
    return True

def restore_settings(paths, config):
    """Put the managed settings back as they were: the original bytes when nobody else changed the file
    since, else only our registrations come out."""
    settings_file = config["settings_file"]
    sums: dict = {}
    try:
        sums = read_json(os.path.join(paths.backup, "checksums.json")) or {}
    except (OSError, ValueError):
        pass
    original = None
    if config.get("settings_original"):
        with open(os.path.join(paths.backup, config["settings_original"]), "rb") as handle:
            original = handle.read()
    try:
        unchanged = sha256_file(settings_file) == sums.get("settings")
    except OSError:
        unchanged = True
    if unchanged:
        if original is None:
            forget(settings_file)
            if not config.get("settings_dir_existed", True):
                try:
                    os.rmdir(os.path.dirname(settings_file))
                except OSError:
                    pass
        else:
            write_file(settings_file, original, 0o644)
        return
    try:
        current = read_json(settings_file) or {}
    except ValueError:
        return
    before = {}
    if original is not None:
        try:
            before = json_loads(original)
        except ValueError:
            before = {}
    hooks = strip_ours(current.get("hooks") if isinstance(current.get("hooks"), dict) else {})
    current["hooks"] = hooks
    if not hooks:
        current.pop("hooks")
    keys = ["allowManagedHooksOnly"]
    if _is_ours(current.get("statusLine")):
        keys.append("statusLine")  # an admin's later status line stays
    for key in keys:
        if key in before:
            current[key] = before[key]
        else:
            current.pop(key, None)
    write_file(settings_file, pretty_json(current), 0o644)

