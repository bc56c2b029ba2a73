"""The admin's own pages: dashboard index, seat, account, trends, CSV, limit hits, navigation, time zone."""

import csv
import io
import re
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import ClaudeAccount, UsageSnapshot, WindowReading
from limiter import counters, services
from limiter.models import CreditHold, SessionEvent, Team, UsageEvent
from monitoring import eventlog, roles

pytestmark = pytest.mark.django_db


@pytest.fixture
def team_world(people):
    """Two seats with limits and usage, one watched account with a reading, a few logged events."""
    Team.objects.update_or_create(pk=1, defaults={"timezone": "Europe/Berlin"})
    now = timezone.now()
    ada = services.seat_create(slug="ada", name="Ada")
    bob = services.seat_create(slug="bob", name="Bob")
    services.rule_add(owner=ada, type="per_model", model="opus", window="daily", value=5)
    services.rule_add(owner=ada, type="credits", window="weekly", value=100)
    for minutes in (5, 15, 25):
        turn = UsageEvent.objects.create(
            seat=ada,
            family="opus",
            credit_cost=10,
            occurred_at=now - timedelta(minutes=minutes),
            received_at=now,
            input_tokens=100,
            output_tokens=50,
        )
        counters.add_turn(turn, Team.objects.get())  # what /count does in the same transaction
    SessionEvent.objects.create(seat=bob, kind=SessionEvent.PROMPT, session_id="s", created_at=now)
    SessionEvent.objects.create(
        seat=bob, kind=SessionEvent.BLOCKED, session_id="s", created_at=now, reason="Bob is paused"
    )
    services.seat_set_status(seat=bob, status="paused", by="root")
    account = ClaudeAccount.objects.create(label="team-max", source="cookie", credential="sk-ant-sid01-x")
    snapshot = UsageSnapshot.objects.create(account=account, taken_at=now, raw={})
    for limit_type, value in (("session", 48.0), ("weekly", 100.0)):
        WindowReading.objects.create(
            snapshot=snapshot,
            account=account,
            taken_at=now,
            limit_type=limit_type,
            label=limit_type,
            utilization=value,
            resets_at=now + timedelta(hours=2),
            window_hours=5 if limit_type == "session" else 168,
        )
    eventlog.record(
        eventlog.POLL_RESULT,
        account_id=account.pk,
        data={"label": "team-max", "outcome": "ok", "utilization": {"session": 48.0}},
    )
    return {"ada": ada, "bob": bob, "account": account}


def test_dashboard_is_the_admin_index_with_seats_gauges_and_feed(client_for, team_world):
    page = client_for(roles.READONLY).get("/admin/")
    html = page.content.decode()
    assert page.status_code == 200
    assert f'data-seat="{team_world["ada"].pk}"' in html and "opus · daily" in html
    assert 'data-role="used">3<' in html  # three opus turns today against a limit of five
    assert "status-paused" in html  # Bob
    assert 'data-limit-type="weekly"' in html and "at 100 %" in html
    assert "Bob: active → paused by root" in html and "team-max: poll ok: session 48%" in html
    assert re.search(r'data-cursor="e\d+\.s\d+\.u\d+"', html)


def test_a_seat_cards_fragment_is_the_dashboards_card_with_credits_left_net_of_open_holds(
    client_for, team_world
):
    ada = team_world["ada"]
    now = timezone.now()
    CreditHold.objects.create(
        seat=ada,
        session_id="running",
        family="opus",
        cost=10,
        created_at=now,
        expires_at=now + timedelta(hours=1),
    )
    client = client_for(roles.READONLY)
    card = client.get(f"/admin/seat/{ada.pk}/card/").content.decode()
    credits = re.search(r'data-role="credits">([^<]*)<', card)
    assert credits and credits.group(1) == "60 / 100"  # 30 counted and 10 held of a weekly 100
    assert f'data-role="credits">{credits.group(1)}<' in client.get("/admin/").content.decode()


def test_pages_carry_no_inline_script_or_event_handlers(client_for, team_world):
    client = client_for(roles.ADMIN)
    for url in (
        "/admin/",
        f"/admin/seat/{team_world['ada'].pk}/",
        f"/admin/account/{team_world['account'].pk}/",
        "/admin/trends/",
        "/admin/limit-hits/",
    ):
        html = client.get(url).content.decode()
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), url
        assert not re.search(r"\son[a-z]+\s*=", html), url


def test_navigation_lists_governor_pages_first_and_sign_in_internals_together(client_for, team_world):
    html = client_for(roles.ADMIN).get("/admin/limiter/seat/").content.decode()
    sections = re.findall(r"<caption>\s*<a[^>]*>([^<]+)</a>", html)
    assert sections[0] == "Governor" and sections[-1] == "Sign-in"
    nav = html[html.index('id="nav-sidebar"') :]
    order = [
        nav.index(name)
        for name in ("Dashboard", "Seats", "Claude accounts", "Trends", "Limit hits", "Team settings")
    ]
    assert order == sorted(order)
    sign_in = nav[nav.index("Sign-in") :]
    assert "Groups" in sign_in and "Email addresses" in sign_in and "Social accounts" in sign_in


def test_times_are_shown_in_the_team_zone_and_the_zone_is_named(client_for, team_world):
    html = client_for(roles.READONLY).get(f"/admin/seat/{team_world['bob'].pk}/").content.decode()
    assert "Times in Europe/Berlin" in html


def test_seat_page_shows_usage_chart_with_numbers_limits_blocks_and_trail(client_for, team_world):
    html = client_for(roles.READONLY).get(f"/admin/seat/{team_world['bob'].pk}/").content.decode()
    assert "<svg" in html and "Turns per day by model" in html and "<details" in html
    assert "Bob is paused" in html and "seat.status" in html


def test_account_page_shows_history_resets_and_polls(client_for, team_world):
    html = client_for(roles.READONLY).get(f"/admin/account/{team_world['account'].pk}/").content.decode()
    assert "Utilization per window" in html and "session 48.0%" in html
    assert "sk-ant-sid01-x" not in html


def test_usage_csv_has_one_row_per_seat_day_and_model(client_for, team_world):
    response = client_for(roles.READONLY).get("/admin/trends.csv")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][0] == "day (Europe/Berlin)"
    assert [r[1:5] for r in rows[1:]] == [["ada", "opus", "3", "30"]]


def test_trends_and_csv_refuse_bad_dates_with_a_json_error(client_for, team_world):
    client = client_for(roles.READONLY)
    for url in (
        "/admin/trends/?from=yesterday",
        "/admin/trends.csv?from=2026-02-01&to=2026-01-01",
        "/admin/trends/?seat=nobody",
        "/admin/limit-hits/?days=many",
    ):
        response = client.get(url)
        assert response.status_code == 400 and "error" in response.json(), url


def test_trends_show_block_rate_and_prompts_per_session(client_for, team_world):
    html = client_for(roles.READONLY).get("/admin/trends/").content.decode()
    assert "1 prompts in 1 sessions" in html and "1 blocked (100 %)" in html


def test_limit_hits_show_blocked_seats_and_full_windows(client_for, team_world):
    html = client_for(roles.READONLY).get("/admin/limit-hits/").content.decode()
    assert "Bob is paused" in html and "team-max · weekly" in html and "still full" in html


def test_people_without_a_role_cannot_open_the_pages(client_for, team_world):
    from monitoring.tests.conftest import REFUSED

    assert client_for(REFUSED).get("/admin/trends/").status_code in (302, 403)
