"""Where one hook API request spends its time: cProfile over many in-process requests, grouped by layer.

Seeds one seat like the hot-path bench (4 rules, a week of history), then calls the WSGI application
directly (no HTTP server, no client) N times and prints the time per request spent in each layer: the
database driver (round trips), Django's ORM, DRF, Django's request handling and middleware, and our code.

    DATABASE_URL=postgres://…/scratch .venv/bin/python bench/profile_request.py [--endpoint check] [-n 2000]

It migrates and writes to DATABASE_URL (SQLite file by default): point it at a scratch database.
"""

import argparse
import cProfile
import io
import json
import os
import pstats
import random
import sys
import time
from collections import defaultdict
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1")
os.environ.setdefault("REGISTER_RATE_LIMIT", "100000")
os.environ.setdefault("CONN_MAX_AGE", "86400")  # one backend for the whole run, so its CPU can be read

LAYERS = [  # first match wins: a function is charged to the innermost layer it belongs to
    ("database driver", ("psycopg", "sqlite3", "_sqlite3")),
    ("Django ORM", ("django/db/",)),
    ("DRF", ("rest_framework/",)),
    ("Django handler + middleware", ("django/", "whitenoise/", "allauth/", "monitoring/middleware")),
    ("limiter (our code)", ("limiter/", "config/")),
]


def seed(turns: int, unlimited: bool = False) -> str:
    from django.core.management import call_command
    from django.utils import timezone

    from limiter import services
    from limiter.models import UsageEvent

    call_command("migrate", verbosity=0)
    now, weights = timezone.now(), {"opus": 10, "sonnet": 3, "haiku": 1}
    seat = services.seat_create(slug=f"profile-{random.randrange(10**9)}", name="Profile")
    # Unlimited rules reserve nothing: no seat lock, no hold written or read (the cost of holds, issue 9).
    cap = (lambda value: -1) if unlimited else (lambda value: value)
    services.rule_add(owner=seat, type="per_model", model="opus", window="daily", value=cap(100000))
    services.rule_add(owner=seat, type="per_model", model="sonnet", window="sliding_24h", value=cap(100000))
    services.rule_add(owner=seat, type="per_model", model="", window="weekly", value=cap(500000))
    services.rule_add(owner=seat, type="credits", window="monthly", value=cap(10**9))
    UsageEvent.objects.bulk_create(
        UsageEvent(seat=seat, family=f, credit_cost=weights[f], occurred_at=at, received_at=at)
        for f, at in (
            (random.choice(list(weights)), now - timedelta(seconds=random.randint(60, 7 * 86400)))
            for _ in range(turns)
        )
    )
    call_command("rebuild_usage_counters", verbosity=0)
    return services.register(code=services.install_code_issue(seat=seat), ip="127.0.0.1")[0]


