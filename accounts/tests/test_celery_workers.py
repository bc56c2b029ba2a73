"""Real Celery worker and beat processes poll against the loopback fake (Redis broker with REDIS_URL)."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model

from accounts import selectors
from accounts.credentials import load_oauth
from accounts.models import AccountSettings, ClaudeAccount, State
from tests.fakes.claude_api import EXPIRED, Reply, legacy_usage, limits_usage

from .celery_procs import CeleryProcesses, wait_for
from .helpers import cookie_account, oauth_account

pytestmark = pytest.mark.django_db(transaction=True)

# Worker and beat start-up (Django + Celery imports) took over 60 s on a shared 2-core machine at load average
# 30; the waits end as soon as the condition holds, so a generous bound costs nothing when the box is idle.
STARTUP = 180


@pytest.fixture
def celery(fake, tmp_path):
    procs = CeleryProcesses(fake.url, tmp_path)
    yield procs
    procs.stop()


def _polls(account) -> int:
    return account.snapshots.count()


def test_worker_and_beat_poll_accounts_and_record_states(fake, celery):
    AccountSettings.objects.update_or_create(pk=1, defaults={"poll_interval_seconds": 3600})
    good, _ = cookie_account(fake, legacy_usage(25.0, 35.0), label="good")
    modern, _ = cookie_account(fake, limits_usage(session=61, weekly=22, scoped=90), label="modern")
    dead, _ = cookie_account(fake, EXPIRED, label="dead")
    token = oauth_account(fake, "token", legacy_usage(9.0, 19.0), expires_in=timedelta(0))
    celery.worker("w1")
    celery.beat()
    settled = wait_for(lambda: not ClaudeAccount.objects.filter(state=State.NEW).exists(), timeout=STARTUP)
    assert settled, celery.log("w1")[-3000:]
    states = dict(ClaudeAccount.objects.values_list("label", "state"))
    assert states == {"good": "ok", "modern": "ok", "dead": "expired", "token": "ok"}
    assert {r.limit_type: r.utilization for r in selectors.latest_readings(modern)}["weekly:fable"] == 90
    assert {r.limit_type: r.utilization for r in selectors.latest_readings(good)}["session"] == 25.0
    token.refresh_from_db()
    assert load_oauth(token.credential).expires_at is not None and fake.token_calls == 1
    # Interval is an hour: later ticks leave the healthy accounts alone.
    polled = _polls(good)
    wait_for(lambda: False, timeout=2)
    assert _polls(good) == polled == 1
    assert dead.snapshots.count() == 0
    # Domain events were emitted in the worker after commit.
    log = celery.log("w1")
    expired = f"CredentialStateChanged(account_id={dead.pk}, label='dead', previous='new', current='expired'"
    assert expired in log
    assert f"SnapshotRecorded(account_id={good.pk}, label='good'" in log


def test_changing_the_interval_in_the_admin_changes_the_schedule_without_restart(
    fake, celery, client, settings
):
    settings.ACCOUNTS_MIN_POLL_INTERVAL_SECONDS = 1
    AccountSettings.objects.update_or_create(pk=1, defaults={"poll_interval_seconds": 3600})
    account, _ = cookie_account(fake, legacy_usage(10.0, 10.0))
    celery.worker("w1")
    celery.beat()
    assert wait_for(lambda: _polls(account) == 1, timeout=STARTUP), celery.log("w1")[-3000:]
    wait_for(lambda: False, timeout=2)
    assert _polls(account) == 1  # hourly: nothing more
    client.force_login(get_user_model().objects.create_superuser("root", "r@example.com", "pw"))
    response = client.post(
        f"/admin/accounts/accountsettings/{AccountSettings.load().pk}/change/",
        {
            "poll_interval_seconds": "1",
            "snapshot_retention": "2016",
            "cookie_expiry_warn_days": "7",
            "cookie_lifetime_days": "28",
        },
    )
    assert response.status_code == 302
    assert wait_for(lambda: _polls(account) >= 4, timeout=90), celery.log("beat")[-2000:]


def test_two_workers_never_poll_one_account_twice_at_once(fake, celery, settings):
    AccountSettings.objects.update_or_create(pk=1, defaults={"poll_interval_seconds": 1})
    keys = []
    for i in range(6):
        _, key = cookie_account(fake, Reply(200, legacy_usage(float(i), 1.0), delay=0.4), label=f"a{i}")
        keys.append(key)
    token = oauth_account(
        fake, "shared-token", Reply(200, legacy_usage(), delay=0.4), expires_in=timedelta(0)
    )
    celery.worker("w1")
    celery.worker("w2")
    celery.beat()
    ok = wait_for(
        lambda: all(fake.usage_calls(k) >= 4 for k in keys) and fake.usage_calls("shared-token") >= 4,
        timeout=STARTUP,
    )
    assert ok, celery.log("w1")[-2000:] + celery.log("w2")[-2000:]
    celery.stop()
    assert {k: fake.max_in_flight.get(k) for k in keys} == {k: 1 for k in keys}
    assert fake.max_in_flight["shared-token"] == 1
    # The expired token was refreshed exactly once and the rotated refresh token was never reused.
    assert fake.token_calls == 1 and fake.rejected_refreshes == 0
    token.refresh_from_db()
    assert token.state == State.OK
    for name in ("w1", "w2"):
        assert "accounts.poll_due_accounts" in celery.log(name), f"{name} never ran a tick"
