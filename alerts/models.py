"""Channels, subscriptions, threshold state, silences and deliveries (contract alert-transports §10).

A channel's config is one JSON document encrypted with the same MultiFernet as account credentials, so
`rotate_keys` re-encrypts it with everything else; it is validated by the channel kind's transport on save.
"""

import json
import uuid
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone

from config.crypto import EncryptedTextField

from . import quiet, transports
from .transports.base import ConfigError

DEFAULT_THRESHOLDS = [75, 90, 95]


def validate_thresholds(value) -> None:
    if not isinstance(value, list) or not value or not all(isinstance(t, int) for t in value):
        raise ValidationError("Thresholds are a list of whole percentages, e.g. [75, 90, 95].")
    if not all(1 <= t <= 100 for t in value):
        raise ValidationError("Each threshold is a percentage from 1 to 100.")


class AlertSettings(models.Model):
    """Runtime settings (one row), edited in the admin; read at every evaluation, so no restart is needed."""

    default_thresholds = models.JSONField(
        default=list,
        validators=[validate_thresholds],
        help_text="Thresholds for every limit type of subscriptions that set none, e.g. [75, 90, 95].",
    )

    class Meta:
        verbose_name = verbose_name_plural = "alert settings"

    def __str__(self) -> str:
        return "Alert settings"

    @classmethod
    def current_thresholds(cls) -> list[int]:
        row = cls.objects.filter(pk=1).first()
        return sorted(row.default_thresholds) if row and row.default_thresholds else DEFAULT_THRESHOLDS


