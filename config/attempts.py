"""Counting failed attempts in the shared cache (Redis in production), and saying so when it is down.

Callers choose what an outage means: the hook API's /register falls back to a counter in this process, so
machines can still be installed while Redis is away (limiter/services.py); the break-glass password form
refuses with a clear page, because an unlimited password form is worse than a closed one
(monitoring/views.py).
"""

from django.core.cache import cache
from django.core.cache.backends.base import BaseCache
from django.core.cache.backends.locmem import LocMemCache


class StoreUnavailable(Exception):
    """The cache that holds the counters could not be reached."""


# Only used while the shared cache is down; per process, so its limits are per worker.
local_fallback = LocMemCache("governor-attempts-fallback", {"OPTIONS": {"MAX_ENTRIES": 10_000}})


def count(key: str, *, fallback: bool = False) -> int:
    try:
        return int(cache.get(key, 0))
    except Exception as exc:
        if fallback:
            return int(local_fallback.get(key, 0))
        raise StoreUnavailable(str(exc)) from exc


def _add(store: BaseCache, key: str, window: int) -> int:
    store.add(key, 0, timeout=window)
    try:
        return store.incr(key)
    except ValueError:  # expired between add and incr
        store.set(key, 1, timeout=window)
        return 1


def record(key: str, window: int, *, fallback: bool = False) -> int:
    """Adds one attempt to `key` (kept `window` seconds from the first) and returns how many there are."""
    try:
        return _add(cache, key, window)
    except Exception as exc:
        if fallback:
            return _add(local_fallback, key, window)
        raise StoreUnavailable(str(exc)) from exc
