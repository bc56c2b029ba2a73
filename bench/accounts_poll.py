"""One full polling cycle of many cookie accounts against the loopback fake with injected latency.

    .venv/bin/python bench/accounts_poll.py [--accounts 1000] [--latency 0.05] [--concurrency 32] \
        [--processes 2]

`--processes N` runs N pollers side by side, as N Celery worker processes ticking at once would: they share
the due accounts through the per-account lease. Uses a scratch SQLite database in a temporary directory
unless DATABASE_URL is set (give it a scratch database: the bench migrates it and replaces its accounts).
Prints the wall time of a first cycle (org lookup + usage: two requests per account) and a steady cycle
(one request per account), the pollers' CPU time per poll, the 1-minute load average around each cycle (the
machine is shared: read wall times against it), and the peak memory of one polling process.
"""

import argparse
import multiprocessing
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--accounts", type=int, default=1000)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--concurrency", type=int, default=None, help="threads per process")
    parser.add_argument("--processes", type=int, default=1)
    args = parser.parse_args()

    os.environ.setdefault("GOVERNOR_VAR_DIR", tempfile.mkdtemp(prefix="bench-accounts-"))
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    if args.concurrency:
        os.environ["ACCOUNTS_POLL_CONCURRENCY"] = str(args.concurrency)
    server = [
        sys.executable,
        str(ROOT / "bench" / "accounts_fake_server.py"),
        str(args.accounts),
        str(args.latency),
    ]
    fake = subprocess.Popen(server, stdout=subprocess.PIPE, text=True)
    try:
        os.environ["CLAUDE_AI_BASE_URL"] = fake.stdout.readline().strip()
        run(args)
    finally:
        fake.terminate()
        fake.wait()


def _setup():
    import django

    django.setup()


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)  # all threads of this process
    return usage.ru_utime + usage.ru_stime


def _poll_cycle(_) -> tuple[dict, float, float]:
    """One poller process: everything due that no other poller has claimed. Returns outcomes, peak RSS (MiB)
    and the CPU seconds this process spent on the cycle."""
    _setup()
    from accounts.services import accounts_poll_due

    cpu = _cpu_seconds()
    outcomes: dict[str, int] = {}
    for result in accounts_poll_due():
        outcomes[str(result.outcome)] = outcomes.get(str(result.outcome), 0) + 1
    return outcomes, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, _cpu_seconds() - cpu


def run(args) -> None:
    _setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from accounts.models import AccountSettings, ClaudeAccount, Source

    call_command("migrate", verbosity=0)
    with connection.cursor() as cursor:  # raw: a previous run may have used another FERNET key
        for table in ("windowreading", "windowreset", "usagesnapshot", "claudeaccount"):
            cursor.execute(f"DELETE FROM accounts_{table}")  # noqa: S608 (fixed names)
    AccountSettings.objects.update_or_create(pk=1, defaults={"poll_interval_seconds": 300})
    ClaudeAccount.objects.bulk_create(
        ClaudeAccount(label=f"bench-{i:05d}", source=Source.COOKIE, credential=f"sk-ant-sid02-bench-{i:05d}")
        for i in range(args.accounts)
    )
    print(
        f"{args.accounts} cookie accounts, {args.latency * 1000:.0f} ms injected latency, "
        f"{args.processes} process(es) x {settings.ACCOUNTS_POLL_CONCURRENCY} threads, "
        f"database {connection.vendor}, {os.cpu_count()} cores"
    )
    connection.close()
    spawn = multiprocessing.get_context("spawn")
    with spawn.Pool(args.processes) as pool:
        pool.map(time.sleep, [0.5] * args.processes)  # processes up before the clock starts
        for name in ("first cycle (org lookup + usage)", "steady cycle (usage only)"):
            load_before = os.getloadavg()[0]
            started = time.perf_counter()
            reports = pool.map(_poll_cycle, range(args.processes))
            elapsed = time.perf_counter() - started
            totals: dict[str, int] = {}
            for outcomes, _, _ in reports:
                for key, count in outcomes.items():
                    totals[key] = totals.get(key, 0) + count
            polled = sum(count for key, count in totals.items() if key != "busy")
            cpu_ms = sum(cpu for _, _, cpu in reports) * 1000 / max(polled, 1)
            print(
                f"{name}: {elapsed:.2f} s for {polled} polls ({polled / elapsed:.0f}/s), "
                f"poller CPU {cpu_ms:.1f} ms/poll, "
                f"load average {load_before:.1f} -> {os.getloadavg()[0]:.1f} {totals}"
            )
            ClaudeAccount.objects.update(next_poll_at=timezone.now())  # everything due again
            connection.close()
        print(f"peak memory (max RSS of one polling process): {max(rss for _, rss, _ in reports):.0f} MiB")


if __name__ == "__main__":
    main()
