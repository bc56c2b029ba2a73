"""Numbers carry their age; after a failed poll or a few missed intervals they are stale and not forecast."""

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.urls import reverse

from accounts.models import State, UsageSnapshot, WindowReading
from accounts.selectors import account_usage, fleet_overview, most_headroom
from tests.fakes.claude_api import EXPIRED, legacy_usage

from .helpers import cookie_account, poll

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def staff_client(client):
    client.force_login(get_user_model().objects.create_superuser("root", "root@example.com", "pw"))
    return client


def _age(account, by: timedelta) -> None:
    """Pretend the latest numbers were read `by` earlier."""
    for model in (UsageSnapshot, WindowReading):
        for row in model.objects.filter(account=account):
            model.objects.filter(pk=row.pk).update(taken_at=row.taken_at - by)


def _far_behind_pace(now):
    # 33 % of a 5-hour window with 30 minutes left: "far behind", lasts to reset.
    return legacy_usage(
        33.0, 22.0, five_resets=now + timedelta(minutes=30), week_resets=now + timedelta(hours=24)
    )


def test_numbers_after_a_failed_poll_are_stale_and_get_no_forecast(fake, staff_client, capsys):
    now = datetime.now(UTC)
    account, key = cookie_account(fake, _far_behind_pace(now), label="team-max")
    account = poll(account)
    fresh = account_usage(account, datetime.now(UTC))
    assert not fresh.freshness.stale
    assert {f.limit_type: f.pace.stage for f in fresh.forecasts if f.pace}["session"] == "far behind"

    fake.script(key, EXPIRED)
    account = poll(account)
    assert account.state == State.EXPIRED
    usage = account_usage(account, datetime.now(UTC))
    assert usage.freshness.stale and "credential expired" in usage.freshness.stale_reason
    session = {f.limit_type: f for f in usage.forecasts}["session"]
    assert session.utilization == 33.0  # last-good numbers are kept...
    assert session.pace is None and session.eta_full is None and session.will_last is None  # ...not forecast
    assert "failed" in session.withheld

    page = staff_client.get(f"/admin/accounts/claudeaccount/{account.pk}/change/").content.decode()
    assert "stale" in page and "not forecast: numbers are stale" in page and "far behind" not in page
    listing = staff_client.get("/admin/accounts/claudeaccount/").content.decode()
    assert "5-hour 33%" in listing and "stale" in listing
    call_command("accounts", "list")
    out = capsys.readouterr().out
    assert "5-hour 33%" in out and "ago)" in out and "stale: the last poll failed" in out


def test_dashboard_and_account_page_mark_stale_numbers_and_withhold_their_forecast(fake, staff_client):
    now = datetime.now(UTC)
    account, key = cookie_account(fake, _far_behind_pace(now), label="team-max")
    account = poll(account)
    pages = ("/admin/", reverse("admin:account-page", args=[account.pk]))
    for url in pages:
        page = staff_client.get(url).content.decode()
        assert "lasts to reset" in page and "stale:" not in page, url

    fake.script(key, EXPIRED)
    poll(account)
    for url in pages:
        page = staff_client.get(url).content.decode()
        assert ">33.0<" in page or "33.0%" in page, url  # the last-good numbers stay on the card...
        assert "stale: the last poll failed (credential expired or revoked)" in page, url
        assert "lasts to reset" not in page, url  # ...but not forecast
        assert "not forecast: numbers are stale" in page, url


def test_numbers_older_than_three_poll_intervals_are_stale_even_while_the_state_is_ok(fake, staff_client):
    account = poll(cookie_account(fake, legacy_usage(40.0, 50.0))[0])  # default interval: 300 s
    _age(account, timedelta(minutes=10))
    usage = account_usage(account, datetime.now(UTC))
    assert not usage.freshness.stale and timedelta(minutes=10) <= usage.freshness.age < timedelta(minutes=11)
    page = staff_client.get(f"/admin/accounts/claudeaccount/{account.pk}/change/").content.decode()
    assert "10\xa0minutes ago" in page and "stale" not in page

    _age(account, timedelta(minutes=6))
    usage = account_usage(account, datetime.now(UTC))
    assert usage.freshness.stale and "3 poll intervals" in usage.freshness.stale_reason
    assert all(f.pace is None and f.withheld for f in usage.forecasts)


def test_fleet_view_puts_stale_numbers_after_fresh_ones_and_never_recommends_them(fake):
    stale = poll(cookie_account(fake, legacy_usage(5.0, 5.0), label="stale")[0])
    fresh = poll(cookie_account(fake, legacy_usage(60.0, 40.0), label="fresh")[0])
    _age(stale, timedelta(hours=2))
    rows = {h.label: h for h in fleet_overview()}
    assert rows["stale"].stale and rows["stale"].taken_at is not None and rows["stale"].headroom == 95.0
    assert not rows["fresh"].stale
    assert [h.label for h in fleet_overview()] == ["fresh", "stale"]
    assert most_headroom().account_id == fresh.pk
