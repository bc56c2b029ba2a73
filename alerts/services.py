"""Writes for the admin and `manage.py alerts`: channels, subscriptions and silences, each validated.

The evaluator lives in `evaluation`, fan-out in `fanout`, sending and the test button in `delivery`.
"""

from datetime import datetime, time, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from monitoring import eventlog

from .delivery import send_test
from .models import AlertSettings, Channel, Silence, Subscription

__all__ = ["alert_settings_update", "channel_create", "send_test", "silence_create", "subscription_create"]


def alert_settings_update(*, default_thresholds: list[int], by: str = "") -> AlertSettings:
    """Validated, saved and logged (before → after) in one transaction; read at the next evaluation."""
    with transaction.atomic():
        row = AlertSettings.objects.select_for_update().filter(pk=1).first() or AlertSettings(pk=1)
        before = list(row.default_thresholds or [])
        row.default_thresholds = default_thresholds
        row.full_clean()
        row.save()
        if before != list(default_thresholds):
            data = {"scope": "alerts", "changes": {"default_thresholds": [before, list(default_thresholds)]}}
            eventlog.record(eventlog.SETTING_CHANGED, actor=by[:150], data=data)
    return row


def channel_create(*, kind: str, name: str, config: dict, owner=None) -> Channel:
    channel = Channel(kind=kind, name=name.strip(), owner=owner)
    channel.set_config(config)
    channel.full_clean()
    channel.save()
    return channel


def subscription_create(
    *,
    name: str,
    channels: list[Channel],
    account=None,
    thresholds: dict | None = None,
    owner=None,
    cooldown: timedelta | None = None,
    repeat_interval: timedelta | None = None,
    hysteresis: float | None = None,
    send_resolved: bool = False,
    notify_window_reset: bool = False,
    notify_credentials: bool = True,
    notify_forecast: bool = False,
    notify_seats: bool = False,
    notify_seat_blocks: bool = False,
    notify_seat_credits: int | None = None,
    notify_credits: bool = False,
    quiet: tuple[str, time, time, str] | None = None,
) -> Subscription:
    if not channels:
        raise ValidationError("A subscription needs at least one channel.")
    if owner is not None and not owner.is_superuser and any(c.owner_id != owner.pk for c in channels):
        raise ValidationError("You can subscribe only your own channels.")
    subscription = Subscription(
        name=name.strip(),
        owner=owner,
        account=account,
        thresholds=thresholds or {},
        send_resolved=send_resolved,
        notify_window_reset=notify_window_reset,
        notify_credentials=notify_credentials,
        notify_forecast=notify_forecast,
        notify_seats=notify_seats,
        notify_seat_blocks=notify_seat_blocks,
        notify_seat_credits=notify_seat_credits is not None,
        notify_credits=notify_credits,
        repeat_interval=repeat_interval,
    )
    if notify_seat_credits is not None:
        subscription.seat_credit_pct = notify_seat_credits
    if cooldown is not None:
        subscription.cooldown = cooldown
    if hysteresis is not None:
        subscription.hysteresis = hysteresis
    if quiet is not None:
        subscription.quiet_days, subscription.quiet_start, subscription.quiet_end, subscription.quiet_tz = (
            quiet
        )
    subscription.full_clean()
    with transaction.atomic():
        subscription.save()
        subscription.channels.set(channels)
    return subscription


def silence_create(
    *, until: datetime, reason: str, account=None, subscription=None, channel=None, by=None
) -> Silence:
    if timezone.is_naive(until):
        raise ValidationError("The end of a silence needs a time zone.")
    silence = Silence(
        account=account,
        subscription=subscription,
        channel=channel,
        until=until,
        reason=reason.strip(),
        created_by=by,
    )
    silence.full_clean()
    silence.save()
    return silence
