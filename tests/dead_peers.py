"""Loopback ports where a server should be and is not (refused), or does not answer (accepted, silent)."""

import socket
from contextlib import contextmanager


def refused_port() -> int:
    """A port nothing listens on: connections are refused at once, like a Redis that is down."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def silent_port():
    """A port that accepts connections (the kernel's backlog) and never answers, like a hung server."""
    listener = socket.create_server(("127.0.0.1", 0), backlog=64)
    try:
        yield listener.getsockname()[1]
    finally:
        listener.close()


def redis_cache_at(port: int) -> dict:
    from django.conf import settings as django_settings

    options = {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}
    if "redis" in django_settings.CACHES["default"]["BACKEND"]:
        options = django_settings.CACHES["default"].get("OPTIONS", options)
    return {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{port}/0",
            "OPTIONS": options,
        }
    }
