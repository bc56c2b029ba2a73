"""Alert latency and throughput: from a poll's commit to the webhook receiver, in one process.

    .venv/bin/python bench/alerts_pipeline.py [--accounts 1000] [--latency-runs 50] [--workers 4]
    .venv/bin/python bench/alerts_pipeline.py --celery [--latency-runs 50]

1. Latency: one account crosses 90 %; the poll's transaction commits, the evaluator runs and the delivery is
   sent to a loopback webhook receiver, as the after-poll task and the delivery task would run them. Prints
   p50 / p95 / max over `--latency-runs` crossings. Celery's own queueing (broker round trip, a worker's
   prefetch) is not included: add the broker's latency.
2. Throughput: `--accounts` accounts cross at once, each subscribed with a channel of its own (the worst
   case: no grouping), evaluated in one call and sent by `--workers` threads claiming deliveries as Celery
   workers do. Prints the evaluation time and deliveries per second; then the same crossing on one shared
   channel, where grouping makes it one message per batch of 500 events.

`--celery` measures the whole path instead: a real `celery worker` process (its own queue on the configured
broker: the embedded SQLite broker, or Redis with REDIS_URL) runs the evaluation the poll queues and then the
delivery task; the figure is from the poll's commit to the receiver holding the message.

Uses a scratch SQLite database in a temporary directory unless DATABASE_URL is set (give it a scratch
database: the bench migrates it and adds rows). The machine may be shared: read the load average printed.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--accounts", type=int, default=1000)
    parser.add_argument("--latency-runs", type=int, default=50)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--celery", action="store_true", help="through a real worker and the broker")
    args = parser.parse_args()
    os.environ.setdefault("GOVERNOR_VAR_DIR", tempfile.mkdtemp(prefix="bench-alerts-"))
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ["ALERTS_ALLOWED_PRIVATE_NETWORKS"] = "127.0.0.0/8"
    os.environ["ALERTS_EVALUATE_AFTER_POLL"] = "false"
    os.environ["CELERY_QUEUE"] = f"bench-alerts-{os.getpid()}"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from tests.fakes.alert_receivers import FakeReceivers

    receivers = FakeReceivers().start()
    try:
        if args.celery:
            through_celery(receivers, args.latency_runs)
            return
        from alerts import tasks

        # The bench sends deliveries itself; queueing them on the broker as well would time the broker.
        tasks.dispatch = lambda ids: None
        latency(receivers, args.latency_runs)
        throughput(receivers, args.accounts, args.workers)
    finally:
        receivers.stop()


def _crossing(accounts, at, pct=91.0):
    """Polls as accounts/polling.py writes them: snapshot, reading and the POLL_RESULT event per account."""
    from django.db import transaction

    from accounts.models import UsageSnapshot, WindowReading
    from monitoring import eventlog

    for account in accounts:
        with transaction.atomic():
            snapshot = UsageSnapshot.objects.create(account=account, taken_at=at, raw={})
            WindowReading.objects.create(
                snapshot=snapshot,
                account=account,
                taken_at=at,
                limit_type="session",
                label="5-hour",
                utilization=pct,
                resets_at=at + timedelta(hours=2),
            )
            data = {"label": account.label, "outcome": "ok", "snapshot": snapshot.pk}
            eventlog.record(eventlog.POLL_RESULT, account_id=account.pk, at=at, data=data)


def _accounts(prefix: str, count: int):
    from accounts.models import ClaudeAccount

    return [
        ClaudeAccount.objects.create(label=f"{prefix}-{i:05d}", source="cookie", credential=f"sk-ant-{i}")
        for i in range(count)
    ]


def _channel(receivers, name: str):
    from alerts.services import channel_create

    return channel_create(kind="webhook", name=name, config={"url": f"{receivers.url}/hook/{name}"})


def latency(receivers, runs: int) -> None:
    from django.utils import timezone

    from alerts import delivery, evaluation
    from alerts.services import subscription_create

    seconds = []
    for run in range(runs):
        (account,) = _accounts(f"lat{run}", 1)
        subscription_create(name=f"lat{run}", channels=[_channel(receivers, f"lat{run}")], account=account)
        started = time.perf_counter()
        _crossing([account], timezone.now())  # returns once the poll's transaction has committed
        for delivery_id in evaluation.evaluate():
            delivery.deliver(delivery_id)
        seconds.append(time.perf_counter() - started)
    if len(receivers.received("/hook/lat")) != runs:
        raise SystemExit("a crossing did not reach the receiver exactly once")
    load = os.getloadavg()[0]
    print(f"poll commit → delivered, {runs} crossings: {_percentiles(seconds)} (load {load:.1f})")


def _percentiles(seconds: list[float]) -> str:
    ms = sorted(s * 1000 for s in seconds)
    p95 = ms[min(len(ms) - 1, int(len(ms) * 0.95))]
    return f"p50 {statistics.median(ms):.0f} ms, p95 {p95:.0f} ms, max {ms[-1]:.0f} ms"


def through_celery(receivers, runs: int) -> None:
    """Poll commit → `alerts.evaluate` queued (as the after-poll hook does) → a worker evaluates and queues
    `alerts.deliver` → a worker sends → the receiver has it."""
    import subprocess

    from django.conf import settings
    from django.db import connection
    from django.utils import timezone

    from alerts import tasks
    from alerts.services import subscription_create

    env = dict(os.environ)
    if connection.vendor == "sqlite":
        env["DATABASE_URL"] = f"sqlite:///{settings.DATABASES['default']['NAME']}"
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=threads", "--concurrency=4",
         "--without-gossip", "--without-mingle", "-l", "WARNING"],
        cwd=ROOT, env=env,
    )  # fmt: skip
    try:
        (warm,) = _accounts("warm", 1)
        subscription_create(name="warm", channels=[_channel(receivers, "warm")], account=warm)
        _crossing([warm], timezone.now())
        tasks.evaluate.delay()
        _wait_for(receivers, "/hook/warm", 1, timeout=120)  # the worker is up and has run both tasks once
        seconds = []
        for run in range(runs):
            (account,) = _accounts(f"cel{run}", 1)
            channel = _channel(receivers, f"cel{run}")
            subscription_create(name=f"cel{run}", channels=[channel], account=account)
            started = time.perf_counter()
            _crossing([account], timezone.now())
            tasks.evaluate.delay()  # what alerts.hooks.after_poll does once the poll has committed
            _wait_for(receivers, f"/hook/cel{run}", 1, timeout=60)
            seconds.append(time.perf_counter() - started)
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    broker = settings.CELERY_BROKER_URL.split(":", 1)[0]
    print(
        f"poll commit → delivered through a Celery worker ({broker} broker), {runs} crossings: "
        f"{_percentiles(seconds)} (load {os.getloadavg()[0]:.1f})"
    )


def _wait_for(receivers, prefix: str, count: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while len(receivers.received(prefix)) < count:
        if time.monotonic() > deadline:
            raise SystemExit(f"no alert reached {prefix} within {timeout:.0f} s")
        time.sleep(0.002)


def throughput(receivers, count: int, workers: int) -> None:
    from django.utils import timezone

    from alerts import delivery, evaluation
    from alerts.services import subscription_create

    accounts = _accounts("bulk", count)
    for account in accounts:
        channel = _channel(receivers, account.label)
        subscription_create(name=account.label, channels=[channel], account=account)
    _crossing(accounts, timezone.now())
    started = time.perf_counter()
    due = evaluation.evaluate()
    evaluated = time.perf_counter() - started

    def send(delivery_id: int) -> str:
        return delivery.deliver(delivery_id).status

    started = time.perf_counter()
    # Each thread keeps its own connection, as a Celery worker thread does.
    with ThreadPoolExecutor(workers) as pool:
        outcomes = list(pool.map(send, due))
    sent = time.perf_counter() - started
    print(
        f"{count} accounts crossing at once, a channel each: evaluated in {evaluated:.2f} s, "
        f"{outcomes.count('sent')} deliveries sent in {sent:.2f} s by {workers} threads "
        f"({len(due) / sent:.0f}/s) (load {os.getloadavg()[0]:.1f})"
    )

    shared = _channel(receivers, "shared")
    accounts = _accounts("grouped", count)
    subscription_create(name="grouped", channels=[shared], thresholds={"session": [90]})
    _crossing(accounts, timezone.now())
    started = time.perf_counter()
    for delivery_id in evaluation.evaluate():
        delivery.deliver(delivery_id)
    print(
        f"{count} accounts crossing at once, one shared channel: {len(receivers.received('/hook/shared'))} "
        f"message(s), evaluated and sent in {time.perf_counter() - started:.2f} s"
    )


if __name__ == "__main__":
    main()