def environ(endpoint: str, token: str, n: int) -> dict:
    body = {"model": "claude-sonnet-4-5", "session_id": "profile-session"}
    if endpoint == "check":
        body.update(local_usage={}, prompt_length=42, project_dir="bench")
    else:
        body.update(response_length=1234, event_id=f"00000000-0000-4000-8000-{n:012d}")
    raw = json.dumps(body).encode()
    return {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": f"/api/v1/{endpoint}",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "127.0.0.1",
        "HTTP_AUTHORIZATION": f"Bearer {token}",
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(raw)),
        "wsgi.input": io.BytesIO(raw),
        "wsgi.url_scheme": "http",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--endpoint", choices=["check", "count"], default="check")
    parser.add_argument("-n", type=int, default=2000)
    parser.add_argument("--turns", type=int, default=200)
    parser.add_argument(
        "--unlimited", action="store_true", help="the same rules with no limit: no holds, to price them"
    )
    parser.add_argument(
        "--ab", type=int, metavar="ROUNDS", default=0,
        help="instead of profiling: alternate ROUNDS x n requests reading the usage rows (as before the "
        "counters) and the counters, and print CPU per request of this process and its database backend",
    )  # fmt: skip
    args = parser.parse_args()
    from config.wsgi import application as app  # as deployed: the hook API through its own middleware stack

    token = seed(args.turns, args.unlimited)

    def call(n: int) -> None:
        status = []
        body = b"".join(app(environ(args.endpoint, token, n), lambda s, h: status.append(s)))
        if not status[0].startswith("200"):
            raise SystemExit(f"{status[0]}: {body[:300]!r}")

    for n in range(50):  # warm: connection, prepared statements, rule cache
        call(10**6 + n)
    if args.ab:
        return compare(call, args)
    started, cpu = time.perf_counter(), time.process_time()
    for n in range(args.n):
        call(n)
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    statements = count_statements(call, 20)
    profiler = cProfile.Profile(time.process_time)  # CPU, not waiting for the database
    profiler.enable()
    for n in range(args.n):
        call(2 * 10**6 + n)
    profiler.disable()
    stats = pstats.Stats(profiler)
    own: dict[str, float] = defaultdict(float)
    for (filename, _, _), (_, _, tottime, _, _) in stats.stats.items():  # type: ignore[attr-defined]
        layer = next((name for name, marks in LAYERS if any(m in filename for m in marks)), "other")
        own[layer] += tottime
    total = sum(own.values())
    print(f"POST /api/v1/{args.endpoint}, {os.environ.get('DATABASE_URL', 'SQLite')}, {args.n} requests")
    print(f"unprofiled: {wall / args.n * 1000:.2f} ms wall, {cpu / args.n * 1000:.2f} ms CPU per request")
    print(f"SQL statements per request: {statements:.1f}, plus BEGIN and COMMIT for each transaction")
    print("profiled, own CPU time per request by layer (profiling inflates Python-heavy layers):")
    for layer, seconds in sorted(own.items(), key=lambda item: -item[1]):
        print(f"  {layer:<30} {seconds / args.n * 1000:6.3f} ms  {seconds / total:5.1%}")
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(45)
    print(out.getvalue()[-9000:])


def count_statements(call, n: int) -> float:
    """Statements the request sends through Django's cursors (psycopg sends BEGIN and COMMIT itself)."""
    from django.db import connection

    sent = []
    with connection.execute_wrapper(lambda execute, sql, *rest: sent.append(sql) or execute(sql, *rest)):
        for i in range(n):
            call(4 * 10**6 + i)
    return len(sent) / n


def compare(call, args) -> None:
    """Rows against counters, interleaved so that both see the same machine load."""
    from django.db import connection

    from limiter import counters
    from limiter.models import Team

    backend = None
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            backend = cursor.fetchone()[0]

    def backend_cpu() -> float:
        if backend is None:
            return 0.0
        with open(f"/proc/{backend}/stat") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    results: dict[str, list[tuple[float, float]]] = {"rows": [], "counters": []}
    offset = 3 * 10**6
    for _ in range(args.ab):
        for mode in results:
            for team in Team.objects.all():
                if mode == "rows":
                    Team.objects.filter(pk=team.pk).update(counters_timezone="")
                else:
                    counters.rebuild(team)
            own, db = time.process_time(), backend_cpu()
            for n in range(args.n):
                call(offset + n)
            offset += args.n
            results[mode].append(
                ((time.process_time() - own) / args.n * 1000, (backend_cpu() - db) / args.n * 1000)
            )
    print(f"POST /api/v1/{args.endpoint}, {args.turns} turns in the last week, {args.n} requests x {args.ab}")
    for mode, runs in results.items():
        runs.sort(key=sum)
        median = runs[len(runs) // 2]
        print(
            f"  usage from {mode:<8}: median {sum(median):6.2f} ms CPU per request "
            f"(Python {median[0]:.2f}, database backend {median[1]:.2f}); best {sum(runs[0]):.2f}"
        )
    with open("/proc/loadavg") as handle:
        print(f"  load average {' '.join(handle.read().split()[:3])}")


if __name__ == "__main__":
    main()
