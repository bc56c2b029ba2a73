"""Watched Claude accounts, their encrypted credentials, poll state and usage history."""

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from config.crypto import EncryptedTextField


class Source(models.TextChoices):
    COOKIE = "cookie", "claude.ai session cookie"
    OAUTH = "oauth", "Claude Code OAuth token"
    ADMIN_API = "admin-api", "Anthropic Admin API key"


class State(models.TextChoices):
    """Credential health after the latest poll (contract §5)."""

    NEW = "new", "not polled yet"
    OK = "ok", "ok"
    EXPIRED = "expired", "credential expired or revoked"
    INVALID = "invalid", "credential lacks a required scope"
    DENIED = "denied", "access denied"
    BLOCKED = "blocked", "blocked by a Cloudflare challenge"
    RATE_LIMITED = "rate_limited", "rate limited"
    WRONG_ORG = "wrong_org", "wrong organisation"
    UPSTREAM_ERROR = "upstream_error", "upstream error"
    UNREACHABLE = "unreachable", "upstream unreachable"
    PARSE_ERROR = "parse_error", "unreadable response"


# Bounds of the runtime settings (issue 12): a typo must never schedule a poll in 3,000 years or overflow the
# database integer. The poll interval's lower bound is the deployment's ACCOUNTS_MIN_POLL_INTERVAL_SECONDS.
POLL_INTERVAL_MAX = 86_400  # one day
RETENTION_MAX = 100_000  # ~70 days at the one-minute minimum interval
COOKIE_LIFETIME_RANGE = (1, 365)
COOKIE_WARN_RANGE = (0, 90)


def _check_range(value, low: int, high: int, what: str) -> None:
    if value is None or not low <= value <= high:
        raise ValidationError(f"{what} must be between {low} and {high}.", code="out_of_range")


def validate_poll_interval(value: int) -> None:
    _check_range(
        value, settings.ACCOUNTS_MIN_POLL_INTERVAL_SECONDS, POLL_INTERVAL_MAX, "The poll interval (s)"
    )


def validate_retention(value: int) -> None:
    _check_range(value, 1, RETENTION_MAX, "Snapshots kept per account")


def validate_cookie_lifetime(value: int) -> None:
    _check_range(value, *COOKIE_LIFETIME_RANGE, "The cookie lifetime (days)")


def validate_cookie_warning(value: int) -> None:
    _check_range(value, *COOKIE_WARN_RANGE, "The warning lead (days)")


def poll_interval_range() -> str:
    return f"{settings.ACCOUNTS_MIN_POLL_INTERVAL_SECONDS}-{POLL_INTERVAL_MAX} s"


class AccountSettings(models.Model):
    """Runtime settings (one row), edited in the admin and read on every beat tick: no restart needed."""

    poll_interval_seconds = models.PositiveIntegerField(
        default=300,
        validators=[validate_poll_interval],
        help_text=f"Seconds between two polls of an account: ACCOUNTS_MIN_POLL_INTERVAL_SECONDS (60 unless "
        f"configured) to {POLL_INTERVAL_MAX} (one day).",
    )
    snapshot_retention = models.PositiveIntegerField(
        default=2016,
        validators=[validate_retention],
        help_text=f"Snapshots kept per account, 1-{RETENTION_MAX}; older ones are deleted by the prune task.",
    )
    cookie_expiry_warn_days = models.PositiveIntegerField(
        default=7,
        validators=[validate_cookie_warning],
        help_text=f"Warn this many days before a cookie's usual lifetime ends, {COOKIE_WARN_RANGE[0]}-"
        f"{COOKIE_WARN_RANGE[1]} and shorter than the lifetime.",
    )
    cookie_lifetime_days = models.PositiveIntegerField(
        default=28,
        validators=[validate_cookie_lifetime],
        help_text=f"Usual lifetime of a claude.ai session cookie, {COOKIE_LIFETIME_RANGE[0]}-"
        f"{COOKIE_LIFETIME_RANGE[1]} days.",
    )

    class Meta:
        verbose_name = verbose_name_plural = "polling settings"

    def __str__(self) -> str:
        return "Polling settings"

    def clean(self) -> None:
        warn, lifetime = self.cookie_expiry_warn_days, self.cookie_lifetime_days
        if warn is not None and lifetime is not None and warn >= lifetime:
            raise ValidationError(
                {
                    "cookie_expiry_warn_days": "The warning lead must be shorter than the lifetime "
                    f"({lifetime} days)."
                }
            )

    @classmethod
    def load(cls) -> "AccountSettings":
        obj, _ = cls.objects.get_or_create(pk=1)
        return obj

    @classmethod
    def current(cls) -> "AccountSettings":
        """The settings for reading: the defaults until someone saves them (selectors never write)."""
        return cls.objects.filter(pk=1).first() or cls(pk=1)


def validate_org_uuid(value: str) -> None:
    """Empty (pick the chat org) or a UUID; claude.ai answers anything else with a confusing 400."""
    if value and normalize_org_uuid(value) is None:
        raise ValidationError(
            "The organisation must be a UUID like 1b4e28ba-2fa1-11d2-883f-0016d3cca427, or empty.", code="org"
        )


def normalize_org_uuid(value: str) -> str | None:
    try:
        return str(uuid.UUID(value.strip()))
    except (ValueError, AttributeError):
        return None


