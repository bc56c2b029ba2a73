"""Sending deliveries (contract §10.4-10.6): claim with a lease, one attempt, classify, retry or give up.

At-least-once: a worker proceeds only when its conditional UPDATE claimed the row, and a claim older than the
lease is taken over after a crash. A rare duplicate beats a missed alert; Matrix (txnId) and webhooks
(Idempotency-Key) get the delivery's stable key so the receiver can drop one.
"""

import logging
import random
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from monitoring import eventlog

from . import silencing, texts, transports
from .models import Channel, Delivery
from .transports.base import Alert, ConfigError, Message, Outcome, TransportError, mask

log = logging.getLogger(__name__)

BACKOFF_SECONDS = (30, 120, 600, 3600)  # after failed attempts 1-4; the fifth failure gives up
MAX_ATTEMPTS = len(BACKOFF_SECONDS) + 1
QUEUED_RETRY_SECONDS = 10.0
Status = Delivery.Status


@dataclass(frozen=True)
class Result:
    status: str
    error: str = ""
    retry_in: float | None = None  # seconds until the next attempt is due
    provider_id: str = ""


def lease() -> timedelta:
    """How long a claim holds: longer than one send can take (15 s HTTP, 15 s SMTP); 5 min unless set."""
    return timedelta(seconds=settings.ALERTS_DELIVERY_LEASE_SECONDS)


def _claimable(now: datetime) -> Q:
    return Q(status__in=[Status.PENDING, Status.RETRY], next_attempt_at__lte=now) | Q(
        status=Status.SENDING, claimed_at__lt=now - lease()
    )


def due_ids(now: datetime | None = None, limit: int = 500) -> list[int]:
    """Deliveries whose time has come (retries, quiet hours ended) or whose worker died mid-send."""
    rows = Delivery.objects.filter(_claimable(now or timezone.now())).order_by("next_attempt_at")
    return list(rows.values_list("pk", flat=True)[:limit])


def backoff(attempts: int, retry_after: float | None) -> float:
    """Seconds before the next attempt: the step with ±10 % jitter, never earlier than the provider asked."""
    step = BACKOFF_SECONDS[min(attempts, len(BACKOFF_SECONDS)) - 1] * random.uniform(0.9, 1.1)  # noqa: S311
    return max(step, retry_after or 0.0)


def describe(exc: TransportError) -> str:
    status = f" (HTTP {exc.status})" if exc.status else ""
    kinds = {
        Outcome.PERMANENT: "permanent error, channel disabled",
        Outcome.RATE_LIMITED: "rate limited",
        Outcome.TRANSIENT: "temporary error",
        Outcome.REJECTED: "message refused",
    }
    return f"{kinds.get(exc.outcome, str(exc.outcome))}{status}: {exc.message}"


