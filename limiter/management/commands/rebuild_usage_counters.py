"""Recomputes the usage counters from the usage rows: after a bulk import, a restore, or to verify them."""

from django.core.management.base import BaseCommand, CommandParser

from ... import counters
from ...models import Team


class Command(BaseCommand):
    help = "Rebuild every team's per-day usage counters from its usage rows, in the team's time zone."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--stale-only", action="store_true", help="Only teams whose counters are out of date."
        )

    def handle(self, *args, stale_only: bool, **options) -> None:
        teams = counters.stale_teams() if stale_only else list(Team.objects.order_by("pk"))
        for team in teams:
            written = counters.rebuild(team)
            self.stdout.write(f"{team}: {written} counters in {team.timezone}")
