"""`manage.py alerts channel-add|subscribe|test|silence`: alert provisioning from scripts."""

import json
import re
import sys
from argparse import RawDescriptionHelpFormatter
from datetime import time, timedelta
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from accounts.models import ClaudeAccount
from alerts import services, transports
from alerts.models import Channel, Delivery, Subscription

EXAMPLES = {
    "channel-add": 'echo \'{"url": "https://discord.com/api/webhooks/ID/TOKEN"}\' > discord.json\n'
    "  manage.py alerts channel-add --kind discord --name ops-discord --config-file discord.json\n"
    "  (the config holds secrets: it is read from a file or stdin (-), never from the command line)",
    "subscribe": "manage.py alerts subscribe --name team-max-hot --channel ops-discord \\\n"
    "      --account team-max \\\n"
    "      --thresholds session=80,95 --thresholds weekly=90 --cooldown 4h --send-resolved \\\n"
    "      --quiet 'mon-fri 22:00-07:00 Europe/Berlin'",
    "test": "manage.py alerts test ops-discord",
    "silence": "manage.py alerts silence --account team-max --for 3h --reason 'migrating the org'",
}
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)\s*([smhd])$")
_QUIET = re.compile(r"^(?P<days>\S+)\s+(?P<start>\d{1,2}:\d{2})-(?P<end>\d{1,2}:\d{2})(?:\s+(?P<tz>\S+))?$")


def duration(text: str) -> timedelta:
    match = _DURATION.match(text.strip().lower())
    if not match:
        raise CommandError(f"{text!r} is not a duration: use e.g. 90s, 30m, 4h or 2d.")
    value, unit = float(match.group(1)), match.group(2)
    return timedelta(seconds=value * {"s": 1, "m": 60, "h": 3600, "d": 86400}[unit])


def parse_thresholds(items: list[str]) -> dict[str, list[int]]:
    parsed: dict[str, list[int]] = {}
    for item in items:
        limit_type, _, values = item.partition("=")
        if not values:
            limit_type, values = "default", limit_type
        try:
            parsed[limit_type.strip()] = [int(v) for v in values.split(",")]
        except ValueError:
            raise CommandError(f"{item!r}: thresholds are LIMIT=PCT,PCT (e.g. session=80,95).") from None
    return parsed


def quiet(text: str) -> tuple[str, time, time, str]:
    match = _QUIET.match(text.strip())
    if not match:
        raise CommandError(
            f"{text!r}: quiet hours are 'DAYS HH:MM-HH:MM [ZONE]', e.g. 'mon-fri 22:00-07:00 UTC'."
        )
    start, end = (time.fromisoformat(match.group(k).zfill(5)) for k in ("start", "end"))
    return match.group("days"), start, end, match.group("tz") or "UTC"


def _one(model, field: str, value: str):
    try:
        return model.objects.get(**{field: value})
    except model.DoesNotExist:
        raise CommandError(f"No {model._meta.verbose_name} named {value!r}.") from None


def _refused(exc: ValidationError) -> CommandError:
    messages = [
        f"{k}: {'; '.join(v)}" if k != "__all__" else "; ".join(v) for k, v in exc.message_dict.items()
    ]
    return CommandError(" ".join(m.replace("config_blob: ", "config: ") for m in messages))


