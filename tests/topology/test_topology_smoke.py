"""The production topology behaves as one service: two gunicorn servers count against one limit, both Celery
workers answer, beat's ticks run on them, and compose's beat health check holds for the file beat writes."""

import json
import re
import subprocess
import time
from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from django.utils import timezone

from limiter import services
from limiter.models import SessionEvent

from .stack import ROOT

pytestmark = [pytest.mark.xdist_group("topology"), pytest.mark.django_db(transaction=True)]


def _eventually(condition, timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    while not (value := condition()) and time.monotonic() < deadline:
        time.sleep(0.3)
    return value


def test_two_web_servers_behind_the_proxy_enforce_one_limit(topology):
    seat = services.seat_create(slug="bob", name="Bob", team=services.team_current())
    services.rule_add(owner=seat, type="per_model", model="opus", window="daily", value=3)
    bearer = topology.register(seat)

    allowed, check = [], {"model": "opus", "local_usage": {}}
    for n in range(12):
        _, _, body = topology.request("POST", "/api/v1/check", check, headers=bearer)
        allowed.append(json.loads(body)["allowed"])
        if allowed[-1]:
            count = {"model": "opus", "timestamp": timezone.now().isoformat(), "session_id": f"s{n}"}
            assert topology.request("POST", "/api/v1/count", count, headers=bearer)[0] == 200

    assert allowed == [True] * 3 + [False] * 9
    for web in ("web1", "web2"):  # Caddy spread the requests; each server saw the other's counts
        assert "/api/v1/check" in topology.processes[web].log(), f"{web} served nothing"


def test_both_workers_answer_and_a_queued_task_runs_against_the_shared_database(topology):
    app = topology.celery_app()
    replies = app.control.ping(timeout=10)
    assert {name.split("@")[0] for reply in replies for name in reply} == {"worker1", "worker2"}

    seat = services.seat_create(slug="carol", name="Carol", team=services.team_current())
    old = timezone.now() - timedelta(days=400)
    SessionEvent.objects.create(seat=seat, kind=SessionEvent.PROMPT, created_at=old)
    app.send_task("limiter.tasks.prune_events")

    assert _eventually(lambda: not SessionEvent.objects.filter(seat=seat).exists())


def test_beat_ticks_run_on_the_workers_and_its_health_check_passes(topology):
    def ticks_run() -> bool:
        logs = topology.processes["worker1"].log() + topology.processes["worker2"].log()
        return bool(re.search(r"accounts\.poll_due_accounts\[[^\]]+\] succeeded", logs))

    assert _eventually(ticks_run), topology.processes["beat"].log()[-2000:]

    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    check = compose["services"]["beat"]["healthcheck"]["test"][1].replace("$$", "$")
    var_dir = topology.env["GOVERNOR_VAR_DIR"]
    result = subprocess.run(["sh", "-c", check.replace("/app/var", var_dir)], capture_output=True, timeout=30)
    assert result.returncode == 0, sorted(path.name for path in Path(var_dir).iterdir())
