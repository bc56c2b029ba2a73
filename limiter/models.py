import uuid
from zoneinfo import ZoneInfo, available_timezones

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from .engine import CREDITS, PER_MODEL, RULE_TYPES, STATUSES, TIME_OF_DAY, RuleSpec
from .families import UNKNOWN_AS_DEFAULT, UNKNOWN_COSTLIEST, UNKNOWN_DENY, is_valid_family
from .usage_models import (  # noqa: F401 - registered with the app and imported from here
    BlockNotice,
    CreditHold,
    PromptTally,
    PromptTallyMark,
    SeatAccount,
    SessionEvent,
    TalliedSession,
    UsageCounter,
    UsageEvent,
)
from .windows import WINDOWS

DEFAULT_WEIGHTS = {"opus": 10, "sonnet": 3, "haiku": 1, "default": 1}


def default_weights() -> dict[str, int]:
    return dict(DEFAULT_WEIGHTS)


def default_aliases() -> dict[str, str]:
    return {"best": "opus"}


def validate_timezone(value: str) -> None:
    if value not in available_timezones():
        raise ValidationError(f"{value!r} is not an IANA time zone (e.g. Europe/Berlin).")


def validate_weights(value: object) -> None:
    if not isinstance(value, dict):
        raise ValidationError('Credit weights must be an object such as {"opus": 10, "sonnet": 3}.')
    for family, weight in value.items():
        if not is_valid_family(str(family)):
            raise ValidationError(f"{family!r} is not a model family name (lowercase letters, digits, _).")
        if isinstance(weight, bool) or not isinstance(weight, int) or weight < 0:
            raise ValidationError(f"The weight of {family!r} must be a whole number ≥ 0.")


def validate_families(value: object) -> None:
    if not isinstance(value, list) or not all(isinstance(f, str) and is_valid_family(f) for f in value):
        raise ValidationError('Extra families must be a list of names such as ["fable"].')


def validate_aliases(value: object) -> None:
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and is_valid_family(v) for k, v in value.items()
    ):
        raise ValidationError('Aliases must map model names to families, e.g. {"best": "opus"}.')


class Team(models.Model):
    name = models.CharField(max_length=100, default="Team")
    timezone = models.CharField(
        max_length=64,
        default="UTC",
        validators=[validate_timezone],
        help_text="IANA zone; daily, weekly and monthly windows start at local midnight here.",
    )
    credit_weights = models.JSONField(
        default=default_weights,
        validators=[validate_weights],
        help_text="Credits a prompt costs per model family. 0 makes a family free; "
        "`default` prices families not listed.",
    )
    extra_families = models.JSONField(
        default=list,
        blank=True,
        validators=[validate_families],
        help_text='Model families besides opus, sonnet and haiku, e.g. ["fable"].',
    )
    model_aliases = models.JSONField(default=default_aliases, blank=True, validators=[validate_aliases])
    unknown_model_policy = models.CharField(
        max_length=10,
        choices=[
            (UNKNOWN_COSTLIEST, "Charge as the costliest family"),
            (UNKNOWN_AS_DEFAULT, "Charge as `default`"),
            (UNKNOWN_DENY, "Deny the prompt"),
        ],
        default=UNKNOWN_COSTLIEST,
        help_text="For model names that match no known family (opus, sonnet, haiku, the extra families and "
        "any family priced in the credit weights). A client can report any name, so charging unknown names "
        "as the costliest family keeps a made-up name from being cheaper than the real one.",
    )
    offline_grace_minutes = models.PositiveIntegerField(
        default=24 * 60,
        help_text="How long a client may keep enforcing from its cached rules while the server is away.",
    )
    hold_ttl_seconds = models.PositiveIntegerField(
        default=30 * 60, help_text="How long an admitted prompt reserves its credits."
    )
    install_code_ttl_hours = models.PositiveIntegerField(default=72)
    event_retention_days = models.PositiveIntegerField(default=90)
    # Bumped whenever a default rule changes, so processes can cache rules safely.
    rules_version = models.PositiveIntegerField(default=0, editable=False)
    # The zone the usage counters' local days are in; empty while they are out of date (see counters.py).
    counters_timezone = models.CharField(max_length=64, blank=True, default="", editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "team settings"
        verbose_name_plural = "team settings"

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        if self._state.adding:
            # A new team has no usage yet, so its (empty) counters are valid in its zone from the start.
            self.counters_timezone = self.timezone
            return super().save(*args, **kwargs)
        # Counters keyed by the old zone's days are wrong in a new one: invalidated here, rebuilt later.
        # counters_timezone is never written from a stale instance, only by the counters module.
        Team.objects.filter(pk=self.pk).exclude(timezone=self.timezone).update(counters_timezone="")
        fields = kwargs.pop("update_fields", None) or [
            f.name for f in self._meta.concrete_fields if not f.primary_key
        ]
        return super().save(*args, update_fields=[f for f in fields if f != "counters_timezone"], **kwargs)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class Seat(models.Model):
    ACTIVE, PAUSED, KILLED = STATUSES
    STATUS_CHOICES = [(s, s.capitalize()) for s in STATUSES]

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="seats")
    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=50, unique=True)
    email = models.EmailField(blank=True, help_text="Links the seat to a single sign-on user.")
    status = models.CharField(max_length=10, choices=STATUS_CHOICES, default=ACTIVE)
    status_changed_at = models.DateTimeField(null=True, blank=True)
    status_changed_by = models.CharField(max_length=150, blank=True)
    last_seen_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Bumped whenever one of the seat's rules changes, so processes can cache rules safely.
    rules_version = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=STATUSES), name="seat_status_valid"),
        ]
        permissions = [
            ("change_seat_status", "Can pause, resume, kill and reinstate seats"),
            ("issue_install_code", "Can issue install codes"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.slug})"


