from celery import shared_task

from . import counters, services


@shared_task
def prune_events() -> int:
    """Drops events past each team's retention and expired credit holds."""
    return services.prune_old_events()


@shared_task
def rebuild_stale_counters() -> int:
    """Brings counters back into use after a zone change or an upgrade; until then checks read the rows."""
    stale = counters.stale_teams()
    for team in stale:
        counters.rebuild(team)
    return len(stale)
