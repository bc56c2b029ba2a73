"""Forecast alerts (opt-in: once per window, withdrawn when the pace recovers) and the cookie-age warning."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import AccountSettings, ClaudeAccount, UsageSnapshot, WindowReading
from monitoring import eventlog

from .pipeline import T0, account, evaluate, minutes, subscribe, webhook_channel

pytestmark = pytest.mark.django_db


def reading(acct, at, pct, resets_at):
    snapshot = UsageSnapshot.objects.create(account=acct, taken_at=at, raw={})
    WindowReading.objects.create(
        snapshot=snapshot,
        account=acct,
        taken_at=at,
        limit_type="session",
        label="5-hour",
        utilization=pct,
        resets_at=resets_at,
        window_hours=5,
    )
    data = {"label": acct.label, "outcome": "ok", "snapshot": snapshot.pk, "utilization": {"session": pct}}
    eventlog.record(eventlog.POLL_RESULT, account_id=acct.pk, at=at, data=data)


@pytest.fixture
def hook(receivers):
    return webhook_channel(receivers)


def test_a_window_projected_to_run_out_alerts_once_then_withdraws(hook):
    acct = account("team-max")
    subscribe(hook, notify_forecast=True, send_resolved=True, thresholds={"session": [99]})
    now = timezone.now().replace(microsecond=0)
    resets = now + timedelta(hours=2)
    for step, pct in enumerate((40, 50, 60)):  # 20 points an hour: 100 % in 2 h, before the reset
        reading(acct, now - minutes(60) + minutes(30 * step) - minutes(30), pct, resets)
    reading(acct, now, 70, resets)
    (delivery,) = evaluate(now)
    (alert,) = [a for a in delivery.alerts if a["kind"] == "forecast"]
    assert alert["title"] == "team-max: projected to hit 100% of 5-hour limit"
    assert "before it resets" in alert["message"] and not alert["urgent"]
    reading(acct, now + minutes(5), 72, resets)
    assert evaluate(now + minutes(5)) == []  # once per window
    reading(acct, now + minutes(60), 72, resets)
    reading(acct, now + minutes(90), 72, resets)
    reading(acct, now + minutes(100), 72, resets)  # flat for 40 minutes: the window lasts now
    (withdrawn,) = evaluate(now + minutes(100))
    assert withdrawn.alerts[0]["title"] == "team-max: no longer projected to hit 100% of 5-hour limit"


def test_forecasts_are_opt_in(hook):
    acct = account("team-max")
    subscribe(hook, thresholds={"session": [99]})
    now = timezone.now().replace(microsecond=0)
    resets = now + timedelta(hours=2)
    for step, pct in enumerate((40, 50, 60, 70)):
        reading(acct, now - minutes(90) + minutes(30 * step), pct, resets)
    assert evaluate(now) == []


def test_a_cookie_near_the_end_of_its_lifetime_warns_once_and_a_new_cookie_rearms(hook):
    acct = account("team-max")
    subscribe(hook, thresholds={"session": [99]})
    runtime = AccountSettings.load()
    now = timezone.now().replace(microsecond=0)
    old = now - timedelta(days=runtime.cookie_lifetime_days - 2)
    ClaudeAccount.objects.filter(pk=acct.pk).update(cookie_issued_at=old)
    reading(acct, now, 10, now + timedelta(hours=3))
    (delivery,) = evaluate(now)
    assert delivery.alerts[0]["title"] == "team-max: cookie about to expire"
    reading(acct, now + minutes(5), 10, now + timedelta(hours=3))
    assert evaluate(now + minutes(5)) == []
    ClaudeAccount.objects.filter(pk=acct.pk).update(cookie_issued_at=now)  # a new cookie: no warning
    reading(acct, now + minutes(10), 10, now + timedelta(hours=3))
    assert evaluate(now + minutes(10)) == []


def test_paid_usage_credits_starting_this_month_are_told_once(hook):
    from decimal import Decimal

    acct = account("team-max")
    subscribe(hook, notify_credits=True, thresholds={"session": [99]})
    now = T0  # mid-month: the month's earlier snapshots are the ones above
    reading(acct, now - minutes(10), 10, now + timedelta(hours=3))
    assert evaluate(now - minutes(10)) == []
    reading(acct, now - minutes(5), 10, now + timedelta(hours=3))
    UsageSnapshot.objects.filter(taken_at=now - minutes(5)).update(
        spend_used=Decimal("4.5"), spend_currency="USD"
    )
    (delivery,) = evaluate(now - minutes(5))
    assert (
        delivery.alerts[0]["message"]
        == "team-max began spending paid usage credits this month (4.50 USD so far)."
    )
    reading(acct, now, 10, now + timedelta(hours=3))
    UsageSnapshot.objects.filter(taken_at=now).update(spend_used=Decimal("9"), spend_currency="USD")
    assert evaluate(now) == []
