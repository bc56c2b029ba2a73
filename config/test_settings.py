"""Test overrides: fast hashing, and state that belongs to this run alone.

Every run gets a run id (inherited by the processes it starts, so a worker or server subprocess joins the same
run), and from it its own test database name and Redis key prefix: two runs on one machine, or the parallel
workers of one run, never share a database or delete each other's keys.
"""

import os
import secrets

RUN_ID = os.environ.setdefault("GOVERNOR_TEST_RUN", secrets.token_hex(4))
# pytest-xdist names its workers gw0, gw1, …; each worker gets its own database and key prefix, so clearing
# its cache or flushing its tables never touches another worker's (the root conftest.py turns off
# pytest-django's own suffix, which would put `_gw0` after SQLite's `.sqlite3`).
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")
os.environ["REDIS_KEY_PREFIX"] = f"test-{RUN_ID}-{WORKER}:"

from .settings import *  # noqa: E402, F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
REGISTER_RATE_LIMIT = 1000

if DATABASES["default"]["ENGINE"].endswith("sqlite3"):  # noqa: F405
    # A file, not memory: live-server tests run requests in threads that each need their own connection.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-{RUN_ID}-{WORKER}.sqlite3")}  # noqa: F405
else:
    DATABASES["default"]["TEST"] = {"NAME": f"test_{DATABASES['default']['NAME']}_{RUN_ID}_{WORKER}"}  # noqa: F405

# Serve admin assets straight from the apps in tests, so pages render fully without collectstatic.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True

# The alert transports' loopback fakes and aiosmtpd listen on 127.0.0.1.
ALERTS_ALLOWED_PRIVATE_NETWORKS = ["127.0.0.0/8", "::1/128"]
# Polls in other apps' tests must not queue alert tasks on a broker; alerts tests turn it on where needed.
ALERTS_EVALUATE_AFTER_POLL = False
