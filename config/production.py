"""Production settings: the embedded defaults plus hard refusals of what is unsafe on a network."""

from django.core.exceptions import ImproperlyConfigured

from .settings import *  # noqa: F403
from .settings import DEBUG, env

_secret = env.str("SECRET_KEY", default="")
if not _secret or len(_secret) < 50 or len(set(_secret)) < 5 or _secret.startswith("django-insecure"):
    raise ImproperlyConfigured(
        "SECRET_KEY must be set to a random value of at least 50 characters in production "
        '(python -c "import secrets; print(secrets.token_urlsafe(50))").'
    )
if DEBUG:
    raise ImproperlyConfigured("DEBUG must be off in production.")
SECRET_KEY = _secret
# Container health checks call /health on the loopback address.
ALLOWED_HOSTS = [*ALLOWED_HOSTS, "127.0.0.1", "localhost"]  # noqa: F405

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
# Health checks come from inside the compose network over plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^health$", r"^api/v1/health$"]
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]

# accounts: credentials at rest must not depend on a key file generated next to the data it protects.
if not env.list("FERNET_KEYS", default=[]):
    raise ImproperlyConfigured(
        "FERNET_KEYS must be set in production: comma-separated Fernet keys, newest first "
        '(python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())").'
    )
