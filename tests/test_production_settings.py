import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


FERNET_KEY = "q0TwmJ0O2hFXxFlFoPsLkmh9BQK6TS1q9ZcU7yC2yPk="


def check_with(env: dict[str, str]) -> subprocess.CompletedProcess:
    base = {
        k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE")
    }
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env={**base, "DJANGO_SETTINGS_MODULE": "config.production", "ALLOWED_HOSTS": "gov.example", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_refuses_to_start_without_a_secret_key():
    result = check_with({})
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_production_refuses_an_insecure_secret_key():
    result = check_with({"SECRET_KEY": "django-insecure-" + "x" * 60})
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_production_refuses_debug():
    result = check_with({"SECRET_KEY": "Zq8-vL2_pX9" * 6, "DEBUG": "true"})
    assert result.returncode != 0
    assert "DEBUG must be off" in result.stderr


def test_production_passes_the_deploy_checks_with_a_strong_key():
    result = check_with({"SECRET_KEY": "Zq8-vL2_pX9" * 6, "FERNET_KEYS": FERNET_KEY})
    assert result.returncode == 0, result.stderr


def test_production_refuses_to_start_without_fernet_keys():
    result = check_with({"SECRET_KEY": "Zq8-vL2_pX9" * 6, "FERNET_KEYS": ""})
    assert result.returncode != 0
    assert "FERNET_KEYS must be set" in result.stderr
