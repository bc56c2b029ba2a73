"""Two test runs on one machine, or two workers of one run, never share a database or Redis keys."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import redis
from django.core.cache import cache

from tests.isolation import clear_own_cache

ROOT = Path(__file__).resolve().parents[1]
PROBE = (
    "import json, config.test_settings as s; "
    "print(json.dumps([s.DATABASES['default']['TEST']['NAME'], s.REDIS_KEY_PREFIX, s.CACHES['default']]))"
)


def _settings_of_a_run(**env: str) -> tuple[str, str, dict]:
    inherited = ("GOVERNOR_TEST_RUN", "PYTEST_XDIST_WORKER", "DATABASE_URL")
    clean = {k: v for k, v in os.environ.items() if k not in inherited}
    chosen = {k: v for k, v in env.items() if v}  # an empty value means "unset", as in .env.example
    probe = [sys.executable, "-c", PROBE]
    out = subprocess.run(probe, cwd=ROOT, env=clean | chosen, capture_output=True, text=True, check=True)
    return tuple(json.loads(out.stdout.strip().splitlines()[-1]))


@pytest.mark.parametrize("database_url", ["", "postgres://postgres@127.0.0.1:5432/gov_anyone"])
def test_two_runs_get_different_test_databases_and_key_prefixes(database_url):
    env = {"DATABASE_URL": database_url, "REDIS_URL": "redis://127.0.0.1:6379/9"}
    first_db, first_prefix, first_cache = _settings_of_a_run(**env)
    second_db, second_prefix, _ = _settings_of_a_run(**env)

    assert first_db != second_db
    assert first_prefix != second_prefix
    assert first_cache["KEY_PREFIX"].startswith(first_prefix)
    if database_url:
        assert first_db.startswith("test_gov_anyone_")


def test_processes_a_run_starts_join_its_database_and_workers_get_their_own_prefix():
    env = {"DATABASE_URL": "postgres://postgres@127.0.0.1:5432/gov_anyone", "GOVERNOR_TEST_RUN": "feedbeef"}
    main_db, main_prefix, _ = _settings_of_a_run(**env)
    worker_db, worker_prefix, _ = _settings_of_a_run(**env, PYTEST_XDIST_WORKER="gw1")

    assert (main_db, worker_db) == ("test_gov_anyone_feedbeef_main", "test_gov_anyone_feedbeef_gw1")
    assert main_prefix == "test-feedbeef-main:"
    assert worker_prefix == "test-feedbeef-gw1:"


def test_clearing_the_cache_deletes_this_runs_keys_and_nothing_else(settings, redis_url):
    own_prefix = settings.REDIS_KEY_PREFIX
    settings.REDIS_URL = redis_url
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": redis_url,
            "KEY_PREFIX": f"{own_prefix}cache",
        }
    }
    client = redis.Redis.from_url(redis_url)
    foreign = [b"production:cache:1:register:10.0.0.1", f"{own_prefix[:-1]}x:cache:1:other-run".encode()]
    try:
        for key in foreign:
            client.set(key, b"1", ex=60)
        cache.set("register:127.0.0.1", 3, 60)
        assert cache.get("register:127.0.0.1") == 3

        clear_own_cache()

        assert cache.get("register:127.0.0.1") is None
        assert all(client.exists(key) for key in foreign)
    finally:
        client.delete(*foreign)
