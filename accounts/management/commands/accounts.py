"""`manage.py accounts add|list|poll`: provisioning and checks from scripts."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.timesince import timesince

from accounts import selectors, services
from accounts.credentials import CredentialError, decode_file
from accounts.models import (
    COOKIE_LIFETIME_RANGE,
    COOKIE_WARN_RANGE,
    RETENTION_MAX,
    AccountSettings,
    ClaudeAccount,
    Source,
    poll_interval_range,
)


class Command(BaseCommand):
    help = "Manage watched Claude accounts: add, list, poll, settings."

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
        ranges = sub.add_parser("settings", help="Show the polling settings, or change the ones given.")
        ranges.add_argument(
            "--poll-interval",
            type=int,
            dest="poll_interval_seconds",
            help=f"Seconds between polls of an account ({poll_interval_range()}).",
        )
        ranges.add_argument(
            "--retention",
            type=int,
            dest="snapshot_retention",
            help=f"Snapshots kept per account (1-{RETENTION_MAX}).",
        )
        ranges.add_argument(
            "--cookie-lifetime-days",
            type=int,
            dest="cookie_lifetime_days",
            help="Usual lifetime of a session cookie "
            f"({COOKIE_LIFETIME_RANGE[0]}-{COOKIE_LIFETIME_RANGE[1]} days).",
        )
        ranges.add_argument(
            "--cookie-warn-days",
            type=int,
            dest="cookie_expiry_warn_days",
            help=f"Warn this many days before it ends ({COOKIE_WARN_RANGE[0]}-{COOKIE_WARN_RANGE[1]}, "
            "shorter than the lifetime).",
        )
        poll = sub.add_parser("poll", help="Poll one account (by label) or every enabled account now.")
        poll.add_argument("label", nargs="?")

    def handle(self, *args, action, **options):
        return getattr(self, f"_{action}")(**options)

    def _add(self, *, label, source, credential_file, org, cookie_issued_at, no_poll, **_):
        try:
            credential = decode_file(credential_file.read_bytes())
        except OSError as exc:
            raise CommandError(f"Cannot read {credential_file}: {exc.strerror}") from None
        except CredentialError as exc:
            raise CommandError(f"{credential_file}: {exc}") from None
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
        if not no_poll and not self._report(services.account_poll(account_id=account.pk)):
            # Scripts must notice: the account is kept (fix its credential in the admin or re-add it).
            raise CommandError(f"{account.label} was added, but its first poll failed (see above).")

    def _settings(self, **options):
        fields = [
            "poll_interval_seconds",
            "snapshot_retention",
            "cookie_expiry_warn_days",
            "cookie_lifetime_days",
        ]
        current = AccountSettings.load()
        given = {f: options[f] for f in fields if options.get(f) is not None}
        if given:
            try:
                current = services.account_settings_update(
                    **{f: getattr(current, f) for f in fields} | given, by="manage.py accounts"
                )
            except services.AccountError as exc:
                raise CommandError(str(exc)) from None
        for f in fields:
            self.stdout.write(f"{f} = {getattr(current, f)}")

    def _list(self, **_):
        runtime, now = AccountSettings.load(), timezone.now()
        accounts = list(ClaudeAccount.objects.defer("credential"))
        if not accounts:
            self.stdout.write("no accounts")
            return
        self.stdout.write(f"{'LABEL':20} {'SOURCE':9} {'STATE':15} {'SINCE':17} {'LAST POLL':17} UTILIZATION")
        for account in accounts:
            readings = selectors.latest_readings(account)
            values = (
                ", ".join(
                    f"{r.label} {'unknown' if r.utilization is None else f'{r.utilization:g}%'}"
                    for r in readings
                )
                or "-"
            )
            fresh = selectors.freshness(account, readings[0].taken_at if readings else None, now, runtime)
            if fresh.taken_at:
                values += f" ({timesince(fresh.taken_at, now, depth=1)} ago)"
            line = (
                f"{account.label:20} {account.source:9} {account.state:15} {_when(account.state_since):17} "
                f"{_when(account.last_poll_at):17} {values}"
            )
            self.stdout.write(line)
            if fresh.stale:
                self.stdout.write(f"{'':20} stale: {fresh.stale_reason}; no forecast from these numbers")
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
