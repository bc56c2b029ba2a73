"""The hook API's own, shorter middleware stack.

`/api/v1/` sits in front of every prompt of every developer and is called by the hook client with a bearer
token, never by a browser holding a session: sessions, CSRF, authentication, allauth, messages, the admin's
time zone, CSP and whitenoise do nothing for it, yet were about a tenth of a /check's CPU (docs/perf.md).
Requests under API_PREFIX go to a second Django handler built from settings.MIDDLEWARE without the
BROWSER_ONLY middleware; all others to the full stack. Middleware added to the settings later applies to the
API too, unless it is listed here as browser-only. Every path under the prefix resolves inside
limiter/api/urls.py (it ends in a catch-all), so no page that needs the session or CSRF middleware is
reachable through the short stack.
"""

from django.conf import settings
from django.core.handlers.asgi import ASGIHandler
from django.core.handlers.wsgi import WSGIHandler

API_PREFIX = "/api/v1/"
# What the API keeps is the rest: the database deadline; HSTS, nosniff, the referrer and cross-origin-opener
# policies and the HTTPS redirect; the Host check against ALLOWED_HOSTS and Content-Length; X-Frame-Options.
BROWSER_ONLY = frozenset(
    {
        "csp.middleware.CSPMiddleware",  # a policy for HTML pages; API answers are JSON served with nosniff
        "whitenoise.middleware.WhiteNoiseMiddleware",  # static files live outside the prefix
        "django.contrib.sessions.middleware.SessionMiddleware",
        # The hook token travels in each request, never as a cookie a browser adds: nothing to forge.
        "django.middleware.csrf.CsrfViewMiddleware",
        "django.contrib.auth.middleware.AuthenticationMiddleware",
        "allauth.account.middleware.AccountMiddleware",
        "monitoring.middleware.IdentityProviderErrorMiddleware",
        "monitoring.middleware.TeamTimezoneMiddleware",
        "django.contrib.messages.middleware.MessageMiddleware",
    }
)


def api_middleware() -> list[str]:
    return [path for path in settings.MIDDLEWARE if path not in BROWSER_ONLY]


class _ApiMiddleware:
    def load_middleware(self, is_async: bool = False) -> None:
        # Django's loader reads settings.MIDDLEWARE and nothing else; pointing it at the API's list while it
        # runs keeps Django's own sync/async adaptation. Runs once, while the application is being built.
        full = settings.MIDDLEWARE
        settings.MIDDLEWARE = api_middleware()
        try:
            super().load_middleware(is_async)  # type: ignore[misc]
        finally:
            settings.MIDDLEWARE = full


class ApiWSGIHandler(_ApiMiddleware, WSGIHandler):
    pass


class ApiASGIHandler(_ApiMiddleware, ASGIHandler):
    pass


def is_api(path: str) -> bool:
    return path.startswith(API_PREFIX)


class SplitWSGI:
    """A WSGI application: the hook API through its short stack, everything else through the full one."""

    def __init__(self) -> None:
        self.site, self.api = WSGIHandler(), ApiWSGIHandler()

    def __call__(self, environ, start_response):
        handler = self.api if is_api(environ.get("PATH_INFO", "")) else self.site
        return handler(environ, start_response)


class SplitASGI:
    """The ASGI equivalent, for HTTP (the embedded server); WebSockets are routed in config/asgi.py."""

    def __init__(self) -> None:
        self.site, self.api = ASGIHandler(), ApiASGIHandler()

    async def __call__(self, scope, receive, send):
        handler = self.api if is_api(scope.get("path", "")) else self.site
        return await handler(scope, receive, send)