class Command(BaseCommand):
    help = (
        "Alert channels, subscriptions, tests and silences. `manage.py alerts SUBCOMMAND --help` shows an "
        "example."
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)

        def command(name: str, text: str):
            return sub.add_parser(
                name,
                help=text,
                description=text,
                epilog="Example:\n  " + EXAMPLES[name],
                formatter_class=RawDescriptionHelpFormatter,
            )

        add = command(
            "channel-add", "Add a channel; its config is checked (and its URL guarded) before saving."
        )
        add.add_argument("--kind", required=True, choices=list(transports.KINDS))
        add.add_argument("--name", required=True)
        add.add_argument("--config-file", required=True, help="JSON config file, or - for stdin.")
        subscribe = command("subscribe", "Subscribe channels to one account (or all) with thresholds.")
        subscribe.add_argument("--name", required=True)
        subscribe.add_argument("--channel", action="append", required=True, help="Channel name; repeatable.")
        subscribe.add_argument("--account", help="Account label; default: every account.")
        subscribe.add_argument(
            "--thresholds",
            action="append",
            default=[],
            help="LIMIT=PCT,PCT (session, weekly, weekly:opus, spend) or PCT,PCT for every limit; "
            "default: the alert settings (75,90,95).",
        )
        subscribe.add_argument("--cooldown", type=duration, help="Default 4h.")
        subscribe.add_argument("--repeat", type=duration, help="Remind while above, e.g. 2h.")
        subscribe.add_argument(
            "--hysteresis", type=float, help="Points below a threshold to re-arm; default 5."
        )
        subscribe.add_argument("--send-resolved", action="store_true")
        subscribe.add_argument("--window-reset", action="store_true", help="Also say when a window resets.")
        subscribe.add_argument("--no-credentials", action="store_true", help="No credential-health alerts.")
        subscribe.add_argument(
            "--credits", action="store_true", help="Also say when paid usage credits start this month."
        )
        subscribe.add_argument(
            "--seats", action="store_true", help="Also say when a seat is paused or killed."
        )
        subscribe.add_argument(
            "--seat-blocks",
            action="store_true",
            help="Also say when a seat is blocked: once per seat and window of the blocking rule.",
        )
        subscribe.add_argument(
            "--seat-credits",
            type=int,
            metavar="PCT",
            help="Also say when a seat reaches PCT%% of a credit budget (a multiple of 5), once per window.",
        )
        subscribe.add_argument(
            "--forecast", action="store_true", help="Also say when a window will run out before it resets."
        )
        subscribe.add_argument("--quiet", type=quiet, help="'DAYS HH:MM-HH:MM [ZONE]'.")
        test = command("test", "Send a test through a channel: one attempt; the exact error if it fails.")
        test.add_argument("name")
        silence = command("silence", "Mute an account, a subscription or a channel for a while.")
        silence.add_argument("--account")
        silence.add_argument("--subscription")
        silence.add_argument("--channel")
        silence.add_argument("--for", dest="span", type=duration, help="e.g. 3h")
        silence.add_argument("--until", help="ISO 8601 with a zone, e.g. 2026-12-01T08:00:00+01:00")
        silence.add_argument("--reason", required=True)

    def handle(self, *args, action, **options):
        try:
            return getattr(self, "_" + action.replace("-", "_"))(**options)
        except ValidationError as exc:
            raise _refused(exc) from None

    def _channel_add(self, *, kind, name, config_file, **_):
        try:
            text = sys.stdin.read() if config_file == "-" else Path(config_file).read_text()
        except OSError as exc:
            raise CommandError(f"Cannot read {config_file}: {exc.strerror}") from None
        try:
            config = json.loads(text)
        except ValueError as exc:
            raise CommandError(f"{config_file} is not JSON: {exc}") from None
        if not isinstance(config, dict):
            raise CommandError(f"{config_file} must hold a JSON object.")
        if Channel.objects.filter(name=name).exists():
            raise CommandError(f"A channel named {name!r} already exists.")
        channel = services.channel_create(kind=kind, name=name, config=config)
        shown = ", ".join(f"{k}={v}" for k, v in channel.masked_config().items())
        self.stdout.write(f"channel {channel.name} ({channel.kind}) added: {shown}")

    def _subscribe(self, *, name, channel, account, thresholds: list[str], **options):
        subscription = services.subscription_create(
            name=name,
            channels=[_one(Channel, "name", n) for n in channel],
            account=_one(ClaudeAccount, "label", account) if account else None,
            thresholds=parse_thresholds(thresholds),
            cooldown=options["cooldown"],
            repeat_interval=options["repeat"],
            hysteresis=options["hysteresis"],
            send_resolved=options["send_resolved"],
            notify_window_reset=options["window_reset"],
            notify_credentials=not options["no_credentials"],
            notify_forecast=options["forecast"],
            notify_seats=options["seats"],
            notify_seat_blocks=options["seat_blocks"],
            notify_seat_credits=options["seat_credits"],
            notify_credits=options["credits"],
            quiet=options["quiet"],
        )
        scope = subscription.account.label if subscription.account else "every account"
        self.stdout.write(f"subscription {subscription.name}: {scope} → {', '.join(channel)}")

    def _test(self, *, name, **_):
        result = services.send_test(_one(Channel, "name", name))
        if result.status != Delivery.Status.SENT:
            raise CommandError(f"{name}: {result.error}")
        self.stdout.write(
            f"{name}: test sent" + (f" (provider id {result.provider_id})" if result.provider_id else "")
        )

    def _silence(self, *, account, subscription, channel, span, until, reason, **_):
        if (span is None) == (until is None):
            raise CommandError("Give either --for or --until.")
        if until is not None:
            end = parse_datetime(until)
            if end is None or timezone.is_naive(end):
                raise CommandError(f"{until!r} is not an ISO 8601 time with a zone.")
        else:
            end = timezone.now() + span
        silence = services.silence_create(
            until=end,
            reason=reason,
            account=_one(ClaudeAccount, "label", account) if account else None,
            subscription=_one(Subscription, "name", subscription) if subscription else None,
            channel=_one(Channel, "name", channel) if channel else None,
        )
        self.stdout.write(f"silenced {silence.target()} until {silence.until.isoformat()}")
