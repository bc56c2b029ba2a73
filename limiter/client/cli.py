"""Command line: `hook <Event>` for Claude Code, the terminal commands for people."""


from .base import VERSION
from .paths import Paths


def parse_args(argv):
    import argparse

    parser = argparse.ArgumentParser(prog="governor_hook.py", description="Claude Governor hook client")
    parser.add_argument("--version", action="version", version=VERSION)
    sub = parser.add_subparsers(dest="command")
    setup = sub.add_parser("setup", help="register this machine and install the hook (root)")
    setup.add_argument("--code", required=True)
    setup.add_argument("--server", required=True)
    setup.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    setup.add_argument("--user", help="the developer who runs Claude Code (default: the sudo caller)")
    setup.add_argument(
        "--settings",
        choices=("dropin", "main"),
        default="dropin",
        help="register in managed-settings.d/ (default) or merge into managed-settings.json",
    )
    setup.add_argument(
        "--allow-user-hooks",
        action="store_true",
        help="do not set allowManagedHooksOnly (users' own hooks keep running)",
    )
    for name, text in (
        ("status", "usage and limits of every model"),
        ("sync", "fetch rules and status now"),
        ("doctor", "check the installation"),
        ("uninstall", "remove the hook and revoke this machine's token (root)"),
        ("watchdog", "restore the hook, config and managed settings if changed (root)"),
        ("statusline", "the managed status line (Claude Code runs it, JSON on stdin)"),
    ):
        command = sub.add_parser(name, help=text)
        if name == "uninstall":
            command.add_argument("--yes", action="store_true")
        if name == "watchdog":
            command.add_argument("--once", action="store_true", help="one pass (what the timer runs)")
    for command in sub.choices.values():
        command.add_argument("--install-dir", help=argparse.SUPPRESS)
    return parser, parser.parse_args(argv)


COMMANDS = {
    "setup": ("installer", "cmd_setup"),
    "uninstall": ("installer", "cmd_uninstall"),
    "watchdog": ("watchdog", "cmd_watchdog"),
    "status": ("commands", "cmd_status"),
    "sync": ("commands", "cmd_sync"),
    "doctor": ("commands", "cmd_doctor"),
}


def main(argv):
    """Hooks and the status line first and without argparse: they run on every prompt, tool call and
    update of the conversation."""
    if argv[:1] == ["hook"]:
        from .hooks import run_hook

        return run_hook(Paths(), argv[1] if len(argv) > 1 else None)
    if argv[:1] == ["statusline"]:
        from .statusline import run

        return run(Paths())
    parser, args = parse_args(argv)
    if args.command not in COMMANDS:
        parser.print_help()
        return 1
    from importlib import import_module

    module, name = COMMANDS[args.command]
    return getattr(import_module(f".{module}", __package__), name)(args)
