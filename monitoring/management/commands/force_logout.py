from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from ...sessions import sessions_end


class Command(BaseCommand):
    help = "End every session of the given users now (they must log in again, which re-reads their groups)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("usernames", nargs="+")

    def handle(self, *args, usernames: list[str], **options) -> None:
        users = get_user_model().objects.filter(username__in=usernames)
        missing = sorted(set(usernames) - {u.get_username() for u in users})
        if missing:
            raise CommandError(f"No such user: {', '.join(missing)}")
        ended = sessions_end(user_ids={u.pk for u in users})
        self.stdout.write(f"Ended {ended} session(s) of {', '.join(sorted(usernames))}.")
