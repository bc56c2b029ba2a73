"""The account page names the seats that used the account most, counting only while it was their account."""

import re
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts.models import ClaudeAccount
from limiter import counters, services
from limiter.models import SeatAccount, Team, UsageEvent
from monitoring import roles

pytestmark = pytest.mark.django_db


def _turns(seat, *, days_ago: int, count: int, tokens: int = 100) -> None:
    at = timezone.now() - timedelta(days=days_ago)
    for _ in range(count):
        turn = UsageEvent.objects.create(
            seat=seat,
            family="opus",
            credit_cost=10,
            occurred_at=at,
            received_at=at,
            input_tokens=tokens,
            output_tokens=tokens // 2,
        )
        counters.add_turn(turn, Team.objects.get())  # what /count does in the same transaction


@pytest.fixture
def shared(people):
    Team.objects.update_or_create(pk=1, defaults={"timezone": "UTC"})
    team_max = ClaudeAccount.objects.create(label="team-max", source="cookie", credential="sk-ant-sid01-a")
    other = ClaudeAccount.objects.create(label="other-max", source="cookie", credential="sk-ant-sid01-b")
    ada = services.seat_create(slug="ada", name="Ada")
    bob = services.seat_create(slug="bob", name="Bob")
    today = timezone.localdate()
    SeatAccount.objects.create(seat=ada, account_id=team_max.pk, since=today - timedelta(days=30))
    # Bob moved from team-max to the other account two days ago.
    SeatAccount.objects.create(
        seat=bob, account_id=team_max.pk, since=today - timedelta(days=30), until=today - timedelta(days=2)
    )
    SeatAccount.objects.create(seat=bob, account_id=other.pk, since=today - timedelta(days=2))
    _turns(ada, days_ago=0, count=2)
    _turns(bob, days_ago=4, count=3, tokens=1000)  # on team-max
    _turns(bob, days_ago=0, count=5)  # on the other account
    _turns(ada, days_ago=10, count=9)  # before the page's seven days
    return {"team_max": team_max, "other": other}


def _top_seats(html: str) -> list[tuple[str, list[int]]]:
    table = html[html.index("Seats that used it most") : html.index("Poll history")]
    rows = re.findall(r"<tr><td><a [^>]*>([^<]+)</a></td>((?:<td>\d+</td>)+)</tr>", table)
    return [(name, [int(n) for n in re.findall(r"\d+", cells)]) for name, cells in rows]


def test_the_account_page_ranks_seats_by_turns_counted_while_it_was_their_account(client_for, shared):
    html = client_for(roles.READONLY).get(f"/admin/account/{shared['team_max'].pk}/").content.decode()

    # turns, credits, input, output, cache tokens; Ada's nine turns ten days ago are outside the week.
    assert _top_seats(html) == [("Bob", [3, 30, 3000, 1500, 0]), ("Ada", [2, 20, 200, 100, 0])]


def test_the_other_account_counts_only_the_days_since_the_seat_moved(client_for, shared):
    html = client_for(roles.READONLY).get(f"/admin/account/{shared['other'].pk}/").content.decode()

    assert _top_seats(html) == [("Bob", [5, 50, 500, 250, 0])]


def test_a_seat_cannot_be_on_two_accounts_at_once(shared):
    bob = SeatAccount.objects.filter(until__isnull=True, seat__slug="bob").get()
    overlapping = SeatAccount(
        seat=bob.seat, account_id=shared["team_max"].pk, since=timezone.localdate() - timedelta(days=1)
    )

    with pytest.raises(ValidationError):
        overlapping.full_clean()


def test_an_admin_puts_a_seat_on_an_account_from_the_seat_form(client_for, shared):
    carol = services.seat_create(slug="carol", name="Carol")
    since = timezone.localdate() - timedelta(days=1)
    form = {
        "team": carol.team_id,
        "name": "Carol",
        "slug": "carol",
        "email": "",
        "rules-TOTAL_FORMS": "0",
        "rules-INITIAL_FORMS": "0",
        "account_periods-TOTAL_FORMS": "1",
        "account_periods-INITIAL_FORMS": "0",
        "account_periods-0-account_id": str(shared["team_max"].pk),
        "account_periods-0-since": since.isoformat(),
        "account_periods-0-until": "",
        "devices-TOTAL_FORMS": "0",
        "devices-INITIAL_FORMS": "0",
        "tokens-TOTAL_FORMS": "0",
        "tokens-INITIAL_FORMS": "0",
    }

    response = client_for(roles.ADMIN).post(f"/admin/limiter/seat/{carol.pk}/change/", form)

    assert response.status_code == 302
    assert list(SeatAccount.objects.filter(seat=carol).values_list("account_id", "since", "until")) == [
        (shared["team_max"].pk, since, None)
    ]
