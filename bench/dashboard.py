"""Server time of the admin dashboard (the admin index) with a realistic team and a long history.

    .venv/bin/python bench/dashboard.py [--seats 50] [--accounts 10] [--events 1000000] [--requests 30]

Seeds a scratch database (SQLite in a temporary directory unless DATABASE_URL is set: give it a scratch
database, the bench migrates it and fills it), then renders /admin/ through Django's test client as an admin
and prints wall and CPU milliseconds per request (median and p95), queries per request and the load average;
then the same for the trends, limit hits and one account page. `--events` is split between counted turns
(40 %), prompt/block rows (40 %) and event log rows (20 %), spread over the last 30 days; accounts get 7 days
of readings every 5 minutes, and each seat uses one account for the whole 30 days.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BATCH = 10_000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seats", type=int, default=50)
    parser.add_argument("--accounts", type=int, default=10)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--measure-only", action="store_true", help="reuse an already seeded database")
    args = parser.parse_args()
    os.environ.setdefault("GOVERNOR_VAR_DIR", tempfile.mkdtemp(prefix="bench-dashboard-"))
    # Test settings serve static files from the apps (no collectstatic) and hash passwords fast.
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.test_settings"
    os.environ.setdefault("ALLOWED_HOSTS", "testserver")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    if not args.measure_only:
        started = time.monotonic()
        seed(args)
        print(f"seeded in {time.monotonic() - started:.0f} s")
    measure(args.requests)


def _bulk(model, rows) -> None:
    for start in range(0, len(rows), BATCH):
        model.objects.bulk_create(rows[start : start + BATCH])


def seed(args) -> None:
    import random

    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from accounts.models import ClaudeAccount, UsageSnapshot, WindowReading
    from limiter import counters, prompt_tally
    from limiter.models import (
        Device,
        PromptTally,
        PromptTallyMark,
        Rule,
        Seat,
        SeatAccount,
        SessionEvent,
        TalliedSession,
        Team,
        UsageEvent,
    )
    from monitoring.models import Event

    rng = random.Random(7)
    now = timezone.now()
    team, _ = Team.objects.update_or_create(pk=1, defaults={"timezone": "Europe/Berlin"})
    get_user_model().objects.filter(username="bench").delete()
    get_user_model().objects.create_superuser("bench", password="bench-pw")  # noqa: S106 - scratch database
    for model in (
        PromptTallyMark,
        PromptTally,
        TalliedSession,
        Event,
        UsageEvent,
        SessionEvent,
        Rule,
        Device,
        Seat,
        WindowReading,
        UsageSnapshot,
        ClaudeAccount,
    ):
        model.objects.all().delete()
    seats = [Seat(team=team, name=f"Dev {i:02d}", slug=f"dev-{i:02d}") for i in range(args.seats)]
    Seat.objects.bulk_create(seats)
    Rule.objects.bulk_create(
        [Rule(seat=s, type="per_model", model="opus", window="daily", value=50) for s in seats]
        + [Rule(seat=s, type="credits", window="weekly", value=2000) for s in seats]
    )
    Device.objects.bulk_create([Device(seat=s, hostname=f"{s.slug}-mbp", last_seen_at=now) for s in seats])
    span_days = timedelta(days=30)
    span = int(span_days.total_seconds())
    families = ["opus", "sonnet", "haiku"]
    turns, prompts, logged = int(args.events * 0.4), int(args.events * 0.4), int(args.events * 0.2)
    _bulk(
        UsageEvent,
        [
            UsageEvent(
                seat=seats[i % len(seats)],
                family=families[i % 3],
                credit_cost=(10, 3, 1)[i % 3],
                occurred_at=(at := now - timedelta(seconds=rng.randrange(span))),
                received_at=at,
                session_id=f"s{i // 20}",
                input_tokens=1000,
                output_tokens=300,
            )
            for i in range(turns)
        ],
    )
    _bulk(
        SessionEvent,
        [
            SessionEvent(
                seat=seats[i % len(seats)],
                kind="blocked" if i % 25 == 0 else "prompt",
                session_id=f"s{i // 20}",
                family=families[i % 3],
                project_dir="/src/app",
                reason="daily opus limit" if i % 25 == 0 else "",
                created_at=now - timedelta(seconds=rng.randrange(span)),
            )
            for i in range(prompts)
        ],
    )
    kinds = ["poll.result", "seat.status", "rule.changed", "alert.fired"]
    _bulk(
        Event,
        [
            Event(
                kind=kinds[i % 4],
                at=now - timedelta(seconds=rng.randrange(span)),
                seat_id=seats[i % len(seats)].pk,
                data={"label": "bench", "outcome": "ok", "utilization": {"session": 40.0}},
            )
            for i in range(logged)
        ],
    )
    for a in range(args.accounts):
        account = ClaudeAccount.objects.create(
            label=f"max-{a}",
            source="cookie",
            credential="sk-ant-sid01-bench",
            state="ok",
            last_success_at=now,
        )
        snapshots = UsageSnapshot.objects.bulk_create(
            [
                UsageSnapshot(account=account, taken_at=now - timedelta(minutes=5 * k), raw={})
                for k in range(2016)
            ]
        )
        _bulk(
            WindowReading,
            [
                WindowReading(
                    snapshot=snap,
                    account=account,
                    taken_at=snap.taken_at,
                    limit_type=limit_type,
                    label=limit_type,
                    utilization=rng.uniform(0, 100),
                    window_hours=hours,
                    resets_at=now + timedelta(hours=2),
                )
                for snap in snapshots
                for limit_type, hours in (
                    ("session", 5),
                    ("weekly", 168),
                    ("weekly:opus", 168),
                    ("weekly:sonnet", 168),
                )
            ],
        )
    accounts = list(ClaudeAccount.objects.order_by("pk"))
    SeatAccount.objects.bulk_create(
        [
            SeatAccount(seat=s, account_id=accounts[i % len(accounts)].pk, since=(now - span_days).date())
            for i, s in enumerate(seats)
        ]
    )
    # bulk_create bypasses /count, which keeps the usage counters, and beat, which keeps the prompt
    # tallies: build both as a running deployment would have them.
    counters.rebuild(team)
    prompt_tally.catch_up(now)


def measure(requests: int) -> None:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    from django.contrib.auth import get_user_model

    client.force_login(get_user_model().objects.get(username="bench"))
    from accounts.models import ClaudeAccount

    account = ClaudeAccount.objects.order_by("pk").values_list("pk", flat=True).first()
    for url in ("/admin/", "/admin/trends/", "/admin/limit-hits/", f"/admin/account/{account}/"):
        client.get(url)  # warm: templates, connections, caches
        walls, cpus, queries = [], [], 0
        for _ in range(requests):
            wall, cpu = time.perf_counter(), time.process_time()
            with CaptureQueriesContext(connection) as captured:
                response = client.get(url)
            if response.status_code != 200:
                raise SystemExit(f"{url} answered {response.status_code}")
            walls.append((time.perf_counter() - wall) * 1000)
            cpus.append((time.process_time() - cpu) * 1000)
            queries = len(captured)
        walls.sort()
        p95 = walls[max(0, round(0.95 * len(walls)) - 1)]
        load = " ".join(f"{x:.2f}" for x in os.getloadavg())
        print(
            f"{url:20} {connection.vendor:10} wall median {statistics.median(walls):6.1f} ms  "
            f"p95 {p95:6.1f} ms  app CPU {statistics.median(cpus):6.1f} ms/request  {queries} queries  "
            f"load {load}"
        )


if __name__ == "__main__":
    main()
