"""What a test run may clear: only the keys it wrote, under the key prefix of its own (config/test_settings).

`cache.clear()` is FLUSHDB on Redis: it would wipe every other run, deployment or helper sharing that Redis
database. These helpers delete by prefix instead; without Redis the cache is in-process, so clearing is safe.
"""

from django.conf import settings
from django.core.cache import cache


def _redis():
    import redis

    return redis.Redis.from_url(settings.REDIS_URL)


def _delete_matching(pattern: str) -> int:
    client = _redis()
    deleted = 0
    batch: list[bytes] = []
    for key in client.scan_iter(match=pattern, count=500):
        batch.append(key)
        if len(batch) >= 500:
            deleted += client.delete(*batch)
            batch.clear()
    if batch:
        deleted += client.delete(*batch)
    return deleted


def clear_own_cache() -> None:
    """Empties this run's cache (rate-limit and failed-login counters) and nothing else."""
    if not settings.REDIS_URL:
        cache.clear()  # the in-process cache belongs to this process alone
        return
    _delete_matching(f"{cache.key_prefix}:*")


def delete_own_redis_keys() -> int:
    """Everything this run (and the processes it started) wrote to Redis: cache, channel layer, Celery."""
    if not settings.REDIS_URL:
        return 0
    if not settings.REDIS_KEY_PREFIX.startswith("test-"):
        raise RuntimeError(f"Not a test key prefix, refusing to delete: {settings.REDIS_KEY_PREFIX!r}")
    return _delete_matching(f"{settings.REDIS_KEY_PREFIX}*")
