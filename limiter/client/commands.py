"""The developer's terminal commands: `status`, `sync`, `doctor`."""

import os
import sys

from .base import Broken, Unreachable, now_utc, parse_iso, read_json, write_atomic
from .config import Install
from .counts import queued_counts
from .http import http_json
from .managed import registered
from .paths import Paths
from .rootfs import bytecode_path
from .server import do_sync, fetch_report
from .state import load_state, server_now
from .transcript import active_model


def _installed(paths):
    try:
        install = Install(paths)
    except Broken as exc:
        raise SystemExit(str(exc)) from None
    if not install.present:
        raise SystemExit(f"Claude Governor is not installed here ({paths.config} missing).")
    return install


def cmd_sync(args):
    paths = Paths(args.install_dir or None)
    install = _installed(paths)
    ok, message = do_sync(install, paths, {}, active_model({}, {"cwd": os.getcwd()}))
    if not ok:
        print(f"Sync failed: {message}", file=sys.stderr)
        return 2
    state = load_state(paths) or {}
    print(
        f"Synced with {install.server}: status {state.get('status')}, "
        f"{len(state.get('limits') or [])} rule(s)."
    )
    return 0


def cmd_status(args):
    from ..messages import format_when
    from .offline import report_from_local, team_zone
    from .usage import usage_lines

    paths = Paths(args.install_dir or None)
    install = _installed(paths)
    why: list = []
    report = fetch_report(install, paths, timeout=5, why=why)
    state = load_state(paths)
    if report is not None and state is None:
        do_sync(install, paths, {}, "default")
        state = load_state(paths)
    if state is None:
        print(f"Claude Governor has never synced with {install.server}: {why[0]}.")
        return 2
    now = server_now(state)
    if report is None:
        report = report_from_local(state, now)
        synced = format_when(parse_iso(state["synced_at"]), team_zone(state))
        print(f"{why[0][0].upper()}{why[0][1:]}; figures from the cache (last synced {synced}).")
    else:
        print(f"Live from {install.server}.")
    seat = state.get("seat") or {}
    print("Seat: {} ({})".format(seat.get("name") or "?", seat.get("status") or state.get("status")))
    print("")
    for line in usage_lines(report, state, now, bars=True):
        print(line)
    pending = len(queued_counts(paths))
    if pending:
        print(f"\n{pending} counted turn(s) waiting to be sent to the server.")
    return 0


def cmd_doctor(args):
    import stat
    import time

    paths = Paths(args.install_dir or None)
    problems = 0

    def report(ok, text):
        nonlocal problems
        problems += 0 if ok else 1
        print("{} {}".format("ok  " if ok else "FAIL", text))

    try:
        install = Install(paths)
        report(install.present, f"configuration {paths.config}")
    except Broken as exc:
        report(False, str(exc))
        return 1
    if not install.present:
        return 1
    report(os.path.isfile(paths.hook), f"hook {paths.hook}")
    report(os.path.isfile(bytecode_path(paths.hook)), "hook bytecode compiled (fast start)")
    for path in (paths.install_dir, paths.hook, paths.launcher, paths.config):
        try:
            info = os.stat(path)
        except OSError:
            continue
        owner_ok = os.name == "nt" or info.st_uid == 0 or bool(os.environ.get("GOVERNOR_ROOT"))
        writable = info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
        report(owner_ok and not writable, f"{path} is owned by root and not writable by others")
    try:
        token_mode = os.stat(paths.token).st_mode
        report(not token_mode & (stat.S_IRWXG | stat.S_IRWXO), "token readable only by its owner")
    except OSError:
        report(False, f"token {paths.token} missing")
    config = install.config
    try:
        settings = read_json(config.get("settings_file") or "")
    except (OSError, ValueError):
        settings = None
    report(
        registered(settings, config.get("python"), paths.launcher, config.get("managed_hooks_only", True)),
        "hooks registered in {}".format(config.get("settings_file")),
    )
    report(
        bool(config.get("python")) and os.path.isfile(str(config.get("python"))),
        "interpreter {}".format(config.get("python")),
    )
    try:
        os.makedirs(paths.state_dir, mode=0o700, exist_ok=True)
        probe = os.path.join(paths.state_dir, ".doctor")
        write_atomic(probe, b"ok")
        os.remove(probe)
        report(True, f"state directory {paths.state_dir} is writable")
    except OSError as exc:
        report(False, f"state directory {paths.state_dir}: {exc}")
    started = time.monotonic()
    try:
        status, body = http_json("GET", install.server, "/api/v1/health", timeout=5)
        elapsed = (time.monotonic() - started) * 1000
        report(status == 200, f"server {install.server} answers ({elapsed:.0f} ms)")
        server_time = parse_iso(body.get("timestamp"))
        if server_time is not None:
            skew = (now_utc() - server_time).total_seconds()
            report(abs(skew) < 60, f"clock skew {skew:+.1f} s (limit ±60 s)")
        status, body = install.call("GET", "/api/v1/status", timeout=5)
        report(
            status == 200,
            "token accepted" if status == 200 else "token rejected: {}".format(body.get("error")),
        )
    except Unreachable as exc:
        report(False, f"server {install.server} unreachable: {exc}")
    state = load_state(paths)
    report(state is not None, "rules synced {}".format((state or {}).get("synced_at", "never")))
    pending = len(queued_counts(paths))
    report(pending == 0, f"{pending} counted turn(s) waiting to be sent")
    return 1 if problems else 0

