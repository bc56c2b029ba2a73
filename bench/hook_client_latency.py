"""Wall time of the hook client per prompt, from process start to decision, as Claude Code pays it.

Starts the app on a loopback HTTP server with a fresh SQLite database, installs the client into a temporary
root with `setup` (the interpreter path it records is the one Claude Code would run, with -I -S), then times:

- UserPromptSubmit answered by the server (allowed prompt: /check round trip);
- UserPromptSubmit answered from the cache (server stopped: connection refused, offline rules);
- PreToolUse from the cached status (no round trip within the 30 s recheck interval);
- the managed status line (records the model, prints the budget from the cache; no network), where the client
  has one.

Wall time is what a developer waits; CPU ms is the hook process's own user+system time. The load average is
printed with the figures: on a shared machine it moves them.

Usage: .venv/bin/python bench/hook_client_latency.py [--runs 100] [--python /usr/bin/python3] [--client FILE]
"""

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CLIENT = REPO / "limiter" / "hook_client" / "governor_hook.py"


def _django(var_dir: Path):
    os.environ["GOVERNOR_VAR_DIR"] = str(var_dir)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    sys.path.insert(0, str(REPO))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _children_cpu():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _time(argv, env, stdin, runs):
    samples, cpu = [], []
    for _ in range(runs):
        cpu_before = _children_cpu()
        started = time.perf_counter()
        done = subprocess.run(argv, input=stdin, env=env, capture_output=True, check=False)
        samples.append((time.perf_counter() - started) * 1000)
        cpu.append((_children_cpu() - cpu_before) * 1000)
        if done.returncode != 0:
            raise SystemExit(f"client failed: {done.stderr.decode()}")
    return (samples, cpu), done.stdout.decode()


def _expect_silence(out):
    if out:
        raise SystemExit(f"expected an allowed event, the client said: {out}")


def _summary(label, measured):
    samples, cpu = measured
    ordered = sorted(samples)
    p95 = ordered[max(0, round(0.95 * len(ordered)) - 1)]
    print(
        f"{label:<44} median {statistics.median(ordered):6.1f} ms   p95 {p95:6.1f} ms   "
        f"CPU {statistics.median(cpu):5.1f} ms   (n={len(ordered)})"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--client", type=Path, default=CLIENT, help="client file to install (default: built)")
    parser.add_argument(
        "--python", default=os.path.realpath(sys.executable), help="interpreter the hook runs on"
    )
    args = parser.parse_args()
    if args.client == CLIENT:
        subprocess.run([sys.executable, str(REPO / "limiter" / "hook_client" / "build.py")], check=True)

    with tempfile.TemporaryDirectory(prefix="governor-bench-") as tmp:
        tmp_path = Path(tmp)
        _django(tmp_path / "var")
        from limiter import services
        from tests.live import LiveServer

        team = services.team_current()
        team.timezone = "Europe/Berlin"
        team.save()
        seat = services.seat_create(slug="bench", name="Bench")
        services.rule_add(owner=seat, type="per_model", model="opus", window="daily", value=100000)
        services.rule_add(owner=seat, type="credits", window="weekly", value=10**9)
        code = services.install_code_issue(seat=seat)
        server = LiveServer().start()

        env = {
            "PATH": "/usr/bin:/bin",
            "GOVERNOR_ROOT": str(tmp_path / "root"),
            "GOVERNOR_HOME": str(tmp_path / "home"),
            "GOVERNOR_STATE_DIR": str(tmp_path / "state"),
            "GOVERNOR_CLAUDE_BIN": "/bin/true",
        }
        setup = [
            args.python,
            "-I",
            "-S",
            str(args.client),
            "setup",
            "--code",
            code,
            "--server",
            server.url,
            "--yes",
        ]
        subprocess.run(setup, env=env, check=True, capture_output=True)
        hook = tmp_path / "root" / "etc" / "claude-code" / "claude-governor" / "run_governor_hook.py"
        transcript = tmp_path / "session.jsonl"
        transcript.write_text("")

        def event(name, **fields):
            payload = {
                "session_id": "bench",
                "transcript_path": str(transcript),
                "cwd": tmp,
                "hook_event_name": name,
            }
            return json.dumps({**payload, **fields}).encode()

        base = [args.python, "-I", "-S", str(hook), "hook"]
        subprocess.run(
            [*base, "SessionStart"], input=event("SessionStart", model="opus"), env=env, check=True
        )
        print(f"hook client {args.client.name} on {args.python} ({sys.platform}), {args.runs} runs each")
        print("load average before: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
        _time(["/bin/true"], env, b"", 5)
        bare, _ = _time([args.python, "-I", "-S", "-c", "pass"], env, b"", args.runs)
        _summary("interpreter start (-I -S -c pass)", bare)
        online, out = _time(
            [*base, "UserPromptSubmit"], env, event("UserPromptSubmit", prompt="hi"), args.runs
        )
        _expect_silence(out)
        _summary("UserPromptSubmit, server answers", online)
        tool, out = _time([*base, "PreToolUse"], env, event("PreToolUse", tool_name="Bash"), args.runs)
        _expect_silence(out)
        _summary("PreToolUse, cached status", tool)
        help_text = subprocess.run(
            [args.python, "-I", "-S", str(hook), "--help"], capture_output=True, text=True, check=False
        )
        if "statusline" in help_text.stdout:
            status = json.dumps(
                {"session_id": "bench", "cwd": tmp, "model": {"id": "claude-opus-4-1-20250805"}}
            ).encode()
            line, out = _time([args.python, "-I", "-S", str(hook), "statusline"], env, status, args.runs)
            if "opus" not in out:
                raise SystemExit(f"expected the budget line, the client printed: {out!r}")
            _summary("status line, from the cache", line)
        server.stop()
        offline, out = _time(
            [*base, "UserPromptSubmit"], env, event("UserPromptSubmit", prompt="hi"), args.runs
        )
        _expect_silence(out)
        _summary("UserPromptSubmit, from cache (server down)", offline)
        print("load average after:  {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))


if __name__ == "__main__":
    main()
