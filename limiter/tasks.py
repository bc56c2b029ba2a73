from celery import shared_task

from . import services


@shared_task
def prune_events() -> int:
    """Drops events past each team's retention and expired credit holds."""
    return services.prune_old_events()
