import re

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from config.crypto import digest
from limiter import counters, services
from limiter.models import InstallCode, Rule, Seat, UsageEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    user = get_user_model().objects.create_superuser("root", password="pw-for-tests")
    client.force_login(user)
    return client


@pytest.fixture
def alice():
    seat = services.seat_create(slug="alice", name="Alice")
    services.rule_add(owner=seat, type="per_model", model="opus", window="daily", value=5)
    services.rule_add(owner=seat, type="credits", window="daily", value=100)
    return seat


def changelist_action(client, action: str, *seats: Seat):
    return client.post(
        reverse("admin:limiter_seat_changelist"),
        {"action": action, "_selected_action": [str(s.pk) for s in seats]},
        follow=True,
    )


def test_seat_list_shows_status_usage_today_and_credit_balance(admin_client, alice):
    now = timezone.now()
    for _ in range(2):
        turn = UsageEvent.objects.create(
            seat=alice, family="opus", credit_cost=10, occurred_at=now, received_at=now
        )
        counters.add_turn(turn, alice.team)  # what /count does in the same transaction
    page = admin_client.get(reverse("admin:limiter_seat_changelist")).content.decode()
    assert "Alice" in page
    assert "opus 2" in page
    assert "80 / 100" in page
    assert "Active" in page


def test_kill_then_reinstate_from_the_admin_changes_what_the_next_check_sees(admin_client, alice):
    response = changelist_action(admin_client, "kill", alice)
    assert "Killed 1 seat(s)." in response.content.decode()
    alice.refresh_from_db()
    assert alice.status == Seat.KILLED
    assert alice.status_changed_by == "root"

    response = changelist_action(admin_client, "resume", alice)
    assert "not in a state to be resumed" in response.content.decode()
    alice.refresh_from_db()
    assert alice.status == Seat.KILLED

    changelist_action(admin_client, "reinstate", alice)
    alice.refresh_from_db()
    assert alice.status == Seat.ACTIVE


def test_pause_and_resume_from_the_admin(admin_client, alice):
    changelist_action(admin_client, "pause", alice)
    alice.refresh_from_db()
    assert alice.status == Seat.PAUSED
    changelist_action(admin_client, "resume", alice)
    alice.refresh_from_db()
    assert alice.status == Seat.ACTIVE


def test_issuing_an_install_code_shows_it_once_with_the_install_command(admin_client, alice):
    response = changelist_action(admin_client, "issue_install_codes", alice)
    page = response.content.decode()
    code = re.search(r"CLM-alice-[a-z0-9]+", page).group(0)
    assert f"install.sh | sudo sh -s -- --code {code}" in page
    assert "no-store" in response["Cache-Control"]
    stored = InstallCode.objects.get(seat=alice)
    assert stored.code_hash == digest(code)
    assert code not in str(stored.__dict__)
    _, seat = services.register(code=code, ip="127.0.0.1")
    assert seat == alice


def test_invalid_rule_in_the_seat_form_shows_a_readable_error_and_saves_nothing(admin_client, alice):
    url = reverse("admin:limiter_seat_change", args=[alice.pk])
    form = {
        "team": alice.team_id,
        "name": "Alice",
        "slug": "alice",
        "email": "",
        "rules-TOTAL_FORMS": "1",
        "rules-INITIAL_FORMS": "0",
        "rules-0-position": "5",
        "rules-0-type": "per_model",
        "rules-0-model": "opus",
        "rules-0-window": "",
        "rules-0-value": "-7",
        "account_periods-TOTAL_FORMS": "0",
        "account_periods-INITIAL_FORMS": "0",
        "devices-TOTAL_FORMS": "0",
        "devices-INITIAL_FORMS": "0",
        "tokens-TOTAL_FORMS": "0",
        "tokens-INITIAL_FORMS": "0",
    }
    response = admin_client.post(url, form)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Choose a window." in page
    assert "-1 unlimited, 0 blocked" in page
    assert Rule.objects.filter(seat=alice).count() == 2


def test_seat_page_lists_recent_counted_turns(admin_client, alice):
    UsageEvent.objects.create(
        seat=alice,
        family="sonnet",
        model_raw="claude-sonnet-4-5",
        credit_cost=3,
        occurred_at=timezone.now(),
        received_at=timezone.now(),
    )
    page = admin_client.get(reverse("admin:limiter_seat_change", args=[alice.pk])).content.decode()
    assert "claude-sonnet-4-5" in page
