"""`manage.py restore FILE`: put a backup made by `manage.py backup` back into the embedded database."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from config.sqlite_backup import BackupError, embedded_database, restore


class Command(BaseCommand):
    help = "Replace the embedded SQLite database's content with a backup. Stop Governor first."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="A file written by `manage.py backup`.")
        parser.add_argument("--yes", action="store_true", help="Do not ask for confirmation.")

    def handle(self, *args, file: Path, yes: bool, **options) -> None:
        try:
            live = embedded_database()
            if not yes and input(f"Replace everything in {live} with {file}? [y/N] ").strip().lower() != "y":
                raise CommandError("Nothing restored.")
            migrations = restore(file)
        except BackupError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(self.style.SUCCESS(f"Restored {file} into {live} ({migrations} migrations)."))
        self.stdout.write("From an older version? Run `manage.py migrate`. Then start Governor.")
