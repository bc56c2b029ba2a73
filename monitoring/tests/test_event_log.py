"""The event log: one row per change, in the change's transaction, read back by id."""

from datetime import datetime, timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from accounts.tests.conftest import fake  # noqa: F401 - the loopback Claude API fixture
from accounts.tests.helpers import cookie_account, poll
from limiter import services
from limiter.families import UNKNOWN_COSTLIEST
from limiter.models import HookToken, Team
from monitoring import eventlog, roles
from monitoring.models import Event
from tests.fakes.claude_api import EXPIRED, legacy_usage


@pytest.fixture
def seat(db):
    return services.seat_create(slug="ada", name="Ada")


def _kinds(**filters) -> list[str]:
    return list(Event.objects.filter(**filters).order_by("id").values_list("kind", flat=True))


def test_seat_status_change_is_logged_with_who_before_and_after(seat):
    services.seat_set_status(seat=seat, status="killed", by="root")
    event = Event.objects.get(kind=eventlog.SEAT_STATUS)
    assert event.seat_id == seat.pk and event.actor == "root"
    assert event.data == {"seat": "Ada", "before": "active", "after": "killed"}


def test_setting_a_status_the_seat_already_has_logs_nothing(seat):
    assert not services.seat_set_status(seat=seat, status="active", by="root")
    assert not Event.objects.exists()


def test_event_rolls_back_with_the_change_it_describes(seat):
    with pytest.raises(RuntimeError), transaction.atomic():
        services.seat_set_status(seat=seat, status="paused", by="root")
        raise RuntimeError("the surrounding change failed")
    assert not Event.objects.exists()
    seat.refresh_from_db()
    assert seat.status == "active"


def test_live_publish_waits_for_commit(seat, django_capture_on_commit_callbacks, monkeypatch):
    published = []
    monkeypatch.setattr("monitoring.broadcast.publish", published.append)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.seat_set_status(seat=seat, status="killed", by="root")
    assert published == []
    for callback in callbacks:
        callback()
    assert published[0]["type"] == "user_killed" and published[0]["oldStatus"] == "active"
    assert published[0]["userId"] == str(seat.pk) and published[0]["id"] == Event.objects.get().id


def test_install_code_event_names_the_seat_but_never_the_code(seat):
    code = services.install_code_issue(seat=seat, by="root")
    event = Event.objects.get(kind=eventlog.INSTALL_CODE_ISSUED)
    assert event.seat_id == seat.pk and event.actor == "root"
    assert code not in str(event.data) and code.split("-")[-1] not in str(event.data)


def test_revoked_and_rotated_tokens_are_logged(seat):
    services.register(code=services.install_code_issue(seat=seat), ip="127.0.0.1")
    services.token_rotate(token=HookToken.objects.get(seat=seat), by="hook client")
    services.token_revoke(token=HookToken.objects.get(seat=seat, revoked_at__isnull=True), by="root")
    revoked = Event.objects.filter(kind=eventlog.TOKEN_REVOKED).order_by("id")
    assert [(e.actor, e.data["rotated"]) for e in revoked] == [("hook client", True), ("root", False)]


def test_revoking_a_revoked_token_logs_nothing_more(seat):
    services.register(code=services.install_code_issue(seat=seat), ip="127.0.0.1")
    token = HookToken.objects.get(seat=seat)
    services.token_revoke(token=token, by="root")
    services.token_revoke(token=token, by="root")
    assert _kinds(kind=eventlog.TOKEN_REVOKED) == [eventlog.TOKEN_REVOKED]


def test_rule_added_by_a_service_is_logged_as_text(seat):
    services.rule_add(owner=seat, by="cli", type="per_model", model="opus", window="daily", value=5)
    event = Event.objects.get(kind=eventlog.RULE_CHANGED)
    assert event.data == {"owner": str(seat), "before": None, "after": "opus: 5 prompts daily"}


def test_admin_rule_and_team_setting_edits_are_logged_with_before_and_after(seat, client):
    from django.contrib.auth import get_user_model

    admin = get_user_model().objects.create_user("root")
    roles.role_apply(user=admin, role=roles.ADMIN)
    client.force_login(admin)
    team = seat.team
    rule = services.rule_add(owner=team, type="credits", window="daily", value=100)
    form = {
        "name": team.name, "timezone": "Europe/Berlin", "credit_weights": '{"opus": 10, "default": 1}',
        "extra_families": "[]", "model_aliases": '{"best": "opus"}', "offline_grace_minutes": 1440,
        "hold_ttl_seconds": 1800, "install_code_ttl_hours": 72, "event_retention_days": 90,
        "unknown_model_policy": UNKNOWN_COSTLIEST,
        "default_rules-TOTAL_FORMS": 1, "default_rules-INITIAL_FORMS": 1,
        "default_rules-0-id": rule.pk, "default_rules-0-team": team.pk, "default_rules-0-position": 0,
        "default_rules-0-type": "credits", "default_rules-0-window": "daily", "default_rules-0-value": 250,
        "default_rules-0-model": "", "default_rules-0-schedule_tz": "",
    }
    response = client.post(f"/admin/limiter/team/{team.pk}/change/", form)
    assert response.status_code == 302, response.content.decode()[:2000]
    setting = Event.objects.get(kind=eventlog.SETTING_CHANGED)
    assert setting.actor == "root"
    assert setting.data["changes"]["timezone"] == ["UTC", "Europe/Berlin"]
    assert setting.data["changes"]["credit_weights"][1] == {"opus": 10, "default": 1}
    changed = Event.objects.filter(kind=eventlog.RULE_CHANGED, actor="root").get()
    assert changed.data["owner"] == "team defaults"
    assert (changed.data["before"], changed.data["after"]) == ("100 credits daily", "250 credits daily")


