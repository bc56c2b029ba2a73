"""The hook API's hot path, /check and /count, as deployed: requests/s, latency and CPU per request.

Starts the server on a free port with its own scratch database, seeds realistic data (32 seats with one
token each and 4 rules; a light set with 200 counted turns in the last week per seat and a heavy set with
2,000), then drives /check and /count at 1 and 32 keep-alive connections (closed loop) and at a fixed
open-loop rate. For each phase it prints requests/s, p50/p99 and CPU milliseconds per request of the server
processes and of the PostgreSQL backends serving its database, read from /proc, with the load average.

    .venv/bin/python bench/hot_path.py [--server gunicorn|embedded|both] [--seconds 6] [--rate 200]

`gunicorn` is production: gunicorn sync workers on PostgreSQL (a local server, user postgres).
`embedded` is `manage.py serve`'s web process: daphne on SQLite. The database is dropped afterwards.
"""

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import loadgen

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN = os.environ.get("BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432")
SEATS = 32
MODELS = ["claude-sonnet-4-5", "claude-opus-4-1", "claude-sonnet-4-5", "claude-haiku-4-5"]

SEED = """
import django, json, random
django.setup()
from datetime import timedelta
from django.core.management import call_command, get_commands
from django.db import connection
from django.utils import timezone
from limiter import services
from limiter.models import UsageEvent

random.seed(14)
now = timezone.now()
weights = {"opus": 10, "sonnet": 3, "haiku": 1}
tokens = {}
for variant, turns in (("light", %(light)d), ("heavy", %(heavy)d)):
    tokens[variant] = []
    for n in range(%(seats)d):
        seat = services.seat_create(slug=f"{variant}-{n}", name=f"Bench {variant} {n}")
        services.rule_add(owner=seat, type="per_model", model="opus", window="daily", value=100000)
        services.rule_add(owner=seat, type="per_model", model="sonnet", window="sliding_24h", value=100000)
        services.rule_add(owner=seat, type="per_model", model="", window="weekly", value=500000)
        services.rule_add(owner=seat, type="credits", window="monthly", value=10**9)
        rows = []
        for _ in range(turns):
            family = random.choice(list(weights))
            at = now - timedelta(seconds=random.randint(60, 7 * 86400))
            rows.append(UsageEvent(seat=seat, family=family, model_raw=family, credit_cost=weights[family],
                                   occurred_at=at, received_at=at, input_tokens=1200, output_tokens=300))
        UsageEvent.objects.bulk_create(rows, batch_size=2000)
        code = services.install_code_issue(seat=seat)
        tokens[variant].append(services.register(code=code, ip="127.0.0.1")[0])
# Rows written in bulk bypass /count, so whatever it keeps besides them is rebuilt as an operator would.
if "rebuild_usage_counters" in get_commands():
    call_command("rebuild_usage_counters", verbosity=0)
if connection.vendor == "postgresql":
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")  # as autovacuum would have done on a live database
print(json.dumps(tokens))
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def scratch_database(kind: str):
    """A database no other run uses: a PostgreSQL database named for this process, or a temporary file."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            yield f"sqlite:///{folder}/bench.sqlite3", None
        return
    import psycopg

    name = f"bench_hot_path_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    with psycopg.connect(f"{PG_ADMIN}/postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        with psycopg.connect(f"{PG_ADMIN}/{name}", autocommit=True) as monitor:
            yield f"{PG_ADMIN}/{name}", monitor
    finally:
        with psycopg.connect(f"{PG_ADMIN}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def backends(monitor) -> list[int]:
    """The PostgreSQL backends serving the bench database, except the monitor's own."""
    if monitor is None:
        return []
    rows = monitor.execute(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
    ).fetchall()
    return [pid for (pid,) in rows]


def server_command(kind: str, port: int, workers: int) -> list[str]:
    if kind == "embedded":
        return [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "config.asgi:application"]
    return [
        sys.executable, "-m", "gunicorn", "config.wsgi:application", "--bind", f"127.0.0.1:{port}",
        "--workers", str(workers), "--worker-class", "sync", "--log-level", "warning",
    ]  # fmt: skip


def wait_until_up(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"the server did not start on port {port}")


def request_maker(endpoint: str, tokens: list[str]):
    path = f"/api/v1/{endpoint}"

    def make(n: int) -> bytes:
        seat = n % len(tokens)
        body = {"model": MODELS[n % len(MODELS)], "session_id": f"bench-session-{seat}"}
        if endpoint == "check":
            body.update(local_usage={}, prompt_length=42, project_dir="bench")
        else:
            body.update(
                timestamp=datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                response_length=1234,
                event_id=str(uuid.uuid4()),
                usage={"input_tokens": 1200, "output_tokens": 300},
            )
        return loadgen.http_post(path, json.dumps(body).encode(), tokens[seat])

    return make


def measure(server_pid: int, monitor, label: str, phase) -> None:
    pids = loadgen.process_tree(server_pid)
    db_before = loadgen.cpu_ticks(backends(monitor))
    server_before = loadgen.cpu_ticks(pids)
    load_before = loadgen.load_average()
    run = asyncio.run(phase)
    server_after = loadgen.cpu_ticks(loadgen.process_tree(server_pid))
    db_after = loadgen.cpu_ticks(backends(monitor))
    served = run.served or 1
    server_ms = loadgen.cpu_seconds_between(server_before, server_after) * 1000 / served
    db_ms = loadgen.cpu_seconds_between(db_before, db_after) * 1000 / served
    print(
        f"{label:<34} {run.rate:7.0f} {run.percentile(50):8.1f} {run.percentile(99):8.1f} "
        f"{server_ms:7.2f} {db_ms:6.2f} {server_ms + db_ms:7.2f}  {run.errors + run.non_2xx:4d}  "
        f"{load_before} -> {loadgen.load_average()}",
        flush=True,
    )


def bench_server(kind: str, args) -> None:
    with scratch_database("sqlite" if kind == "embedded" else "postgresql") as (url, monitor):
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "ALLOWED_HOSTS": "127.0.0.1",
            "LOG_LEVEL": "WARNING",
            "REGISTER_RATE_LIMIT": "100000",  # seeding registers one machine per simulated developer
            "PYTHONPATH": str(ROOT),
            "PYTHONWARNINGS": "ignore::UserWarning",  # whitenoise: no collected static files, none needed
        }
        env.pop("REDIS_URL", None)
        subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
        seed = SEED % {"light": args.light_turns, "heavy": args.heavy_turns, "seats": SEATS}
        out = subprocess.run([sys.executable, "-c", seed], cwd=ROOT, env=env, check=True, capture_output=True)
        tokens = json.loads(out.stdout.decode().strip().splitlines()[-1])
        port = free_port()
        log = open(Path(tempfile.gettempdir()) / f"bench-hot-path-{os.getpid()}.log", "ab")  # noqa: SIM115
        server = subprocess.Popen(
            server_command(kind, port, args.workers), cwd=ROOT, env=env, stdout=log, stderr=log
        )
        title = f"gunicorn {args.workers} sync workers, PostgreSQL"
        title = "daphne, SQLite" if kind == "embedded" else title
        try:
            wait_until_up(port)
            print(f"\n{title}; {SEATS} seats x 4 rules; {os.cpu_count()} cores; {args.seconds:g} s per phase")
            print(
                f"{'phase':<34} {'req/s':>7} {'p50 ms':>8} {'p99 ms':>8} {'srv ms':>7} {'db ms':>6} "
                f"{'CPU/req':>7}  {'err':>4}  load average before -> after"
            )
            for variant in ("light", "heavy"):
                turns = args.light_turns if variant == "light" else args.heavy_turns
                for endpoint in ("check", "count"):
                    make = request_maker(endpoint, tokens[variant])
                    # Warm every worker: connections, prepared statements, rule caches.
                    asyncio.run(loadgen.closed_loop("127.0.0.1", port, make, 8, 1.5))
                    for name, connections in (("c1", 1), ("c32", 32), (f"{args.rate:g}/s", None)):
                        if connections is None:
                            phase = loadgen.open_loop("127.0.0.1", port, make, args.rate, args.seconds)
                        else:
                            phase = loadgen.closed_loop("127.0.0.1", port, make, connections, args.seconds)
                        label = f"/{endpoint} {turns} turns/seat {name}"
                        measure(server.pid, monitor, label, phase)
        finally:
            server.terminate()
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:  # workers still busy with a far-behind open loop's requests
                server.kill()
                server.wait(timeout=15)
            log.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", choices=["gunicorn", "embedded", "both"], default="both")
    parser.add_argument("--seconds", type=float, default=6)
    parser.add_argument("--rate", type=float, default=200)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--light-turns", type=int, default=200)
    parser.add_argument("--heavy-turns", type=int, default=2000)
    args = parser.parse_args()
    print(
        "CPU/req = CPU ms per request served, server processes (srv) + database backends (db), from /proc; "
        "latency of open-loop phases counts from when each request was due."
    )
    for kind in ("gunicorn", "embedded") if args.server == "both" else (args.server,):
        bench_server(kind, args)


if __name__ == "__main__":
    main()