class Rule(models.Model):
    TYPE_CHOICES = [(PER_MODEL, "Per model"), (CREDITS, "Credits"), (TIME_OF_DAY, "Time of day")]
    WINDOW_CHOICES = [(w, w) for w in WINDOWS]

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.CASCADE, related_name="default_rules"
    )
    seat = models.ForeignKey(Seat, null=True, blank=True, on_delete=models.CASCADE, related_name="rules")
    type = models.CharField(max_length=12, choices=TYPE_CHOICES)
    model = models.CharField(
        max_length=32, blank=True, default="", help_text="Model family; empty means every family."
    )
    window = models.CharField(max_length=12, choices=WINDOW_CHOICES, blank=True, default="")
    value = models.IntegerField(null=True, blank=True, help_text="-1 unlimited, 0 blocked.")
    schedule_start = models.TimeField(null=True, blank=True)
    schedule_end = models.TimeField(null=True, blank=True)
    schedule_tz = models.CharField(max_length=64, blank=True, default="", validators=[validate_timezone])
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(team__isnull=True) & Q(seat__isnull=False))
                | (Q(team__isnull=False) & Q(seat__isnull=True)),
                name="rule_belongs_to_team_or_seat",
            ),
            models.CheckConstraint(condition=Q(type__in=RULE_TYPES), name="rule_type_valid"),
            models.CheckConstraint(
                condition=~Q(type__in=[PER_MODEL, CREDITS]) | (Q(window__in=WINDOWS) & Q(value__gte=-1)),
                name="rule_limit_has_window_and_value",
            ),
            models.CheckConstraint(
                condition=~Q(type=TIME_OF_DAY)
                | (
                    Q(schedule_start__isnull=False)
                    & Q(schedule_end__isnull=False)
                    & ~Q(schedule_start=models.F("schedule_end"))
                ),
                name="rule_schedule_complete",
            ),
        ]

    def __str__(self) -> str:
        return describe_rule(self.spec())

    def save(self, *args, **kwargs):
        if self.type == TIME_OF_DAY:
            self.window, self.value = "", None
            self.schedule_tz = self.schedule_tz or "UTC"
            for name in ("schedule_start", "schedule_end"):
                moment = getattr(self, name)
                if moment is not None:
                    setattr(self, name, moment.replace(second=0, microsecond=0))
        else:
            self.schedule_start = self.schedule_end = None
            self.schedule_tz = ""
        super().save(*args, **kwargs)
        self._bump_owner_version()

    def delete(self, *args, **kwargs):
        result = super().delete(*args, **kwargs)
        self._bump_owner_version()
        return result

    def _bump_owner_version(self) -> None:
        if self.seat_id is not None:
            Seat.objects.filter(pk=self.seat_id).update(rules_version=models.F("rules_version") + 1)
        elif self.team_id is not None:
            Team.objects.filter(pk=self.team_id).update(rules_version=models.F("rules_version") + 1)

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.model and not is_valid_family(self.model):
            errors["model"] = "A model family is lowercase letters, digits and _ (e.g. opus)."
        if self.type in (PER_MODEL, CREDITS):
            if not self.window:
                errors["window"] = "Choose a window."
            if self.value is None or self.value < -1:
                errors["value"] = "Enter a whole number: -1 unlimited, 0 blocked, or a limit."
        if self.type == CREDITS and self.model:
            errors["model"] = "A credits rule covers every model; leave the model empty."
        if self.type == TIME_OF_DAY:
            if self.schedule_start is None:
                errors["schedule_start"] = "Enter a start time (HH:MM)."
            if self.schedule_end is None:
                errors["schedule_end"] = "Enter an end time (HH:MM)."
            if self.schedule_start is not None and self.schedule_start == self.schedule_end:
                errors["schedule_end"] = "Start and end must differ."
        if errors:
            raise ValidationError(errors)

    def spec(self) -> RuleSpec:
        return RuleSpec(
            id=str(self.id),
            type=self.type,
            model=self.model or None,
            window=self.window or None,
            value=self.value,
            schedule_start=self.schedule_start,
            schedule_end=self.schedule_end,
            schedule_tz=self.schedule_tz or None,
        )

    def override_key(self) -> tuple:
        """Seat rules replace the team default with the same key."""
        return (self.type, self.model, self.window if self.type != TIME_OF_DAY else "")


