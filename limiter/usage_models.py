"""What the seats did and what is derived from it: turns, session events, holds, counters, tallies, and which
account a seat used. Kept apart from the configuration models (limiter/models.py, which re-exports these)."""

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q


class UsageEvent(models.Model):
    seat = models.ForeignKey("limiter.Seat", on_delete=models.CASCADE, related_name="usage_events")
    device = models.ForeignKey("limiter.Device", null=True, blank=True, on_delete=models.SET_NULL)
    family = models.CharField(max_length=32)
    model_raw = models.CharField(max_length=255, blank=True)
    credit_cost = models.PositiveIntegerField()
    occurred_at = models.DateTimeField()
    received_at = models.DateTimeField()
    client_timestamp = models.CharField(max_length=64, blank=True)
    event_id = models.UUIDField(null=True, blank=True)
    session_id = models.CharField(max_length=255, blank=True)
    source = models.CharField(max_length=16, default="hook")
    response_length = models.PositiveIntegerField(null=True, blank=True)
    input_tokens = models.BigIntegerField(null=True, blank=True)
    output_tokens = models.BigIntegerField(null=True, blank=True)
    cache_creation_input_tokens = models.BigIntegerField(null=True, blank=True)
    cache_read_input_tokens = models.BigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-occurred_at"]
        indexes = [models.Index(fields=["seat", "occurred_at"], name="usage_seat_time")]
        constraints = [
            models.UniqueConstraint(
                fields=["seat", "event_id"],
                condition=Q(event_id__isnull=False),
                name="usage_event_id_once_per_seat",
            )
        ]

    def __str__(self) -> str:
        return f"{self.seat_id} {self.family} at {self.occurred_at:%Y-%m-%d %H:%M}"


class UsageCounter(models.Model):
    """A seat's counted turns of one local day (team zone) and family: what /check reads instead of rows.

    Kept by /count in the same transaction as the usage row, and equal to the aggregate of the rows
    (`manage.py rebuild_usage_counters` recomputes them).
    """

    seat = models.ForeignKey("limiter.Seat", on_delete=models.CASCADE, related_name="usage_counters")
    day = models.DateField()
    family = models.CharField(max_length=32)
    turns = models.PositiveIntegerField(default=0)
    credits = models.BigIntegerField(default=0)
    input_tokens = models.BigIntegerField(default=0)
    output_tokens = models.BigIntegerField(default=0)
    cache_creation_input_tokens = models.BigIntegerField(default=0)
    cache_read_input_tokens = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["seat", "day", "family"], name="usage_counter_one_per_day")
        ]

    def __str__(self) -> str:
        return f"{self.seat_id} {self.day} {self.family}: {self.turns}"


class SessionEvent(models.Model):
    SESSION_START, PROMPT, BLOCKED, TURN_COMPLETE = "session_start", "prompt", "blocked", "turn_complete"
    KIND_CHOICES = [(k, k) for k in (SESSION_START, PROMPT, BLOCKED, TURN_COMPLETE)]

    seat = models.ForeignKey("limiter.Seat", on_delete=models.CASCADE, related_name="session_events")
    device = models.ForeignKey("limiter.Device", null=True, blank=True, on_delete=models.SET_NULL)
    kind = models.CharField(max_length=16, choices=KIND_CHOICES)
    session_id = models.CharField(max_length=255, blank=True)
    family = models.CharField(max_length=32, blank=True)
    project_dir = models.CharField(max_length=255, blank=True)
    prompt_length = models.PositiveIntegerField(null=True, blank=True)
    response_length = models.PositiveIntegerField(null=True, blank=True)
    reason = models.TextField(blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["seat", "created_at"], name="session_event_seat_time")]

    def __str__(self) -> str:
        return f"{self.kind} {self.session_id}"


class CreditHold(models.Model):
    seat = models.ForeignKey("limiter.Seat", on_delete=models.CASCADE, related_name="credit_holds")
    session_id = models.CharField(max_length=255)
    family = models.CharField(max_length=32)
    cost = models.PositiveIntegerField()
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["seat", "expires_at"], name="hold_seat_expiry")]
        constraints = [
            models.UniqueConstraint(fields=["seat", "session_id"], name="hold_one_per_session"),
        ]

    def __str__(self) -> str:
        return f"hold {self.cost} for {self.session_id}"


