"""Settings, all from the environment.

Defaults give the embedded mode: SQLite, in-process cache and channel layer, Celery on a SQLite broker.
`DATABASE_URL` switches to PostgreSQL; `REDIS_URL` switches cache, Celery broker and channel layer to Redis.
"""

import secrets
from pathlib import Path

import environ
from csp.constants import NONCE

from config.private_files import make_private

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
if (BASE_DIR / ".env").exists():
    environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

# An empty value (as in a .env copied from .env.example) means the default, not the current directory.
VAR_DIR = Path(env.str("GOVERNOR_VAR_DIR", default="") or BASE_DIR / "var")
VAR_DIR.mkdir(mode=0o700, parents=True, exist_ok=True)
make_private(VAR_DIR, 0o700)  # database, keys and queue: the service's user only (config/private_files.py)


def _embedded_secret_key() -> str:
    # Embedded mode keeps a generated key on disk so sessions survive restarts without a secret in the repo.
    path = VAR_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = env.str("SECRET_KEY", default="") or _embedded_secret_key()
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
CSRF_FAILURE_VIEW = "config.errors.csrf_failure"  # JSON under /api/
# Proxies whose X-Forwarded-For we believe (exact client addresses of the proxy).
TRUSTED_PROXIES = frozenset(env.list("TRUSTED_PROXIES", default=[]))
# The public URL of this server for install commands; empty means "the address the admin used".
PUBLIC_URL = env.str("PUBLIC_URL", default="").rstrip("/")

INSTALLED_APPS = [
    "daphne",
    # Before the admin so its login, "My seat" link and 403 page override the admin's templates.
    "monitoring",
    "monitoring.admin_apps.GovernorAdminConfig",  # django.contrib.admin with Governor's site
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.openid_connect",
    "csp",
    "rest_framework",
    "drf_spectacular",
    "limiter",
    "accounts",
    "alerts",
]

MIDDLEWARE = [
    "config.db.deadline.DatabaseDeadlineMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "monitoring.middleware.IdentityProviderErrorMiddleware",
    "monitoring.middleware.TeamTimezoneMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

# Empty (as .env.example leaves it) means the embedded SQLite file.
DATABASES = {
    "default": env.db_url_config(
        env.str("DATABASE_URL", default="") or f"sqlite:///{VAR_DIR / 'governor.sqlite3'}"
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL and a busy timeout let the web process, worker and beat share one file without "database is locked".
    # A web request waits for a busy file only until its deadline (config/db/sqlite3).
    DATABASES["default"]["ENGINE"] = "config.db.sqlite3"
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # Kept open between requests: opening the file and running the PRAGMAs cost more than a whole /check.
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=600)
else:
    # Same backend, on a psycopg connection that gives up at the request's deadline (config/db/deadline.py).
    DATABASES["default"]["ENGINE"] = "config.db.postgresql"
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # Server-side binding lets psycopg prepare the hook API's repeated queries once per connection, which
    # skips PostgreSQL's planner on every /check. Turn off behind a transaction-pooling PgBouncer.
    DATABASES["default"]["OPTIONS"] = {
        "server_side_binding": env.bool("DATABASE_SERVER_SIDE_BINDING", default=True),
        # Outside web requests (workers, migrations) only this bounds a connection attempt.
        "connect_timeout": env.int("DATABASE_CONNECT_TIMEOUT", default=5),
    }
# A stalled database fails a request with a JSON 503 after this long, rather than holding it: below the hook
# client's gate timeout (2 s) for the hook API and /health, below gunicorn's worker timeout (30 s) elsewhere.
DATABASE_DEADLINE_API_SECONDS = env.float("DATABASE_DEADLINE_API_SECONDS", default=1.5)
DATABASE_DEADLINE_SECONDS = env.float("DATABASE_DEADLINE_SECONDS", default=20.0)

REDIS_URL = env.str("REDIS_URL", default="")
# Starts every key Governor writes to Redis (cache, channel layer, Celery queues), so deployments or test runs
# sharing one Redis database never see, or delete, each other's keys.
REDIS_KEY_PREFIX = env.str("REDIS_KEY_PREFIX", default="")

if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": f"{REDIS_KEY_PREFIX}cache",
            # A stalled Redis fails fast instead of holding requests (redis-py waits for ever by default).
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            # No read timeout: a consumer's idle blocking read would otherwise hit redis-py 8's default 5 s
            # socket timeout and drop every quiet dashboard socket (django/channels_redis#422).
            "CONFIG": {
                "hosts": [{"address": REDIS_URL, "socket_timeout": None}],
                "prefix": f"{REDIS_KEY_PREFIX}asgi",
            },
        }
    }
    CELERY_BROKER_URL = REDIS_URL
    if REDIS_KEY_PREFIX:
        CELERY_BROKER_TRANSPORT_OPTIONS = {"global_keyprefix": REDIS_KEY_PREFIX}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    # kombu's SQLAlchemy transport: a durable queue in a SQLite file, no server needed, polled five times a
    # second rather than once (config/broker.py).
    from config.broker import SCHEME as _BROKER_SCHEME

    CELERY_BROKER_URL = f"{_BROKER_SCHEME}+sqlite:///{VAR_DIR / 'celery-broker.sqlite3'}"

CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = "UTC"
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE = {
    "limiter-prune-events": {
        "task": "limiter.tasks.prune_events",
        "schedule": 3600.0,
        "options": {"expires": 1800},
    },
    "limiter-rebuild-stale-counters": {
        "task": "limiter.tasks.rebuild_stale_counters",
        "schedule": 60.0,
        "options": {"expires": 50},
    },
    "limiter-tally-prompts": {
        "task": "limiter.tasks.tally_prompts",
        "schedule": 60.0,
        "options": {"expires": 50},
    },
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default="") or BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
# WhiteNoise serves the admin's static files from the app server itself, under daphne and gunicorn alike.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Content-Security-Policy on every page (django-csp): scripts only from this server's static files, or an
# inline <script nonce="{{ request.csp_nonce }}"> where one is unavoidable; no inline handlers, no eval.
# Inline style *attributes* stay allowed (the admin's own widgets and state colours use them; a style
# cannot run code); <style> elements and styles from elsewhere do not. docs/hardening.md.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'", NONCE],
        "style-src": ["'self'"],
        "style-src-attr": ["'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
    }
}

# The hook API rejects bodies over 64 KiB (contract §1).
DATA_UPLOAD_MAX_MEMORY_SIZE = 64 * 1024
# The embedded server (daphne) drops a request whose body has not arrived whole after this long.
REQUEST_BODY_TIMEOUT_SECONDS = env.float("REQUEST_BODY_TIMEOUT_SECONDS", default=10.0)

REST_FRAMEWORK = {
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [],
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": [],
    "UNAUTHENTICATED_USER": None,
    "EXCEPTION_HANDLER": "limiter.api.errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Claude Governor hook API",
    "DESCRIPTION": "The claude-code-limiter v1 compatible hook API, with Governor's additive extensions.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
}

# Install codes: how many /register attempts one client IP may make per window.
REGISTER_RATE_LIMIT = env.int("REGISTER_RATE_LIMIT", default=10)
REGISTER_RATE_WINDOW_SECONDS = env.int("REGISTER_RATE_WINDOW_SECONDS", default=60)

# Single sign-on and roles (monitoring app; docs/sso.md).
from config.sso_settings import *  # noqa: E402, F403

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.server": {"level": "WARNING"},
        # httpx logs every request's full URL at INFO: a Discord or Slack webhook URL is the secret itself.
        "httpx": {"level": "WARNING"},
    },
}


# --- accounts: watched Claude accounts (docs/accounts.md) ---------------------------------------------------
def _embedded_fernet_keys() -> list[str]:
    # Embedded mode keeps a generated credential key beside the SQLite file; production requires FERNET_KEYS.
    from cryptography.fernet import Fernet

    path = VAR_DIR / "fernet_key"
    if not path.exists():
        path.write_text(Fernet.generate_key().decode())
        path.chmod(0o600)
    return [path.read_text().strip()]