def describe_rule(spec: RuleSpec) -> str:
    model = spec.model or "all models"
    if spec.type == TIME_OF_DAY:
        start, end = spec.schedule_start, spec.schedule_end
        return f"{model} only {start:%H:%M}-{end:%H:%M} {spec.schedule_tz}" if start and end else model
    value = "unlimited" if spec.value == -1 else spec.value
    if spec.type == CREDITS:
        return f"{value} credits {spec.window}"
    return f"{model}: {value} prompts {spec.window}"


class Device(models.Model):
    seat = models.ForeignKey(Seat, on_delete=models.CASCADE, related_name="devices")
    hostname = models.CharField(max_length=255)
    platform = models.CharField(max_length=255, blank=True)
    arch = models.CharField(max_length=255, blank=True)
    os_version = models.CharField(max_length=255, blank=True)
    client_version = models.CharField(max_length=255, blank=True)
    claude_version = models.CharField(max_length=255, blank=True)
    last_ip = models.GenericIPAddressField(null=True, blank=True)
    last_seen_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["seat", "hostname"], name="device_unique_hostname")]

    def __str__(self) -> str:
        return self.hostname


class InstallCode(models.Model):
    seat = models.ForeignKey(Seat, on_delete=models.CASCADE, related_name="install_codes")
    code_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.CharField(max_length=150, blank=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"install code for {self.seat.slug}"


class HookToken(models.Model):
    seat = models.ForeignKey(Seat, on_delete=models.CASCADE, related_name="tokens")
    device = models.ForeignKey(
        Device, null=True, blank=True, on_delete=models.SET_NULL, related_name="tokens"
    )
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    # The latest span in which this machine did not reach the server: only offline turns replayed with a
    # time inside it keep that time (hook API contract §3.4, placement).
    silent_from = models.DateTimeField(null=True, blank=True, editable=False)
    silent_until = models.DateTimeField(null=True, blank=True, editable=False)

    def __str__(self) -> str:
        return f"token {self.pk} of {self.seat.slug}"
