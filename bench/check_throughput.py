"""Throughput and latency of POST /api/v1/check as deployed: gunicorn workers on PostgreSQL.

Starts gunicorn on a scratch PostgreSQL database, provisions one seat per connection (per-model, weekly and
credits rules, 2,000 counted turns in the last week each), then drives /check with wrk (32 keep-alive
connections) for a fixed time and prints requests/s, p50 and p99. Needs `wrk` (Debian package) and a local
PostgreSQL.

    .venv/bin/python bench/check_throughput.py [--seconds 15] [--workers 4] [--threads 1]
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/governor_bench"


def ensure_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def provision(env: dict[str, str], seats: int) -> list[str]:
    """Migrates, then gives each simulated developer a seat with rules, a week of history and a token."""
    script = f"""
import django, json, random
django.setup()
from datetime import timedelta
from django.db import connection
from django.utils import timezone
from limiter import services
from limiter.models import Seat, UsageEvent
Seat.objects.filter(slug__startswith="bench-").delete()
now = timezone.now()
tokens = []
for n in range({seats}):
    seat = services.seat_create(slug=f"bench-{{n}}", name=f"Bench {{n}}")
    services.rule_add(owner=seat, type="per_model", model="opus", window="daily", value=100000)
    services.rule_add(owner=seat, type="per_model", model="", window="weekly", value=500000)
    services.rule_add(owner=seat, type="credits", window="monthly", value=10**9)
    UsageEvent.objects.bulk_create([
        UsageEvent(seat=seat, family=random.choice(["opus", "sonnet", "haiku"]), credit_cost=3,
                   occurred_at=now - timedelta(minutes=random.randint(0, 60 * 24 * 7)), received_at=now)
        for _ in range(2000)
    ])
    tokens.append(services.register(code=services.install_code_issue(seat=seat), ip="127.0.0.1")[0])
with connection.cursor() as cursor:
    cursor.execute("ANALYZE")  # as autovacuum would have done on a live database
print(json.dumps(tokens))
"""
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, check=True, capture_output=True)
    return json.loads(out.stdout.decode().strip().splitlines()[-1])


# Requests rotate over the simulated developers, each with its own seat, token and Claude Code session.
LUA = """
local tokens = {%s}
local counter = 0
setup = function(thread) thread:set("offset", counter); counter = counter + 1 end
init = function(args) calls = 0 end
request = function()
  calls = calls + 1
  local n = (offset + calls * 2) %% #tokens + 1
  local body = '{"model":"claude-sonnet-4-5","local_usage":{},"prompt_length":42,"project_dir":"bench",'
    .. '"session_id":"bench-session-' .. n .. '"}'
  return wrk.format("POST", nil, {["Content-Type"] = "application/json",
                                  ["Authorization"] = "Bearer " .. tokens[n]}, body)
end
"""


def wait_for(url: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"server did not answer at {url}")


def post(url: str, body: dict, token: str | None = None) -> dict:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, json.dumps(body).encode(), headers)
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.loads(response.read())


def parse_wrk(output: str) -> dict[str, float]:
    def millis(value: str, unit: str) -> float:
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    figures = {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))}
    for pct in ("50", "99"):
        value, unit = re.search(rf"\s{pct}%\s+([\d.]+)(us|ms|s)", output).groups()
        figures[f"p{pct}"] = millis(value, unit)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    figures["non_2xx"] = float(errors.group(1)) if errors else 0.0
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is needed: apt-get install wrk")
    database = os.environ.get("BENCH_DATABASE_URL", DEFAULT_DB)
    ensure_database(database)
    env = {
        **os.environ,
        "DATABASE_URL": database,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "ALLOWED_HOSTS": "127.0.0.1",
        "LOG_LEVEL": "WARNING",
        "REGISTER_RATE_LIMIT": "100000",  # provisioning registers one machine per simulated developer
        "PYTHONPATH": str(ROOT),
    }
    env.pop("REDIS_URL", None)
    tokens = provision(env, args.connections)
    base = f"http://127.0.0.1:{args.port}"
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "config.wsgi:application",
            "--bind",
            f"127.0.0.1:{args.port}",
            "--workers",
            str(args.workers),
            "--threads",
            str(args.threads),
            "--worker-class",
            "gthread" if args.threads > 1 else "sync",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        wait_for(f"{base}/health")
        body = {"model": "claude-sonnet-4-5", "prompt_length": 42, "session_id": "warm-up"}
        if post(f"{base}/api/v1/check", body, tokens[0])["allowed"] is not True:
            raise SystemExit("the bench seat was denied; its rules are wrong")
        with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
            script.write(LUA % ", ".join(json.dumps(t) for t in tokens))
        result = subprocess.run(
            [
                "wrk",
                "-t2",
                f"-c{args.connections}",
                f"-d{args.seconds}s",
                "--latency",
                "-s",
                script.name,
                f"{base}/api/v1/check",
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        os.unlink(script.name)
        figures = parse_wrk(result.stdout)
    finally:
        server.terminate()
        server.wait(timeout=10)
    print(
        f"POST /api/v1/check, gunicorn {args.workers} workers x {args.threads} thread(s), PostgreSQL, "
        f"{args.connections} keep-alive connections, {args.seconds} s, {os.cpu_count()} cores"
    )
    print(
        f"requests/s {figures['rps']:.0f}   p50 {figures['p50']:.2f} ms   p99 {figures['p99']:.2f} ms   "
        f"non-2xx {figures['non_2xx']:.0f}"
    )


if __name__ == "__main__":
    main()