class PromptTally(models.Model):
    """A seat's prompts, blocks and newly seen sessions in one UTC quarter-hour, rolled up from SessionEvent.

    Session rows are written at the server's clock and never change once their quarter-hour has passed,
    so the trends page sums these (a few rows per seat and hour) instead of scanning a million rows.
    `limiter.prompt_tally` keeps them up to `PromptTallyMark.until`; rows after it are read directly.
    """

    seat = models.ForeignKey("limiter.Seat", on_delete=models.CASCADE, related_name="prompt_tallies")
    quarter = models.BigIntegerField(help_text="Quarter-hours since 1970-01-01 UTC.")
    prompts = models.PositiveIntegerField(default=0)
    blocked = models.PositiveIntegerField(default=0)
    sessions = models.PositiveIntegerField(default=0, help_text="Sessions whose first prompt is in it.")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["seat", "quarter"], name="prompt_tally_one_per_quarter")
        ]
        # The trends page reads a range of quarters across every seat.
        indexes = [models.Index(fields=["quarter"], name="prompt_tally_quarter")]

    def __str__(self) -> str:
        return f"{self.seat_id} q{self.quarter}: {self.prompts}"


class TalliedSession(models.Model):
    """A session already counted in a PromptTally: its later prompts do not count it again."""

    seat = models.ForeignKey("limiter.Seat", on_delete=models.CASCADE, related_name="tallied_sessions")
    session_id = models.CharField(max_length=255)
    first_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["seat", "session_id"], name="tallied_session_once")]
        indexes = [models.Index(fields=["first_at"], name="tallied_session_first")]

    def __str__(self) -> str:
        return self.session_id


class PromptTallyMark(models.Model):
    """The one row saying how far the tallies go: session rows before `until` are in them, later ones not."""

    until = models.DateTimeField()

    def __str__(self) -> str:
        return f"tallied until {self.until}"


class SeatAccount(models.Model):
    """Which shared Claude account a seat's turns were spent on, from local day `since` up to `until`.

    Days of the team's zone, so a period covers whole usage counters. `account_id` is the watched account's
    id, not a foreign key: the limiter does not import the accounts app, and the history outlives an account.
    """

    seat = models.ForeignKey("limiter.Seat", on_delete=models.CASCADE, related_name="account_periods")
    account_id = models.BigIntegerField()
    since = models.DateField(help_text="First day (team time zone) on this account.")
    until = models.DateField(null=True, blank=True, help_text="First day off it; empty: still on it.")

    class Meta:
        ordering = ["seat", "-since"]
        constraints = [
            models.CheckConstraint(
                condition=Q(until__isnull=True) | Q(until__gt=models.F("since")), name="seat_account_period"
            )
        ]
        indexes = [models.Index(fields=["account_id", "since"], name="seat_account_by_account")]

    def __str__(self) -> str:
        return f"{self.seat_id} on account {self.account_id} from {self.since}"

    def clean(self) -> None:
        if self.until is not None and self.since is not None and self.until <= self.since:
            raise ValidationError({"until": "The period must end after it starts."})
        if self.seat_id is None or self.since is None:
            return
        others = SeatAccount.objects.filter(seat_id=self.seat_id).exclude(pk=self.pk)
        overlapping = others.filter(Q(until__isnull=True) | Q(until__gt=self.since))
        if self.until is not None:
            overlapping = overlapping.filter(since__lt=self.until)
        if overlapping.exists():
            raise ValidationError("A seat uses one account at a time: this period overlaps another one.")


class BlockNotice(models.Model):
    """The first block of a seat in one window of one rule, so that only that block enters the event log.

    Its unique key is what /check looks up when it denies: one indexed existence check per blocked prompt,
    nothing when a prompt is allowed (limiter/alert_events.py)."""

    seat = models.ForeignKey("limiter.Seat", on_delete=models.CASCADE, related_name="+")
    rule_key = models.CharField(max_length=64)
    window_start = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["seat", "rule_key", "window_start"], name="block_notice_once")
        ]

    def __str__(self) -> str:
        return f"{self.seat_id} blocked by {self.rule_key} from {self.window_start}"
