"""The threshold state machine through the database (contract §10.2-10.3): polls in the event log, an
evaluator pass, the deliveries it writes."""

from datetime import datetime, time, timedelta

import pytest

from alerts import evaluation
from alerts.models import AlertSettings, AlertState, Cursor, Delivery, Silence
from monitoring import eventlog
from monitoring.models import Event

from .pipeline import (
    RESETS,
    T0,
    account,
    credential,
    evaluate,
    failed_poll,
    minutes,
    poll,
    subscribe,
    titles,
    webhook_channel,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def hook(receivers):
    return webhook_channel(receivers)


def test_upward_crossing_fires_one_delivery_and_staying_above_fires_nothing(hook):
    acct = account()
    subscribe(hook)
    poll(acct, T0, 70)
    assert evaluate(T0) == []
    poll(acct, T0 + minutes(5), 91)
    (delivery,) = evaluate(T0 + minutes(5))
    assert delivery.channel == hook and delivery.status == Delivery.Status.PENDING
    assert titles([delivery]) == [["acct-42: 91% of 5-hour limit"]]
    assert delivery.alerts[0]["threshold"] == 90
    fired = Event.objects.get(pk=delivery.event_id)
    assert fired.kind == eventlog.ALERT_FIRED and fired.data["alerts"][0]["channels"] == [hook.pk]
    poll(acct, T0 + minutes(10), 93)
    assert evaluate(T0 + minutes(10)) == []


def test_a_jump_over_several_thresholds_notifies_only_the_highest(hook):
    acct = account()
    subscribe(hook)
    poll(acct, T0, 70)
    poll(acct, T0 + minutes(5), 100)
    (delivery,) = evaluate(T0 + minutes(5))
    assert [a["threshold"] for a in delivery.alerts] == [95]
    assert delivery.alerts[0]["urgent"] is True  # 100 % goes through quiet hours
    states = AlertState.objects.filter(limit_type="session").order_by("threshold")
    assert [(s.threshold, s.state, s.notified) for s in states] == [
        (75, "firing", False),
        (90, "firing", False),
        (95, "firing", True),
    ]


def test_thresholds_default_from_the_runtime_setting_without_restart(hook):
    AlertSettings.objects.create(pk=1, default_thresholds=[50])
    acct = account()
    subscribe(hook)
    poll(acct, T0, 55)
    (delivery,) = evaluate(T0)
    assert delivery.alerts[0]["threshold"] == 50


def test_per_limit_type_thresholds_override_the_default(hook):
    acct = account()
    subscribe(hook, thresholds={"weekly": [60]})
    poll(acct, T0, 65, limit="weekly")
    poll(acct, T0, 65, limit="session")
    (delivery,) = evaluate(T0)
    assert [(a["limit_type"], a["threshold"]) for a in delivery.alerts] == [("weekly", 60)]


def test_hysteresis_rearms_only_well_below_and_resolved_says_peak_and_duration(hook):
    acct = account()
    subscribe(hook, send_resolved=True, thresholds={"session": [90]})
    poll(acct, T0, 92)
    assert len(evaluate(T0)) == 1
    poll(acct, T0 + minutes(30), 87)  # inside the 5-point band: still firing
    assert evaluate(T0 + minutes(30)) == []
    poll(acct, T0 + minutes(60), 96)
    assert evaluate(T0 + minutes(60)) == []
    poll(acct, T0 + minutes(130), 80)
    (resolved,) = evaluate(T0 + minutes(130))
    assert resolved.alerts[0]["state"] == "resolved"
    assert (
        resolved.alerts[0]["message"]
        == "acct-42 is at 80% of its 5-hour limit (peak 96%, above 90% for 2 h 10 m)."
    )


def test_cooldown_keeps_a_refire_in_the_same_window_quiet_and_a_new_window_clears_it(hook):
    acct = account()
    subscribe(hook, thresholds={"session": [90]})
    poll(acct, T0, 91)
    assert len(evaluate(T0)) == 1
    poll(acct, T0 + minutes(20), 50)
    poll(acct, T0 + minutes(40), 92)  # re-crosses within the 4 h cooldown
    assert evaluate(T0 + minutes(40)) == []
    poll(acct, T0 + minutes(60), 50)
    poll(acct, T0 + minutes(80), 93, resets_at=RESETS + timedelta(hours=5))  # new window
    (delivery,) = evaluate(T0 + minutes(80))
    assert delivery.alerts[0]["pct"] == 93


def test_a_new_window_rearms_a_firing_threshold(hook):
    acct = account()
    subscribe(hook, thresholds={"session": [90]})
    poll(acct, T0, 95)
    evaluate(T0)
    poll(acct, T0 + minutes(300), 91, resets_at=RESETS + timedelta(hours=5))
    (delivery,) = evaluate(T0 + minutes(300))
    assert delivery.alerts[0]["threshold"] == 90


def test_unknown_utilization_changes_nothing(hook):
    acct = account()
    subscribe(hook)
    poll(acct, T0, 91)
    evaluate(T0)
    before = list(AlertState.objects.values_list("state", "version"))
    poll(acct, T0 + minutes(5), None)
    assert evaluate(T0 + minutes(5)) == []
    assert list(AlertState.objects.values_list("state", "version")) == before


def test_one_poll_cycle_for_many_accounts_is_one_message_per_channel(hook, receivers):
    other = webhook_channel(receivers, "second-hook")
    subscribe(hook, other)
    accounts = [account(f"acct-{n}") for n in range(3)]
    for acct in accounts:
        poll(acct, T0, 91)
    deliveries = evaluate(T0)
    assert sorted(d.channel.name for d in deliveries) == ["ops-hook", "second-hook"]
    assert all(len(d.alerts) == 3 for d in deliveries)
    assert len({d.event_id for d in deliveries}) == 1


def test_each_event_is_evaluated_once_even_when_the_evaluator_runs_again(hook):
    acct = account()
    subscribe(hook)
    poll(acct, T0, 91)
    assert len(evaluate(T0)) == 1
    assert evaluate(T0) == []
    assert Delivery.objects.count() == 1
    assert Cursor.objects.get().last_id == eventlog.last_event_id()


def test_an_id_that_commits_late_is_still_evaluated(hook):
    acct = account()
    subscribe(hook)
    poll(acct, T0, 91)
    crossing = Event.objects.get(kind=eventlog.POLL_RESULT)
    late_id = crossing.pk
    crossing.delete()  # its transaction took the id but has not committed yet
    eventlog.record(eventlog.SEAT_STATUS, data={})  # a later id commits first
    assert evaluate(T0) == []
    assert str(late_id) in Cursor.objects.get().gaps
    crossing.pk = late_id
    crossing.save(force_insert=True)  # now it commits, below the cursor
    assert len(evaluate(T0 + minutes(1))) == 1
    assert str(late_id) not in Cursor.objects.get().gaps


def test_gaps_are_given_up_after_a_while(hook):
    top = eventlog.last_event_id()
    Cursor.objects.update_or_create(
        pk=1, defaults={"last_id": top + 10, "gaps": {str(top + 7): T0.isoformat()}}
    )
    evaluation.evaluate(now=T0 + minutes(4))
    assert list(Cursor.objects.get().gaps) == [str(top + 7)]
    evaluation.evaluate(now=T0 + evaluation.GAP_PATIENCE + minutes(1))
    assert Cursor.objects.get().gaps == {}


def test_a_huge_jump_in_ids_keeps_only_the_highest_gaps(hook):
    Cursor.objects.update_or_create(pk=1, defaults={"last_id": 0, "gaps": {}})
    Event.objects.create(pk=50_000, kind=eventlog.SEAT_STATUS, at=T0)
    evaluation.evaluate(now=T0)
    gaps = sorted(int(k) for k in Cursor.objects.get().gaps)
    assert len(gaps) == evaluation.MAX_GAPS and gaps[-1] == 49_999


def test_silenced_account_gets_a_silenced_delivery_listed_and_nothing_sent(hook):
    acct = account()
    subscribe(hook)
    Silence.objects.create(account=acct, until=T0 + timedelta(hours=2), reason="migration tonight")
    poll(acct, T0, 91)
    assert evaluate(T0) == []
    (silenced,) = Delivery.objects.all()
    assert silenced.status == Delivery.Status.SILENCED
    assert "migration tonight" in silenced.last_error
    assert Event.objects.get(kind=eventlog.ALERT_FIRED).data["silenced"][0]["title"].startswith("acct-42")


def test_a_silenced_channel_does_not_mute_the_other_channels(hook, receivers):
    quiet_one = webhook_channel(receivers, "muted")
    subscribe(hook, quiet_one)
    Silence.objects.create(channel=quiet_one, until=T0 + timedelta(hours=1), reason="maintenance")
    acct = account()
    poll(acct, T0, 91)
    (delivery,) = evaluate(T0)
    assert delivery.channel == hook
    assert Delivery.objects.get(channel=quiet_one).status == Delivery.Status.SILENCED


def test_an_expired_silence_mutes_nothing(hook):
    acct = account()
    subscribe(hook)
    Silence.objects.create(account=acct, until=T0 - minutes(1), reason="over")
    poll(acct, T0, 91)
    assert len(evaluate(T0)) == 1


def test_quiet_hours_defer_to_their_end_collapsed_to_the_latest_state(hook):
    acct = account()
    subscribe(hook, thresholds={"session": [75, 90]}, quiet=("daily", time(8, 0), time(10, 0), "UTC"))
    poll(acct, T0, 80)  # 09:00, inside 08:00-10:00
    assert evaluate(T0) == []
    poll(acct, T0 + minutes(20), 92)
    assert evaluate(T0 + minutes(20)) == []
    waiting = Delivery.objects.filter(status=Delivery.Status.PENDING)
    (latest,) = waiting
    assert latest.deferred and latest.next_attempt_at == datetime(2026, 11, 23, 10, 0, tzinfo=T0.tzinfo)
    assert titles([latest]) == [["acct-42: 92% of 5-hour limit"]]
    assert Delivery.objects.filter(status=Delivery.Status.SUPERSEDED).count() == 1


def test_urgent_alerts_go_through_quiet_hours(hook):
    acct = account()
    subscribe(hook, quiet=("daily", time(8, 0), time(10, 0), "UTC"))
    poll(acct, T0, 100)
    (delivery,) = evaluate(T0)
    assert not delivery.deferred


def test_expired_credential_alerts_once_and_a_good_poll_resolves(hook):
    acct = account()
    subscribe(hook, send_resolved=True)
    credential(acct, T0, "ok", "expired", "account_session_invalid")
    (delivery,) = evaluate(T0)
    assert delivery.alerts[0]["title"] == "acct-42: cookie expired"
    credential(acct, T0 + minutes(5), "expired", "expired")
    assert evaluate(T0 + minutes(5)) == []
    credential(acct, T0 + minutes(10), "expired", "ok")
    (resolved,) = evaluate(T0 + minutes(10))
    assert resolved.alerts[0]["title"] == "acct-42: credential works again"


def test_cloudflare_block_alerts_only_after_lasting_an_hour(hook):
    acct = account()
    subscribe(hook)
    credential(acct, T0, "ok", "blocked", "challenge")
    failed_poll(acct, T0 + minutes(30), "blocked", "challenge")
    assert evaluate(T0 + minutes(30)) == []
    failed_poll(acct, T0 + minutes(65), "blocked", "challenge")
    (delivery,) = evaluate(T0 + minutes(65))
    assert delivery.alerts[0]["title"] == "acct-42: blocked by Cloudflare for over an hour"


def test_rate_limiting_alerts_only_after_lasting_an_hour_and_a_good_poll_restarts_the_clock(hook):
    acct = account()
    subscribe(hook)
    credential(acct, T0, "ok", "rate_limited", "429")
    failed_poll(acct, T0 + minutes(50), "rate_limited", "429")
    assert evaluate(T0 + minutes(50)) == []
    credential(acct, T0 + minutes(55), "rate_limited", "ok")  # a spell ends: the hour starts over
    credential(acct, T0 + minutes(60), "ok", "rate_limited", "429")
    failed_poll(acct, T0 + minutes(70), "rate_limited", "429")
    assert evaluate(T0 + minutes(70)) == []  # 70 minutes since the first 429, 10 since this spell began
    failed_poll(acct, T0 + minutes(125), "rate_limited", "429")
    (delivery,) = evaluate(T0 + minutes(125))
    assert delivery.alerts[0]["title"] == "acct-42: rate limited for over an hour"
    failed_poll(acct, T0 + minutes(130), "rate_limited", "429")
    assert evaluate(T0 + minutes(130)) == []  # one alert per spell


def test_a_wrong_organisation_alerts_at_once_with_the_upstream_words(hook):
    acct = account()
    subscribe(hook)
    credential(acct, T0, "ok", "wrong_org", "the organisation 4f1c… is not one of this cookie's")
    (delivery,) = evaluate(T0)
    alert = delivery.alerts[0]
    assert alert["title"] == "acct-42: wrong organisation"
    assert "is not one of this cookie's" in alert["message"]


def test_window_reset_is_opt_in(hook, receivers):
    acct = account()
    subscribe(hook)
    subscribe(webhook_channel(receivers, "resets"), name="resets", notify_window_reset=True)
    data = {"label": acct.label, "limit_type": "session", "kind": "early"}
    eventlog.record(eventlog.WINDOW_RESET, account_id=acct.pk, at=T0, data=data)
    (delivery,) = evaluate(T0)
    assert delivery.channel.name == "resets"
    assert delivery.alerts[0]["message"] == "acct-42's 5-hour window just reset early."


def test_a_subscription_to_one_account_ignores_the_others(hook):
    watched, other = account("watched"), account("other")
    subscribe(hook, account=watched)
    poll(other, T0, 99)
    assert evaluate(T0) == []
    poll(watched, T0, 99)
    assert len(evaluate(T0)) == 1


def test_a_backlog_longer_than_one_batch_is_evaluated_in_one_call(hook, monkeypatch):
    monkeypatch.setattr(evaluation, "BATCH", 3)
    subscribe(hook)
    accounts = [account(f"acct-{n}") for n in range(4)]
    for acct in accounts:
        poll(acct, T0, 91)  # four events and more than one batch of three
    deliveries = evaluate(T0)
    assert sum(len(d.alerts) for d in deliveries) == 4
    assert evaluate(T0) == []


def test_a_killed_seat_is_told_to_subscriptions_that_asked_and_goes_through_quiet_hours(hook, receivers):
    from limiter.services import seat_create, seat_set_status

    subscribe(hook, notify_seats=True, quiet=("daily", time(0, 0), time(23, 59), "UTC"))
    subscribe(webhook_channel(receivers, "not-asked"), name="plain")
    seat = seat_create(slug="alice", name="Alice")
    seat_set_status(seat=seat, status="killed", by="root", now=T0)
    (delivery,) = evaluate(T0)
    assert delivery.channel == hook and not delivery.deferred
    assert delivery.alerts[0]["message"] == "Seat Alice was killed by root (was active)."
    assert Event.objects.get(kind=eventlog.ALERT_FIRED).account_id is None


def test_each_alert_links_to_a_prefilled_silence_form(hook, settings):
    settings.PUBLIC_URL = "https://governor.example.com"
    acct = account()
    subscribe(hook)
    poll(acct, T0, 91)
    (delivery,) = evaluate(T0)
    assert delivery.alerts[0]["url"] == (
        f"https://governor.example.com/admin/alerts/silence/add/?account={acct.pk}&reason=silenced+from+an+alert"
    )
