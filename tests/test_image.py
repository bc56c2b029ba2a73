"""The image cannot carry a secret: the build context is computed from .dockerignore as Docker computes it
(there is no Docker daemon here), and the Dockerfile builds in two stages and runs as a non-root user."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.dockerignore import build_context

ROOT = Path(__file__).resolve().parents[1]

# Paths that hold secrets or machine state on a developer's or an operator's checkout.
PLANTED = [
    ".env",
    ".env.production",
    "var/secret_key",
    "var/fernet_key",
    "var/governor.sqlite3",
    "var/celery-broker.sqlite3",
    "var/celerybeat-schedule.db",
    "governor.sqlite3-wal",
    ".venv/bin/python",
    ".venv/lib/python3.11/site-packages/django/__init__.py",
    ".git/config",
    ".git/objects/ab/cdef",
    "tests/peers/node_modules/oidc-provider/index.js",
    "staticfiles/admin/css/base.css",
    "limiter/__pycache__/services.cpython-311.pyc",
    "deploy/tls/server.key",
    "deploy/tls/server.pem",
    "id_ed25519",
    ".pytest_cache/v/cache/nodeids",
]
SECRET_BEARING = re.compile(
    r"(^|/)(\.env(\.(?!example$)[^/]*)?|var|\.venv|\.git|node_modules)(/|$)|\.(sqlite3[^/]*|key|pem)$|(^|/)id_"
)
# What the image needs to run at all: excluding these would build an image that cannot start.
NEEDED = ["manage.py", "config/settings.py", "templates", "static", "requirements.lock"]


def _tracked_files() -> list[str]:
    out = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True)
    return [line for line in out.stdout.splitlines() if (ROOT / line).exists()]


def _checkout_with_secrets(tmp_path: Path) -> Path:
    for name in [*_tracked_files(), *PLANTED]:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()
    (tmp_path / ".dockerignore").write_text((ROOT / ".dockerignore").read_text())
    return tmp_path


def test_no_secret_or_machine_state_would_be_copied_into_the_image(tmp_path):
    context = build_context(_checkout_with_secrets(tmp_path))

    assert [path for path in context if path in PLANTED] == []
    assert [path for path in context if SECRET_BEARING.search(path)] == []
    for needed in NEEDED:
        assert any(path == needed or path.startswith(needed + "/") for path in context), needed


def test_this_checkouts_own_build_context_carries_no_secret_bearing_path():
    context = build_context(ROOT)
    assert [path for path in context if SECRET_BEARING.search(path)] == []


def test_the_matcher_follows_dockerignore_rules(tmp_path):
    (tmp_path / ".dockerignore").write_text("# comment\n/var\n**/*.key\n.env*\n!.env.example\nbuild/*/out\n")
    names = ["var/x", "a/var/y", "k.key", "a/b/c.key", ".env", ".env.example", "build/x/out", "build/out"]
    for name in names:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).touch()

    assert build_context(tmp_path) == [".dockerignore", ".env.example", "a/var/y", "build/out"]


def _stages() -> list[list[str]]:
    instructions = re.sub(r"\\\n", " ", (ROOT / "Dockerfile").read_text()).splitlines()
    stages: list[list[str]] = []
    for line in instructions:
        line = line.strip()
        if line.upper().startswith("FROM "):
            stages.append([])
        if line and not line.startswith("#") and stages:
            stages[-1].append(line)
    return stages


def test_the_image_builds_in_two_stages_and_runs_as_a_non_root_user():
    *builders, final = _stages()
    assert builders, "a build stage keeps compilers, caches and build-time keys out of the final image"
    users = [line.split()[1] for line in final if line.upper().startswith("USER ")]
    assert users and users[-1] not in ("root", "0"), "the final stage must switch to a non-root user"
    build = "\n".join(line for stage in builders for line in stage)
    assert "--require-hashes" in build and "requirements.lock" in build
    assert "collectstatic" in build
    assert any("--from=build" in line and "staticfiles" in line for line in final)
    assert not re.search(r"SECRET_KEY|FERNET_KEYS|PASSWORD", "\n".join(final + builders[0]))


def test_a_dot_env_copied_from_the_example_keeps_the_images_paths(tmp_path):
    """Compose's env_file would override the image's ENV with the example's empty values."""
    image_env = {
        name
        for line in (ROOT / "Dockerfile").read_text().split("FROM python")[-1].splitlines()
        for name in re.findall(r"\b([A-Z][A-Z_]+)=", line)
    }
    example = dict(
        line.split("=", 1)
        for line in (ROOT / ".env.example").read_text().splitlines()
        if re.match(r"^[A-Z_]+=", line)
    )
    assert {name for name in image_env & example.keys() if not example[name]} == set()

    # And settings read an empty path (or database URL) as "the default", whatever sets it.
    probe = "import json, config.settings as s; print(json.dumps([str(s.VAR_DIR), str(s.STATIC_ROOT)]))"
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env |= {"GOVERNOR_VAR_DIR": "", "STATIC_ROOT": "", "DATABASE_URL": "", "REDIS_URL": ""}
    out = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, env=env | {"PYTHONPATH": str(ROOT)},
                         capture_output=True, text=True, check=True)  # fmt: skip
    assert json.loads(out.stdout) == [str(ROOT / "var"), str(ROOT / "staticfiles")]


@pytest.mark.parametrize("service", ["web", "ws", "worker", "beat", "migrate"])
def test_compose_publishes_no_application_port(service):
    import yaml

    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    assert "ports" not in compose["services"][service], f"{service} must be reached only through the proxy"