def deliver(delivery_id: int, now: datetime | None = None) -> Result:
    now = now or timezone.now()
    token = uuid.uuid4().hex
    claimed = (
        Delivery.objects.filter(pk=delivery_id)
        .filter(_claimable(now))
        .update(status=Status.SENDING, claimed_at=now, claim_token=token, attempts=F("attempts") + 1)
    )
    if not claimed:
        return Result("not due")  # sent, claimed by another worker, or waiting for its time
    delivery = Delivery.objects.select_related("channel").get(pk=delivery_id)
    channel = delivery.channel
    if not channel.enabled:
        return _finish(
            delivery, token, now, Status.FAILED, f"The channel is disabled: {channel.disabled_reason}"
        )
    if not delivery.is_test and not _drop_silenced(delivery, now):
        # Nothing was attempted: the attempt counter says so, and the log lists the delivery as silenced.
        Delivery.objects.filter(pk=delivery.pk, claim_token=token).update(attempts=F("attempts") - 1)
        return _finish(delivery, token, now, Status.SILENCED, delivery.last_error)
    transport = transports.get(channel.kind)
    recent = Delivery.objects.filter(channel=channel, sent_at__gt=now - timedelta(minutes=1), is_test=False)
    if recent.count() >= transport.default_rate_per_minute:
        # Over the provider's documented rate: queue, never drop. The attempt does not count.
        Delivery.objects.filter(pk=delivery.pk, claim_token=token).update(
            status=Status.RETRY,
            attempts=F("attempts") - 1,
            next_attempt_at=now + timedelta(seconds=QUEUED_RETRY_SECONDS),
        )
        return Result("queued", retry_in=QUEUED_RETRY_SECONDS)
    message = Message(tuple(Alert.from_json(a) for a in delivery.alerts), key=str(delivery.key))
    config = channel.config
    if transport.is_noop(config, message.state):
        return _finish(
            delivery, token, now, Status.SENT, f"not sent: the channel ignores {message.state} alerts"
        )
    started = time.monotonic()
    try:
        sent = transport.send(config, message)
    except TransportError as exc:
        return _failed(delivery, token, now, exc, time.monotonic() - started)
    except ConfigError as exc:
        return _failed(
            delivery, token, now, TransportError(Outcome.PERMANENT, str(exc)), time.monotonic() - started
        )
    except Exception as exc:  # a transport bug must not lose the alert: retried like an outage
        log.exception("alert delivery %s: transport %s failed unexpectedly", delivery.pk, channel.kind)
        error = TransportError(Outcome.TRANSIENT, f"internal error: {type(exc).__name__}")
        return _failed(delivery, token, now, error, time.monotonic() - started)
    _log_attempt(delivery, "success", sent.status, sent.provider_id, "", time.monotonic() - started)
    return _finish(
        delivery, token, now, Status.SENT, "", provider_id=sent.provider_id, http_status=sent.status
    )


def _drop_silenced(delivery: Delivery, now: datetime) -> bool:
    """Drops the alerts a silence now covers, one created after the delivery was written included (quiet hours
    held it back, or it waits for a retry); False when none is left to send."""
    silences = silencing.active(now)
    if not silences:
        return True
    kept, reasons = [], []
    for alert in delivery.alerts:
        account, subscription = alert.get("account_id"), alert.get("subscription")
        why = silencing.reason(silences, account, subscription, delivery.channel_id)
        if why:
            reasons.append(why)
        else:
            kept.append(alert)
    if not reasons:
        return True
    if kept:
        delivery.alerts = kept
        Delivery.objects.filter(pk=delivery.pk).update(alerts=kept)
        return True
    delivery.last_error = reasons[0]
    return False


def _failed(delivery: Delivery, token: str, now: datetime, exc: TransportError, took: float) -> Result:
    # Masked once here, so the worker log, the delivery, the channel's reason and the event all get the same.
    exc.message = without_secrets(exc.message, delivery.channel)
    _log_attempt(delivery, str(exc.outcome), exc.status, "", exc.message, took)
    text = describe(exc)
    if exc.outcome == Outcome.PERMANENT:
        delivery.channel.disable(exc.message)
        return _finish(delivery, token, now, Status.FAILED, text, http_status=exc.status)
    if exc.outcome == Outcome.REJECTED or delivery.attempts >= MAX_ATTEMPTS:
        if exc.outcome != Outcome.REJECTED:
            text = f"gave up after {delivery.attempts} attempts; last: {text}"
        Channel.objects.filter(pk=delivery.channel_id).update(last_error=text)
        return _finish(delivery, token, now, Status.FAILED, text, http_status=exc.status)
    wait = backoff(delivery.attempts, exc.retry_after)
    updated = Delivery.objects.filter(pk=delivery.pk, claim_token=token).update(
        status=Status.RETRY,
        next_attempt_at=now + timedelta(seconds=wait),
        last_error=text,
        last_status=exc.status,
    )
    return Result(Status.RETRY if updated else "lease lost", text, retry_in=wait)


