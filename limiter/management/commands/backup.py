"""`manage.py backup FILE`: a consistent copy of the embedded SQLite database while Governor runs."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from config.sqlite_backup import BackupError, backup


class Command(BaseCommand):
    help = "Copy the embedded SQLite database to FILE with SQLite's online backup API (no downtime)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="A new file for the copy.")

    def handle(self, *args, file: Path, **options) -> None:
        try:
            size = backup(file)
        except BackupError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(self.style.SUCCESS(f"Backed up to {file} ({size} bytes)."))
        self.stdout.write(
            "Keep the keys with it, separately: credentials in it decrypt only with FERNET_KEYS "
            "(embedded mode: var/fernet_key)."
        )