class Channel(models.Model):
    kind = models.CharField(max_length=16, choices=transports.CHOICES)
    name = models.CharField(max_length=100, unique=True)
    # JSON, encrypted: webhook URLs carry their token, and keys and tokens are secrets (contract §7).
    config_blob = EncryptedTextField(default="")
    enabled = models.BooleanField(default=True)
    disabled_reason = models.TextField(blank=True)
    last_error = models.TextField(blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def config(self) -> dict:
        return json.loads(self.config_blob) if self.config_blob else {}

    def set_config(self, raw: dict) -> None:
        """Validates `raw` with the kind's transport and stores the cleaned config; ValidationError if bad."""
        if self.kind not in transports.KINDS:
            raise ValidationError({"kind": f"Unknown channel kind {self.kind!r}."})
        try:
            cleaned = transports.get(self.kind).validate(dict(raw))
        except ConfigError as exc:
            raise ValidationError({"config_blob": str(exc)}) from None
        self.config_blob = json.dumps(cleaned, sort_keys=True)

    def masked_config(self) -> dict:
        secret = set(transports.get(self.kind).secret_fields) if self.kind in transports.KINDS else set()
        shown = {}
        for key, value in self.config.items():
            text = value if isinstance(value, str) else json.dumps(value)
            shown[key] = transports.base.mask(text) if key in secret and value else value
        return shown

    def disable(self, reason: str) -> None:
        self.enabled, self.disabled_reason = False, reason
        Channel.objects.filter(pk=self.pk).update(enabled=False, disabled_reason=reason, last_error=reason)


class Subscription(models.Model):
    name = models.CharField(max_length=100)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    channels = models.ManyToManyField(Channel, related_name="subscriptions")
    account = models.ForeignKey(
        "accounts.ClaudeAccount",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        help_text="Empty: every account.",
    )
    thresholds = models.JSONField(
        default=dict,
        blank=True,
        help_text='Per limit type, e.g. {"session": [80, 95], "weekly": [90]}; "default" for the others. '
        "Empty: the thresholds of the alert settings (75/90/95 unless changed).",
    )
    enabled = models.BooleanField(default=True)
    notify_credentials = models.BooleanField(default=True, help_text="Expired or refused credentials.")
    notify_window_reset = models.BooleanField(default=False, help_text="A usage window reset (early too).")
    notify_credits = models.BooleanField(
        default=False, help_text="The account began spending paid usage credits this month."
    )
    notify_seats = models.BooleanField(
        default=False, help_text="A seat paused, killed or back (subscriptions to every account only)."
    )
    notify_seat_blocks = models.BooleanField(
        default=False,
        help_text="A seat was blocked: the first block per seat and window of the rule (subscriptions to "
        "every account only).",
    )
    notify_seat_credits = models.BooleanField(
        default=False,
        help_text="A seat reached the percentage below of a credit budget, once per budget window "
        "(subscriptions to every account only).",
    )
    seat_credit_pct = models.PositiveSmallIntegerField(
        default=80, help_text="For seat credit alerts: a multiple of 5 from 5 to 100."
    )
    notify_forecast = models.BooleanField(
        default=False, help_text="A window projected to hit 100% before it resets (once per window)."
    )
    send_resolved = models.BooleanField(default=False, help_text="Say when usage is back below a threshold.")
    cooldown = models.DurationField(default=timedelta(hours=4))
    repeat_interval = models.DurationField(null=True, blank=True, help_text="Remind while still above.")
    hysteresis = models.FloatField(default=5.0, help_text="Points below a threshold before it re-arms.")
    quiet_days = models.CharField(max_length=40, blank=True, help_text="e.g. mon-fri, sat,sun, daily.")
    quiet_start = models.TimeField(null=True, blank=True)
    quiet_end = models.TimeField(null=True, blank=True)
    quiet_tz = models.CharField(max_length=64, default="UTC", help_text="Zone of the quiet hours.")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if not isinstance(self.thresholds, dict):
            raise ValidationError({"thresholds": "A JSON object of limit type → list of percentages."})
        for limit_type, values in self.thresholds.items():
            try:
                validate_thresholds(values)
            except ValidationError as exc:
                raise ValidationError({"thresholds": f"{limit_type}: {exc.messages[0]}"}) from None
        if self.hysteresis is not None and not 0 <= self.hysteresis < 100:
            raise ValidationError({"hysteresis": "Hysteresis is 0 to 99 points."})
        for flag in ("notify_seats", "notify_seat_blocks", "notify_seat_credits"):
            if getattr(self, flag) and self.account_id is not None:
                raise ValidationError({flag: "Seats share every account: subscribe to every account."})
        # The limiter logs a budget's spend at each multiple of 5 % (limiter/alert_events.py).
        if self.seat_credit_pct is not None and not (
            5 <= self.seat_credit_pct <= 100 and self.seat_credit_pct % 5 == 0
        ):
            raise ValidationError({"seat_credit_pct": "A multiple of 5 from 5 to 100."})
        if (self.quiet_start is None) != (self.quiet_end is None):
            raise ValidationError(
                {"quiet_end": "Give both the start and the end of quiet hours, or neither."}
            )
        try:
            self.quiet_hours()
        except (ValueError, KeyError) as exc:
            raise ValidationError({"quiet_days": str(exc)}) from None

    def thresholds_for(self, limit_type: str, default: list[int]) -> tuple[int, ...]:
        chosen = self.thresholds.get(limit_type) or self.thresholds.get("default") or default
        return tuple(sorted(set(chosen)))

    def quiet_hours(self) -> quiet.QuietHours | None:
        if self.quiet_start is None or self.quiet_end is None:
            return None
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            zone = ZoneInfo(self.quiet_tz or "UTC")
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{self.quiet_tz!r} is not a time zone (e.g. Europe/Berlin).") from None
        return quiet.QuietHours(quiet.parse_days(self.quiet_days), self.quiet_start, self.quiet_end, zone)


class AlertState(models.Model):
    """One row per (subscription, account, limit type, threshold), contract §10.1.

    Credential health uses the same rows with limit_type "credential" and threshold 0; `condition` and
    `condition_since` remember a bad state that only alerts once it has lasted (Cloudflare, rate limits)."""

    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="states")
    account_id = models.BigIntegerField()
    limit_type = models.CharField(max_length=64)
    threshold = models.PositiveSmallIntegerField()
    state = models.CharField(max_length=8, default="armed")
    window_key = models.DateTimeField(null=True, blank=True)
    fired_at = models.DateTimeField(null=True, blank=True)
    notified = models.BooleanField(default=False)
    last_notified_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    last_pct = models.FloatField(null=True, blank=True)
    peak_pct = models.FloatField(null=True, blank=True)
    condition = models.CharField(max_length=20, blank=True)
    condition_since = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["subscription", "account_id", "limit_type", "threshold"], name="alert_state_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.subscription} #{self.account_id} {self.limit_type} {self.threshold}%: {self.state}"


