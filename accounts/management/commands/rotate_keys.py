from django.core.management.base import BaseCommand, CommandError

from accounts.services import credentials_rotate
from config.crypto import DecryptionError


class Command(BaseCommand):
    help = (
        "Re-encrypt every stored secret with the newest key in FERNET_KEYS. Put the new key first, run this, "
        "then remove the old key."
    )

    def handle(self, *args, **options):
        try:
            written = credentials_rotate()
        except DecryptionError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"re-encrypted {written} secret row(s) with the newest key")
