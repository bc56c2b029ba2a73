"""`manage.py accounts add|list|poll`: provisioning and checks from scripts."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from accounts import selectors, services
from accounts.models import AccountSettings, ClaudeAccount, Source


class Command(BaseCommand):
    help = "Manage watched Claude accounts: add, list, poll."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        add = sub.add_parser("add", help="Add an account and poll it once.")
        add.add_argument("--label", required=True)
        add.add_argument("--source", required=True, choices=Source.values)
        add.add_argument(
            "--credential-file",
            required=True,
            type=Path,
            help="File holding the cookie value, Claude Code .credentials.json, or the Admin key.",
        )
        add.add_argument(
            "--org", default="", help="Organisation UUID (cookie source; default: the chat org)."
        )
        add.add_argument("--cookie-issued-at", default="", help="ISO 8601; default: now.")
        add.add_argument("--no-poll", action="store_true", help="Do not poll right away.")
        sub.add_parser("list", help="State, last poll and latest utilization of every account.")
        poll = sub.add_parser("poll", help="Poll one account (by label) or every enabled account now.")
        poll.add_argument("label", nargs="?")

    def handle(self, *args, action, **options):
        return getattr(self, f"_{action}")(**options)

    def _add(self, *, label, source, credential_file, org, cookie_issued_at, no_poll, **_):
        try:
            credential = credential_file.read_text()
        except OSError as exc:
            raise CommandError(f"Cannot read {credential_file}: {exc.strerror}") from None
        issued = None
        if cookie_issued_at:
            issued = parse_datetime(cookie_issued_at)
            if issued is None or timezone.is_naive(issued):
                raise CommandError(
                    "--cookie-issued-at must be an ISO 8601 time with a zone, e.g. 2026-03-01T09:00Z."
                )
        try:
            account = services.account_create(
                label=label, source=source, credential=credential, org_uuid=org, cookie_issued_at=issued
            )
        except services.AccountError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"added {account.label} ({account.source})")
        if not no_poll:
            self._report(services.account_poll(account_id=account.pk))

    def _list(self, **_):
        runtime, now = AccountSettings.load(), timezone.now()
        accounts = list(ClaudeAccount.objects.defer("credential"))
        if not accounts:
            self.stdout.write("no accounts")
            return
        self.stdout.write(f"{'LABEL':20} {'SOURCE':9} {'STATE':15} {'SINCE':17} {'LAST POLL':17} UTILIZATION")
        for account in accounts:
            values = (
                ", ".join(
                    f"{r.label} {'unknown' if r.utilization is None else f'{r.utilization:g}%'}"
                    for r in selectors.latest_readings(account)
                )
                or "-"
            )
            line = (
                f"{account.label:20} {account.source:9} {account.state:15} {_when(account.state_since):17} "
                f"{_when(account.last_poll_at):17} {values}"
            )
            self.stdout.write(line)
            if account.last_error:
                self.stdout.write(f"{'':20} error: {account.last_error}")
            if warning := selectors.cookie_warning(account, runtime, now):
                self.stdout.write(f"{'':20} warning: {warning}")

    def _poll(self, *, label, **_):
        accounts = ClaudeAccount.objects.filter(enabled=True)
        if label:
            accounts = ClaudeAccount.objects.filter(label=label)
            if not accounts:
                raise CommandError(f"No account labelled {label!r}.")
        failed = 0
        for pk in accounts.values_list("pk", flat=True):
            failed += self._report(services.account_poll(account_id=pk)) is False
        if failed:
            raise CommandError(f"{failed} poll(s) failed")

    def _report(self, result) -> bool:
        account = ClaudeAccount.objects.defer("credential").get(pk=result.account_id)
        if result.outcome == "busy":
            self.stdout.write(f"{account.label}: another worker is polling it right now")
            return True
        detail = f": {result.error}" if result.error else ""
        self.stdout.write(f"{account.label}: {result.outcome}{detail}")
        return result.outcome == "ok"


def _when(value) -> str:
    return f"{timezone.localtime(value):%Y-%m-%d %H:%M}" if value else "-"