class AccountQuerySet(models.QuerySet):
    def with_credential(self) -> "AccountQuerySet":
        """Rows with the credential decrypted: only the code that sends it upstream asks for this."""
        return self.defer(None)


class AccountManager(models.Manager.from_queryset(AccountQuerySet)):  # type: ignore[misc]
    """Leaves the credential encrypted in the database unless asked: pages, filters and commands that do
    not show it keep working when FERNET_KEYS lost the key it was written with."""

    def get_queryset(self) -> AccountQuerySet:
        return super().get_queryset().defer("credential")


class ClaudeAccount(models.Model):
    label = models.CharField(max_length=100, unique=True)
    source = models.CharField(max_length=16, choices=Source.choices)
    # Cookie: the sessionKey. OAuth: JSON {access_token, refresh_token, expires_at}. Admin API: the key.
    credential = EncryptedTextField()
    credential_version = models.PositiveIntegerField(default=1)
    credential_updated_at = models.DateTimeField(default=timezone.now)
    cookie_issued_at = models.DateTimeField(
        null=True, blank=True, help_text="When the session cookie was issued; defaults to when it was added."
    )
    enabled = models.BooleanField(default=True)

    org_uuid = models.CharField(
        max_length=64,
        blank=True,
        validators=[validate_org_uuid],
        help_text="The organisation's UUID; leave empty to pick the chat org.",
    )
    org_pinned = models.BooleanField(default=False, help_text="The admin chose the organisation.")

    account_name = models.CharField(max_length=200, blank=True)
    account_email = models.CharField(max_length=254, blank=True)
    organization_name = models.CharField(max_length=200, blank=True)
    plan = models.CharField(max_length=32, blank=True)
    rate_limit_tier = models.CharField(max_length=64, blank=True)

    state = models.CharField(max_length=20, choices=State.choices, default=State.NEW)
    state_since = models.DateTimeField(default=timezone.now)
    last_error = models.TextField(blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    last_poll_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    # None = paused until the credential changes (expired / missing scope).
    next_poll_at = models.DateTimeField(null=True, blank=True, default=timezone.now)
    lease_until = models.DateTimeField(null=True, blank=True)
    lease_owner = models.CharField(max_length=36, blank=True)

    created_at = models.DateTimeField(auto_now_add=True)

    objects = AccountManager()

    class Meta:
        ordering = ["label"]
        indexes = [models.Index(fields=["enabled", "next_poll_at"])]

    def __str__(self) -> str:
        return self.label


class UsageSnapshot(models.Model):
    account = models.ForeignKey(ClaudeAccount, on_delete=models.CASCADE, related_name="snapshots")
    taken_at = models.DateTimeField(db_index=True)
    raw = models.JSONField(help_text="The upstream JSON as received, unknown keys included.")
    unknown_keys = models.JSONField(default=list, blank=True)
    spend_used = models.DecimalField(max_digits=14, decimal_places=4, null=True, blank=True)
    spend_limit = models.DecimalField(max_digits=14, decimal_places=4, null=True, blank=True)
    spend_currency = models.CharField(max_length=8, blank=True)
    # Admin API: month-to-date cost totals, per-user spend, projection and rate.
    cost = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["-taken_at"]
        indexes = [models.Index(fields=["account", "-taken_at"])]

    def __str__(self) -> str:
        return f"{self.account} @ {self.taken_at:%Y-%m-%d %H:%M}"


class WindowReading(models.Model):
    """One window's value in one snapshot; utilization None means unknown, never 0 %."""

    snapshot = models.ForeignKey(UsageSnapshot, on_delete=models.CASCADE, related_name="readings")
    account = models.ForeignKey(ClaudeAccount, on_delete=models.CASCADE, related_name="readings")
    taken_at = models.DateTimeField()
    limit_type = models.CharField(max_length=64)
    label = models.CharField(max_length=100)
    utilization = models.FloatField(null=True, blank=True)
    resets_at = models.DateTimeField(null=True, blank=True)
    window_hours = models.FloatField(null=True, blank=True)
    severity = models.CharField(max_length=16, blank=True)
    is_active = models.BooleanField(null=True)

    class Meta:
        ordering = ["-taken_at", "limit_type"]
        indexes = [models.Index(fields=["account", "taken_at"])]

    def __str__(self) -> str:
        return f"{self.limit_type}={self.utilization}"


class WindowReset(models.Model):
    class Kind(models.TextChoices):
        RESET = "reset", "reset on schedule"
        EARLY = "early", "early reset"
        DRIFT = "drift", "resets_at moved"

    account = models.ForeignKey(ClaudeAccount, on_delete=models.CASCADE, related_name="resets")
    limit_type = models.CharField(max_length=64)
    kind = models.CharField(max_length=8, choices=Kind.choices)
    detected_at = models.DateTimeField()
    previous_resets_at = models.DateTimeField(null=True, blank=True)
    new_resets_at = models.DateTimeField(null=True, blank=True)
    previous_utilization = models.FloatField(null=True, blank=True)
    new_utilization = models.FloatField(null=True, blank=True)

    class Meta:
        ordering = ["-detected_at"]

    def __str__(self) -> str:
        return f"{self.account} {self.limit_type} {self.kind}"
