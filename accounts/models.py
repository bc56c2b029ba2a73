"""Watched Claude accounts, their encrypted credentials, poll state and usage history."""

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


class AccountSettings(models.Model):
    """Runtime settings (one row), edited in the admin and read on every beat tick: no restart needed."""

    poll_interval_seconds = models.PositiveIntegerField(default=300)
    snapshot_retention = models.PositiveIntegerField(
        default=2016, help_text="Snapshots kept per account; older ones are deleted after each poll."
    )
    cookie_expiry_warn_days = models.PositiveIntegerField(default=7)
    cookie_lifetime_days = models.PositiveIntegerField(
        default=28, help_text="Usual lifetime of a claude.ai session cookie."
    )

    class Meta:
        verbose_name = verbose_name_plural = "polling settings"

    def __str__(self) -> str:
        return "Polling settings"

    @classmethod
    def load(cls) -> "AccountSettings":
        obj, _ = cls.objects.get_or_create(pk=1)
        return obj


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

    org_uuid = models.CharField(max_length=64, blank=True, help_text="Leave empty to pick the chat org.")
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
