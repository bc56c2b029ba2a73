"""Provision seats from scripts: `seats create alice --name Alice --rule per_model:opus:daily:5`."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone

from ... import selectors, services
from ...errors import LimiterError
from ...models import Seat
from ...rule_syntax import SYNTAX_HELP, RuleSyntaxError, parse_rule

STATUS_VERBS = {"kill": Seat.KILLED, "pause": Seat.PAUSED, "resume": Seat.ACTIVE, "reinstate": Seat.ACTIVE}


class Command(BaseCommand):
    help = "Create, list, pause, resume, kill and reinstate seats, and issue install codes."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="Create a seat and print its first install code.")
        create.add_argument("slug")
        create.add_argument("--name", help="Display name (defaults to the slug).")
        create.add_argument("--email", default="", help="Links the seat to a single sign-on user.")
        create.add_argument("--rule", action="append", default=[], help=SYNTAX_HELP)
        sub.add_parser("list", help="Seats with status, today's usage and credits.")
        for verb in STATUS_VERBS:
            sub.add_parser(verb, help=f"{verb.capitalize()} a seat.").add_argument("slug")
        sub.add_parser("code", help="Issue a new install code for a seat.").add_argument("slug")

    def handle(self, *args, action: str, **options) -> None:
        try:
            if action == "create":
                self._create(**options)
            elif action == "list":
                self._list()
            elif action == "code":
                self._print_code(self._seat(options["slug"]))
            else:
                self._set_status(self._seat(options["slug"]), STATUS_VERBS[action], action)
        except (LimiterError, RuleSyntaxError) as exc:
            raise CommandError(str(exc)) from exc
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc

    @staticmethod
    def _seat(slug: str) -> Seat:
        seat = Seat.objects.select_related("team").filter(slug=slug).first()
        if seat is None:
            raise CommandError(f"No seat with the slug {slug!r}. `seats list` shows them.")
        return seat

    def _create(self, *, slug: str, name: str | None, email: str, rule: list[str], **_) -> None:
        rules = [parse_rule(text) for text in rule]  # all parsed before anything is written
        with transaction.atomic():
            seat = services.seat_create(slug=slug, name=name or slug, email=email)
            for fields in rules:
                services.rule_add(owner=seat, by="manage.py seats", **fields)
        self.stdout.write(f"Created seat {seat.slug} ({seat.name}) with {len(rules)} rule(s).")
        self._print_code(seat)

    def _print_code(self, seat: Seat) -> None:
        code = services.install_code_issue(seat=seat, by="manage.py seats")
        self.stdout.write(f"Install code (shown once, valid {seat.team.install_code_ttl_hours} h): {code}")

    def _set_status(self, seat: Seat, status: str, verb: str) -> None:
        expected = {"resume": Seat.PAUSED, "reinstate": Seat.KILLED}.get(verb)
        if expected and seat.status != expected:
            raise CommandError(f"{seat.slug} is {seat.status}, not {expected}; nothing to {verb}.")
        if services.seat_set_status(seat=seat, status=status, by="manage.py seats"):
            self.stdout.write(f"{seat.slug} is now {status}.")
        else:
            self.stdout.write(f"{seat.slug} was already {status}.")

    def _list(self) -> None:
        seats = list(Seat.objects.select_related("team"))
        if not seats:
            self.stdout.write("No seats yet. Create one with `seats create SLUG --name NAME`.")
            return
        overviews = selectors.seats_overview(seats, now=timezone.now())
        self.stdout.write(f"{'SLUG':<20} {'STATUS':<8} {'TODAY':<30} {'CREDITS':<12} LAST SEEN")
        for seat in seats:
            view = overviews[seat.pk]
            today = ", ".join(f"{f} {n}" for f, n in sorted(view.today.items())) or "-"
            credits = "-" if view.credit_budget is None else f"{view.credit_balance}/{view.credit_budget}"
            seen = f"{seat.last_seen_at:%Y-%m-%d %H:%M}" if seat.last_seen_at else "never"
            self.stdout.write(f"{seat.slug:<20} {seat.status:<8} {today:<30} {credits:<12} {seen}")
