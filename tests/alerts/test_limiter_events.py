"""Limiter events as alerts: blocked seats (one message per seat and window, never one per prompt) and seats
past a share of their credit budget (once per budget window), through /check and /count as the API calls
them, the event log and an evaluator pass."""

import uuid
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError

from alerts.models import Delivery
from limiter import services, turns
from limiter.models import BlockNotice, HookToken
from monitoring import eventlog
from monitoring.models import Event

from .pipeline import T0, account, evaluate, minutes, subscribe, webhook_channel

pytestmark = pytest.mark.django_db


@pytest.fixture
def hook(receivers):
    return webhook_channel(receivers)


def seat_with_token(slug: str = "alice", **rule) -> HookToken:
    seat = services.seat_create(slug=slug, name=slug.title())
    if rule:
        services.rule_add(owner=seat, **rule)
    services.register(code=services.install_code_issue(seat=seat), ip="127.0.0.1")
    return HookToken.objects.select_related("seat__team", "device").get(seat=seat)


def check(token: HookToken, at, model: str = "claude-opus-4-1") -> bool:
    fresh = HookToken.objects.select_related("seat__team", "device").get(pk=token.pk)
    outcome = turns.decide_check(
        token=fresh,
        model=model,
        session_id=uuid.uuid4().hex,
        project_dir="p",
        prompt_length=10,
        ip=None,
        now=at,
    )
    return outcome.decision.allowed


def count(token: HookToken, at, model: str = "claude-sonnet-4-5") -> None:
    fresh = HookToken.objects.select_related("seat__team", "device").get(pk=token.pk)
    turns.record_count(
        token=fresh,
        model=model,
        session_id="s",
        response_length=1,
        event_id=uuid.uuid4(),
        client_timestamp=at.isoformat(),
        client_time=at,
        usage=None,
        now=at,
    )


def test_many_blocked_prompts_of_a_seat_in_one_window_send_one_message(hook):
    subscribe(hook, notify_seat_blocks=True)
    token = seat_with_token(type="per_model", model="opus", window="daily", value=0)
    assert [check(token, T0 + minutes(n)) for n in range(5)] == [False] * 5
    assert Event.objects.filter(kind=eventlog.SEAT_BLOCKED).count() == 1
    (delivery,) = evaluate(T0 + minutes(5))
    (alert,) = delivery.alerts
    assert alert["title"] == "seat Alice was blocked"
    assert alert["kind"] == "seat_blocked" and alert["seat"] == "Alice"
    assert alert["message"] == (
        "Seat Alice was blocked for the first time today (Daily opus limit reached for Alice). "
        "Further blocks today are not announced."
    )
    assert not alert["urgent"]


def test_a_block_in_the_next_window_of_the_rule_is_told_again(hook):
    subscribe(hook, notify_seat_blocks=True)
    token = seat_with_token(type="per_model", model="opus", window="daily", value=0)
    check(token, T0)
    evaluate(T0)
    check(token, T0 + timedelta(hours=3))
    assert evaluate(T0 + timedelta(hours=3)) == []
    check(token, T0 + timedelta(days=1))
    (delivery,) = evaluate(T0 + timedelta(days=1))
    assert delivery.alerts[0]["title"] == "seat Alice was blocked"


def test_blocks_by_two_rules_in_one_day_are_two_messages(hook):
    subscribe(hook, notify_seat_blocks=True)
    token = seat_with_token(type="per_model", model="opus", window="daily", value=0)
    services.rule_add(owner=token.seat, type="per_model", model="haiku", window="weekly", value=0)
    check(token, T0, model="claude-opus-4-1")
    check(token, T0 + minutes(1), model="claude-haiku-4-5")
    check(token, T0 + minutes(2), model="claude-haiku-4-5")
    windows = sorted(e.data["window"] for e in Event.objects.filter(kind=eventlog.SEAT_BLOCKED))
    assert windows == ["daily", "weekly"]


def test_allowed_prompts_and_paused_seats_log_no_block(hook):
    subscribe(hook, notify_seat_blocks=True)
    token = seat_with_token()
    assert check(token, T0)
    services.seat_set_status(seat=token.seat, status="paused", by="root", now=T0)
    assert not check(token, T0 + minutes(1))
    assert not BlockNotice.objects.exists()
    assert not Event.objects.filter(kind=eventlog.SEAT_BLOCKED).exists()


def test_blocks_are_told_only_to_subscriptions_that_asked(hook, receivers):
    subscribe(webhook_channel(receivers, "plain"), name="plain")
    token = seat_with_token(type="per_model", model="opus", window="daily", value=0)
    check(token, T0)
    assert evaluate(T0) == []


def test_a_seat_crossing_its_credit_percentage_is_told_once_per_budget_window(hook):
    subscribe(hook, notify_seat_credits=80)
    token = seat_with_token(type="credits", window="daily", value=30)  # sonnet costs 3: 10 % a turn
    deliveries: list[Delivery] = []
    for n in range(12):  # to 120 %: crosses 80 % once, and keeps going
        count(token, T0 + minutes(n))
        deliveries += evaluate(T0 + minutes(n))
    (delivery,) = deliveries
    (alert,) = delivery.alerts
    assert alert["title"] == "seat Alice: 80% of its daily credit budget"
    assert alert["message"] == "Seat Alice has used 24 of its 30 daily credits (80%, threshold 80%)."
    assert alert["threshold"] == 80
    count(token, T0 + timedelta(days=1, hours=1))
    assert evaluate(T0 + timedelta(days=1, hours=1)) == []
    for n in range(7):
        count(token, T0 + timedelta(days=1, hours=2) + minutes(n))
    (next_day,) = evaluate(T0 + timedelta(days=1, hours=3))
    assert next_day.alerts[0]["pct"] == 80


def test_the_limiter_logs_credit_steps_not_every_turn():
    token = seat_with_token(type="credits", window="weekly", value=1000)  # sonnet: 0.3 % a turn
    for n in range(20):
        count(token, T0 + minutes(n))
    (step,) = Event.objects.filter(kind=eventlog.SEAT_CREDITS)
    assert (step.data["pct_before"], step.data["pct"]) == (4.8, 5.1)


def test_a_logged_step_twice_in_one_window_is_told_once(hook):
    subscribe(hook, notify_seat_credits=50)
    token = seat_with_token(type="credits", window="daily", value=30)
    seat = token.seat
    data = {"seat": "Alice", "rule": "r", "window": "daily", "window_start": T0.isoformat()}
    data |= {"budget": 30, "used": 15, "pct_before": 40.0, "pct": 50.0}
    for _ in range(2):
        eventlog.record(eventlog.SEAT_CREDITS, seat_id=seat.pk, at=T0, data=data)
    (delivery,) = evaluate(T0)
    assert len(delivery.alerts) == 1


def test_seat_options_need_a_subscription_to_every_account_and_a_percentage_in_steps_of_five(hook):
    with pytest.raises(ValidationError, match="every account"):
        subscribe(hook, account=account(), notify_seat_blocks=True)
    with pytest.raises(ValidationError, match="multiple of 5"):
        subscribe(hook, notify_seat_credits=83)