def test_account_polling_and_alert_setting_edits_are_logged_with_who_before_and_after(db, client):
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from monitoring.feed import describe, present_event

    admin = get_user_model().objects.create_user("root")
    roles.role_apply(user=admin, role=roles.ADMIN)
    client.force_login(admin)
    form = {
        "poll_interval_seconds": 120, "snapshot_retention": 1000, "cookie_expiry_warn_days": 7,
        "cookie_lifetime_days": 30,
    }
    response = client.post("/admin/accounts/accountsettings/add/", form)
    assert response.status_code == 302, response.content.decode()[:2000]
    polling = Event.objects.get(kind=eventlog.SETTING_CHANGED)
    assert polling.actor == "root" and polling.data["scope"] == "accounts"
    assert polling.data["changes"]["poll_interval_seconds"] == [300, 120]
    line = describe(present_event(polling))
    assert line.startswith("Account polling settings: ") and line.endswith(" by root")
    assert "poll_interval_seconds: 300 → 120" in line

    call_command("accounts", "settings", "--poll-interval", "90")
    by_command = Event.objects.filter(kind=eventlog.SETTING_CHANGED).latest("id")
    assert by_command.actor == "manage.py accounts"
    assert by_command.data["changes"] == {"poll_interval_seconds": [120, 90]}

    response = client.post("/admin/alerts/alertsettings/add/", {"default_thresholds": "[80, 95]"})
    assert response.status_code == 302, response.content.decode()[:2000]
    alerting = Event.objects.filter(kind=eventlog.SETTING_CHANGED).latest("id")
    assert (alerting.actor, alerting.data["scope"]) == ("root", "alerts")
    assert alerting.data["changes"] == {"default_thresholds": [[], [80, 95]]}
    unchanged = Event.objects.count()
    response = client.post("/admin/alerts/alertsettings/1/change/", {"default_thresholds": "[80, 95]"})
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Event.objects.count() == unchanged  # saving the same values logs nothing


def test_events_after_returns_later_events_oldest_first_filtered_by_kind(seat):
    first = eventlog.record("seat.status", seat_id=seat.pk, data={"after": "paused"})
    second = eventlog.record("alert.fired", data={"rule": "weekly 90%"})
    third = eventlog.record("seat.status", seat_id=seat.pk, data={"after": "active"})
    assert eventlog.events_after(first.id) == [second, third]
    assert eventlog.events_after(0, kinds=["seat.status"]) == [first, third]
    assert eventlog.events_after(0, limit=1) == [first]
    assert eventlog.last_event_id() == third.id


def test_record_refuses_a_naive_time():
    with pytest.raises(ValueError, match="aware"):
        eventlog.record("alert.fired", at=datetime(2026, 1, 1, 12, 0))  # noqa: DTZ001 - the point of the test


def test_prune_drops_events_past_the_team_retention(seat):
    Team.objects.update(event_retention_days=30)
    now = timezone.now()
    old = eventlog.record("alert.fired", at=now - timedelta(days=31))
    kept = eventlog.record("alert.fired", at=now - timedelta(days=29))
    services.prune_old_events(now=now)
    assert list(Event.objects.all()) == [kept]
    assert not Event.objects.filter(pk=old.pk).exists()


@pytest.mark.django_db(transaction=True)
def test_polls_log_their_result_and_credential_changes(fake):  # noqa: F811
    account, _ = cookie_account(fake, legacy_usage(48.0, 64.0), EXPIRED)
    poll(account)
    poll(account)
    rows = list(Event.objects.filter(account_id=account.pk).order_by("id"))
    assert [(e.kind, e.data.get("after") or e.data.get("outcome")) for e in rows] == [
        (eventlog.CREDENTIAL_STATE, "ok"),
        (eventlog.POLL_RESULT, "ok"),
        (eventlog.CREDENTIAL_STATE, "expired"),
        (eventlog.POLL_RESULT, "expired"),
    ]
    assert rows[1].data["utilization"]["session"] == 48.0
    assert rows[1].data["label"] == account.label
