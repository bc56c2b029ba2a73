from datetime import UTC, datetime, timedelta

import pytest

from accounts.models import AccountSettings, ClaudeAccount, State
from accounts.selectors import account_forecasts, cookie_warning, fleet_overview, most_headroom, soonest_reset
from accounts.services import AccountError, account_settings_update, accounts_poll_due
from tests.fakes.claude_api import Reply, legacy_usage

from .helpers import cookie_account, poll

pytestmark = pytest.mark.django_db(transaction=True)


def test_one_slow_account_does_not_hold_up_the_others(fake):
    slow, _ = cookie_account(fake, Reply(200, legacy_usage(), delay=0.6), label="slow")
    fast = [cookie_account(fake, legacy_usage(), label=f"fast{i}")[0] for i in range(4)]
    results = accounts_poll_due()
    assert sorted(r.outcome for r in results) == ["ok"] * 5
    slow.refresh_from_db()
    for account in fast:
        account.refresh_from_db()
        assert account.last_success_at < slow.last_success_at


def test_only_due_accounts_are_polled(fake):
    due, _ = cookie_account(fake, legacy_usage(), label="due")
    later, later_key = cookie_account(fake, legacy_usage(), label="later")
    ClaudeAccount.objects.filter(pk=later.pk).update(next_poll_at=datetime.now(UTC) + timedelta(minutes=5))
    paused, paused_key = cookie_account(fake, legacy_usage(), label="paused")
    ClaudeAccount.objects.filter(pk=paused.pk).update(next_poll_at=None)
    assert [r.account_id for r in accounts_poll_due()] == [due.pk]
    assert fake.usage_calls(later_key) == 0 and fake.usage_calls(paused_key) == 0


def test_next_poll_follows_the_runtime_interval(fake):
    AccountSettings.objects.update_or_create(pk=1, defaults={"poll_interval_seconds": 600})
    account, _ = cookie_account(fake, legacy_usage())
    due = account.next_poll_at
    account = poll(account)
    assert account.next_poll_at - due == timedelta(seconds=600)


def test_changing_the_interval_reschedules_healthy_accounts(fake):
    account = poll(cookie_account(fake, legacy_usage())[0])
    scheduled = account.next_poll_at
    account_settings_update(
        poll_interval_seconds=120, snapshot_retention=2016, cookie_expiry_warn_days=7, cookie_lifetime_days=28
    )
    account.refresh_from_db()
    assert scheduled - account.next_poll_at == timedelta(seconds=300 - 120)


def test_interval_below_the_minimum_is_refused(settings):
    settings.ACCOUNTS_MIN_POLL_INTERVAL_SECONDS = 60
    with pytest.raises(AccountError, match="between 60 and"):
        account_settings_update(
            poll_interval_seconds=10,
            snapshot_retention=10,
            cookie_expiry_warn_days=7,
            cookie_lifetime_days=28,
        )


def test_cookie_warning_starts_before_the_usual_lifetime_ends(fake):
    now = datetime.now(UTC)
    runtime = AccountSettings.load()
    account, _ = cookie_account(fake, legacy_usage(), cookie_issued_at=now - timedelta(days=20))
    assert cookie_warning(account, runtime, now) == ""
    account.cookie_issued_at = now - timedelta(days=22)
    assert "expires in 6.0 days" in cookie_warning(account, runtime, now)
    account.cookie_issued_at = now - timedelta(days=30)
    assert "past its usual 28-day lifetime" in cookie_warning(account, runtime, now)


def test_fleet_view_ranks_headroom_and_finds_the_soonest_reset(fake):
    now = datetime.now(UTC)
    busy = poll(
        cookie_account(fake, legacy_usage(90.0, 50.0, five_resets=now + timedelta(minutes=30)), label="busy")[
            0
        ]
    )
    idle = poll(
        cookie_account(fake, legacy_usage(10.0, 30.0, five_resets=now + timedelta(hours=4)), label="idle")[0]
    )
    unknown = poll(cookie_account(fake, legacy_usage(140, 150), label="unknown")[0])
    rows = fleet_overview()
    assert [r.label for r in rows] == ["idle", "busy", "unknown"]
    assert rows[0].headroom == 70.0 and rows[1].headroom == 10.0 and rows[2].headroom is None
    assert most_headroom().account_id == idle.pk
    assert soonest_reset(now).account_id == busy.pk
    assert unknown.state == State.OK


def test_forecasts_for_each_window_of_the_latest_snapshot(fake):
    now = datetime.now(UTC)
    account = poll(
        cookie_account(
            fake,
            legacy_usage(
                50.0, 80.0, five_resets=now + timedelta(hours=2.5), week_resets=now + timedelta(hours=84)
            ),
        )[0]
    )
    by_type = {f.limit_type: f for f in account_forecasts(account, now)}
    assert by_type["weekly"].pace.stage == "far ahead" and by_type["weekly"].will_last is False
    assert by_type["session"].pace.stage == "on track"


def test_an_undecryptable_credential_only_stops_its_own_account(fake, settings):
    from cryptography.fernet import Fernet

    settings.FERNET_KEYS = [Fernet.generate_key().decode()]
    lost, _ = cookie_account(fake, legacy_usage(), label="lost")
    settings.FERNET_KEYS = [Fernet.generate_key().decode()]  # the first key was dropped without rotating
    kept, _ = cookie_account(fake, legacy_usage(), label="kept")
    outcomes = {r.account_id: r.outcome for r in accounts_poll_due()}
    assert outcomes == {lost.pk: State.INVALID, kept.pk: State.OK}
    assert ClaudeAccount.objects.defer("credential").get(pk=lost.pk).next_poll_at is None