# Newest key first; older keys only decrypt until `manage.py rotate_keys` has re-encrypted everything.
FERNET_KEYS = env.list("FERNET_KEYS", default=[]) or _embedded_fernet_keys()
# Upstream base URLs are settings so a proxy or the test fake can stand in for them.
CLAUDE_AI_BASE_URL = env.str("CLAUDE_AI_BASE_URL", default="https://claude.ai").rstrip("/")
ANTHROPIC_API_BASE_URL = env.str("ANTHROPIC_API_BASE_URL", default="https://api.anthropic.com").rstrip("/")
CLAUDE_OAUTH_TOKEN_URLS = env.list(
    "CLAUDE_OAUTH_TOKEN_URLS",
    default=["https://platform.claude.com/v1/oauth/token", "https://api.anthropic.com/v1/oauth/token"],
)
CLAUDE_OAUTH_CLIENT_ID = env.str("CLAUDE_OAUTH_CLIENT_ID", default="9d1c250a-e61b-44d9-88ed-5944d1962f5e")
ACCOUNTS_HTTP_TIMEOUT_SECONDS = env.float("ACCOUNTS_HTTP_TIMEOUT_SECONDS", default=15.0)
# Beat runs a short tick; each account's due time (runtime poll interval in the admin) decides what polls.
ACCOUNTS_POLL_TICK_SECONDS = env.float("ACCOUNTS_POLL_TICK_SECONDS", default=15.0)
ACCOUNTS_POLL_CONCURRENCY = env.int("ACCOUNTS_POLL_CONCURRENCY", default=16)
ACCOUNTS_MIN_POLL_INTERVAL_SECONDS = env.int("ACCOUNTS_MIN_POLL_INTERVAL_SECONDS", default=60)
ACCOUNTS_BACKOFF_BASE_SECONDS = env.float("ACCOUNTS_BACKOFF_BASE_SECONDS", default=60.0)
# A freshly pasted credential can 401 briefly (contract §5): retry after these delays before "expired".
ACCOUNTS_FRESH_401_RETRY_DELAYS = [
    float(d) for d in env.list("ACCOUNTS_FRESH_401_RETRY_DELAYS", default=["1.5", "3", "4.5"])
]
# Lets tests (and side-by-side deployments on one Redis) keep their workers on their own queue.
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_QUEUE", default="celery")
# A short tick; each account's next_poll_at (from the runtime poll interval) decides what is due, so changing
# the interval in the admin needs no beat restart. `expires` drops ticks that a busy worker could not start.
CELERY_BEAT_SCHEDULE |= {
    "accounts-poll-due": {
        "task": "accounts.poll_due_accounts",
        "schedule": ACCOUNTS_POLL_TICK_SECONDS,
        "options": {"expires": ACCOUNTS_POLL_TICK_SECONDS},
    },
    # Snapshot retention (a runtime setting) is enforced here rather than on every poll.
    "accounts-prune-snapshots": {
        "task": "accounts.prune_snapshots",
        "schedule": 600.0,
        "options": {"expires": 600.0},
    },
}


# --- alerts: channel transports (docs/alerts.md follows with the app) -----------------------------------
# Alert targets that resolve to loopback, private, link-local or reserved addresses are refused (SSRF) unless
# one of these networks (CIDR) holds them: e.g. "10.0.0.0/8" for a homeserver or ntfy on the LAN. Empty in
# production; the tests list loopback for their fakes.
ALERTS_ALLOWED_PRIVATE_NETWORKS = env.list("ALERTS_ALLOWED_PRIVATE_NETWORKS", default=[])
ALERTS_PUSHOVER_URL = env.str("ALERTS_PUSHOVER_URL", default="https://api.pushover.net").rstrip("/")
ALERTS_NTFY_URL = env.str("ALERTS_NTFY_URL", default="https://ntfy.sh").rstrip("/")
# Evaluate alerts as soon as a poll commits (a Celery task); off, the beat tick still evaluates.
ALERTS_EVALUATE_AFTER_POLL = env.bool("ALERTS_EVALUATE_AFTER_POLL", default=True)
# The tick sends what quiet hours held back and what a dead worker left; a claim older than the lease is
# taken over (at-least-once). Both shorter only in tests.
ALERTS_TICK_SECONDS = env.float("ALERTS_TICK_SECONDS", default=30.0)
ALERTS_DELIVERY_LEASE_SECONDS = env.float("ALERTS_DELIVERY_LEASE_SECONDS", default=300.0)
# Picks up events whose transaction committed late, deferred (quiet hours) and retried deliveries.
CELERY_BEAT_SCHEDULE["alerts-tick"] = {
    "task": "alerts.tick",
    "schedule": ALERTS_TICK_SECONDS,
    "options": {"expires": ALERTS_TICK_SECONDS},
}
# The server-wide Matrix bot; a channel may bring its own homeserver and token instead.
MATRIX_HOMESERVER = env.str("MATRIX_HOMESERVER", default="").rstrip("/")
MATRIX_ACCESS_TOKEN = env.str("MATRIX_ACCESS_TOKEN", default="")
# Email alerts go through Django's SMTP backend.
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
EMAIL_USE_SSL = env.bool("EMAIL_USE_SSL", default=False)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=15)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="governor@localhost")
ALERTS_EMAIL_DOMAIN = env.str("ALERTS_EMAIL_DOMAIN", default="governor.invalid")