class Silence(models.Model):
    account = models.ForeignKey(
        "accounts.ClaudeAccount", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    subscription = models.ForeignKey(Subscription, null=True, blank=True, on_delete=models.CASCADE)
    channel = models.ForeignKey(Channel, null=True, blank=True, on_delete=models.CASCADE)
    until = models.DateTimeField()
    reason = models.CharField(max_length=200)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-until"]
        constraints = [
            models.CheckConstraint(
                condition=Q(account__isnull=False) | Q(subscription__isnull=False) | Q(channel__isnull=False),
                name="silence_has_target",
            )
        ]

    def __str__(self) -> str:
        return f"{self.target()} until {self.until:%Y-%m-%d %H:%M}"

    def target(self) -> str:
        parts = [
            f"{label} {obj}"
            for label, obj in (
                ("account", self.account),
                ("subscription", self.subscription),
                ("channel", self.channel),
            )
            if obj is not None
        ]
        return ", ".join(parts) or "nothing"

    def clean(self) -> None:
        if not (self.account_id or self.subscription_id or self.channel_id):
            raise ValidationError("Choose an account, a subscription or a channel to silence.")
        if self.until and self.until <= timezone.now():
            raise ValidationError({"until": "A silence ends in the future."})


class Delivery(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "pending"
        SENDING = "sending", "sending"
        RETRY = "retry", "waiting to retry"
        SENT = "sent", "sent"
        FAILED = "failed", "failed"
        SILENCED = "silenced", "silenced"
        SUPERSEDED = "superseded", "superseded by a later alert"

    # Null only for "Send test" deliveries, which belong to no event.
    event = models.ForeignKey(
        "monitoring.Event", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="deliveries")
    # Stable across retries: Matrix txnId and the webhook's Idempotency-Key (contract §5, §6).
    key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    alerts = models.JSONField(default=list, help_text="The alerts this message carries.")
    is_test = models.BooleanField(default=False)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    deferred = models.BooleanField(default=False, help_text="Held back by quiet hours.")
    claimed_at = models.DateTimeField(null=True, blank=True)
    claim_token = models.CharField(max_length=32, blank=True, editable=False)
    last_error = models.TextField(blank=True)
    last_status = models.PositiveSmallIntegerField(null=True, blank=True)
    provider_id = models.CharField(max_length=200, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "deliveries"
        constraints = [models.UniqueConstraint(fields=["event", "channel"], name="delivery_event_channel")]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="delivery_due")]

    def __str__(self) -> str:
        return f"delivery {self.pk} to {self.channel_id}: {self.status}"

    def summary(self) -> str:
        titles = [a.get("title", "") for a in self.alerts]
        return "; ".join(titles)[:200]


class Cursor(models.Model):
    """How far the evaluator has read the event log; the row is locked while one worker evaluates.

    `gaps` holds ids below `last_id` that were not yet visible: a transaction that took an id earlier may
    commit later (PostgreSQL sequences), so such ids are looked at again for a while before giving up."""

    last_id = models.BigIntegerField(default=0)
    gaps = models.JSONField(default=dict, blank=True)
    evaluated_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"alert evaluator at event {self.last_id}"