def _finish(
    delivery: Delivery,
    token: str,
    now: datetime,
    status: str,
    error: str,
    *,
    provider_id: str = "",
    http_status: int | None = None,
) -> Result:
    with transaction.atomic():
        fields: dict[str, str | int | datetime | None] = {
            "status": status,
            "last_error": error,
            "last_status": http_status,
            "provider_id": provider_id[:200],
        }
        if status == Status.SENT:
            fields["sent_at"] = now
        if not Delivery.objects.filter(pk=delivery.pk, claim_token=token).update(**fields):
            return Result("lease lost", error)  # too slow: another worker took the delivery over
        if not delivery.is_test and delivery.event_id is not None and status != Status.SILENCED:
            kind = eventlog.ALERT_DELIVERED if status == Status.SENT else eventlog.ALERT_FAILED
            data = {
                "delivery": delivery.pk,
                "channel": delivery.channel.name,
                "attempts": delivery.attempts,
                # What went out, for the live feed: the alerts' titles, never the channel's config.
                "titles": [str(a.get("title", "")) for a in delivery.alerts or []],
            }
            if status != Status.SENT:
                data["error"] = without_secrets(error, delivery.channel)
            eventlog.record(kind, data=data)
    return Result(status, error, provider_id=provider_id)


def without_secrets(text: str, channel: Channel) -> str:
    """The text with any of the channel's secret values masked: every staff member reads the event log, and a
    provider's reply or a library's error may echo a token back."""
    if channel.kind not in transports.KINDS:
        return text
    config = channel.config
    for key in transports.get(channel.kind).secret_fields:
        value = str(config.get(key) or "")
        if len(value) >= 4 and value in text:
            text = text.replace(value, mask(value))
    return text


def _log_attempt(delivery: Delivery, outcome: str, status, provider_id: str, error: str, took: float) -> None:
    # Never the config: webhook URLs and tokens are secrets. Transport errors name hosts, not URLs.
    log.info(
        "alert delivery %s to channel %s attempt %s: %s http=%s provider_id=%s %.0f ms %s",
        delivery.pk,
        delivery.channel_id,
        delivery.attempts,
        outcome,
        status,
        provider_id,
        took * 1000,
        error,
    )


def send_test(channel: Channel, now: datetime | None = None) -> Result:
    """One attempt with sample values, no retry (contract §10.6); a success re-enables the channel."""
    now = now or timezone.now()
    transport = transports.get(channel.kind)
    config = channel.config
    state = "resolved" if transport.is_noop(config, "firing") else "firing"
    title, text = texts.sample()
    alert = Alert(
        title, text, account="acct-42", pct=90, threshold=90, limit_type="5-hour", state=state, kind="test"
    )
    token = uuid.uuid4().hex
    delivery = Delivery.objects.create(
        channel=channel,
        is_test=True,
        alerts=[alert.to_json()],
        status=Status.SENDING,
        attempts=1,
        claimed_at=now,
        claim_token=token,
    )
    started = time.monotonic()
    try:
        sent = transport.send(config, Message((alert,), key=str(delivery.key)))
    except (TransportError, ConfigError) as exc:
        error = exc if isinstance(exc, TransportError) else TransportError(Outcome.PERMANENT, str(exc))
        error.message = without_secrets(error.message, channel)
        _log_attempt(
            delivery, str(error.outcome), error.status, "", error.message, time.monotonic() - started
        )
        text = describe(error).replace(", channel disabled", "")
        Channel.objects.filter(pk=channel.pk).update(last_error=text)
        return _finish(delivery, token, now, Status.FAILED, text, http_status=error.status)
    _log_attempt(delivery, "success", sent.status, sent.provider_id, "", time.monotonic() - started)
    Channel.objects.filter(pk=channel.pk).update(enabled=True, disabled_reason="", last_error="")
    return _finish(
        delivery, token, now, Status.SENT, "", provider_id=sent.provider_id, http_status=sent.status
    )
