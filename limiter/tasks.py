from celery import shared_task
from django.utils import timezone

from . import counters, prompt_tally, services


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


@shared_task
def tally_prompts() -> int:
    """Keeps the trends page's prompt tallies a minute or two behind the session rows, within retention."""
    retention = services.team_current().event_retention_days
    return prompt_tally.catch_up(timezone.now(), retention_days=retention)
