"""Limiter writes: seats, codes, tokens, registration, sync. Each decides and writes; views only adapt.

/check and /count, the hot path, are in limiter/turns.py.
"""

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from config import attempts
from config.crypto import digest, new_token, random_code
from monitoring import eventlog

from . import alert_events, counters, engine, selectors
from .errors import InvalidCode, InvalidInput, TooManyAttempts
from .models import (
    CreditHold,
    Device,
    HookToken,
    InstallCode,
    Rule,
    Seat,
    SessionEvent,
    Team,
    UsageEvent,
)
from .turns import family_of, heard_from, publish_live
from .windows import local_instant

# --- seats -----------------------------------------------------------------------------------------


def team_current() -> Team:
    """The deployment's team, created with defaults on first use."""
    team = Team.objects.order_by("pk").first()
    return team if team is not None else Team.objects.create()


def seat_create(*, slug: str, name: str, email: str = "", team: Team | None = None) -> Seat:
    if Seat.objects.filter(slug=slug).exists():
        raise InvalidInput(f"A seat with the slug {slug!r} already exists.")
    seat = Seat(team=team or team_current(), slug=slug, name=name, email=email)
    seat.full_clean()
    seat.save()
    return seat


def seat_set_status(*, seat: Seat, status: str, by: str, now: datetime | None = None) -> bool:
    """Returns False when the seat already had that status."""
    if status not in engine.STATUSES:
        raise InvalidInput(f"Unknown status {status!r}; use one of {', '.join(engine.STATUSES)}.")
    now = now or timezone.now()
    with transaction.atomic():
        before = Seat.objects.filter(pk=seat.pk).values_list("status", flat=True).first()
        changed = Seat.objects.filter(pk=seat.pk, status=before).exclude(status=status).update(
            status=status, status_changed_at=now, status_changed_by=by[:150]
        )
        if changed:
            eventlog.record(
                eventlog.SEAT_STATUS,
                seat_id=seat.pk,
                actor=by,
                at=now,
                data={"seat": seat.name, "before": before, "after": status},
            )
    seat.refresh_from_db(fields=["status", "status_changed_at", "status_changed_by"])
    return bool(changed)


def rule_add(*, owner: Seat | Team, by: str = "", **fields) -> Rule:
    rule = Rule(**fields)
    if isinstance(owner, Seat):
        rule.seat = owner
    else:
        rule.team = owner
    if "position" not in fields:
        siblings = Rule.objects.filter(seat=rule.seat, team=rule.team).values_list("position", flat=True)
        rule.position = max(siblings, default=-1) + 1
    rule.full_clean()
    with transaction.atomic():
        rule.save()
        rules_changed_record(owner=owner, changes=[(None, str(rule))], by=by)
    return rule


def rules_changed_record(
    *, owner: Seat | Team, changes: list[tuple[str | None, str | None]], by: str
) -> None:
    """Logs rule edits (before → after as text; None when added or deleted) in the caller's transaction."""
    seat_id = owner.pk if isinstance(owner, Seat) else None
    name = str(owner) if isinstance(owner, Seat) else "team defaults"
    for before, after in changes:
        eventlog.record(
            eventlog.RULE_CHANGED,
            seat_id=seat_id,
            actor=by,
            data={"owner": name, "before": before, "after": after},
        )


def team_settings_changed_record(*, changes: dict[str, tuple[object, object]], by: str) -> None:
    """Logs team setting edits as {field: [before, after]} in the caller's transaction."""
    if changes:
        eventlog.record(
            eventlog.SETTING_CHANGED,
            actor=by,
            data={"scope": "team", "changes": {name: [b, a] for name, (b, a) in changes.items()}},
        )


def install_code_issue(*, seat: Seat, by: str = "", now: datetime | None = None) -> str:
    """A new single-use code; only its digest is stored, so this is the one time it can be shown."""
    now = now or timezone.now()
    code = f"CLM-{seat.slug[:8]}-{random_code()}"
    expires_at = now + timedelta(hours=seat.team.install_code_ttl_hours)
    with transaction.atomic():
        InstallCode.objects.create(
            seat=seat, code_hash=digest(code), created_by=by[:150], expires_at=expires_at
        )
        eventlog.record(
            eventlog.INSTALL_CODE_ISSUED,
            seat_id=seat.pk,
            actor=by,
            at=now,
            data={"seat": seat.name, "expires_at": expires_at.isoformat()},  # never the code itself
        )
    return code


def token_revoke(*, token: HookToken, by: str = "", now: datetime | None = None) -> None:
    now = now or timezone.now()
    with transaction.atomic():
        if HookToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=now):
            _token_revoked_record(token, by, now, rotated=False)


def _token_revoked_record(token: HookToken, by: str, now: datetime, *, rotated: bool) -> None:
    eventlog.record(
        eventlog.TOKEN_REVOKED,
        seat_id=token.seat_id,
        actor=by,
        at=now,
        data={"token": token.pk, "device": token.device_id, "rotated": rotated},
    )


def token_rotate(*, token: HookToken, by: str = "", now: datetime | None = None) -> str:
    """Replaces a live token with a new one for the same seat and device; the old one stops working."""
    now = now or timezone.now()
    fresh = new_token()
    with transaction.atomic():
        if not HookToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=now):
            raise InvalidInput("This token was already revoked.")
        HookToken.objects.create(seat_id=token.seat_id, device_id=token.device_id, token_hash=digest(fresh))
        _token_revoked_record(token, by, now, rotated=True)
    return fresh


# --- hook API --------------------------------------------------------------------------------------


def _check_register_rate(ip: str | None) -> None:
    window = settings.REGISTER_RATE_WINDOW_SECONDS
    # With Redis down the count falls back to this process: installing a machine must keep working.
    made = attempts.record(f"register-attempts:{ip or 'unknown'}", window, fallback=True)
    if made > settings.REGISTER_RATE_LIMIT:
        raise TooManyAttempts("Too many attempts", retry_after=window)


def register(*, code: str, ip: str | None, now: datetime | None = None) -> tuple[str, Seat]:
    """Redeems an install code for a new token. Unknown, used and expired codes look the same."""
    now = now or timezone.now()
    _check_register_rate(ip)
    code_hash = digest(code.strip())
    with transaction.atomic():
        claimed = InstallCode.objects.filter(
            code_hash=code_hash, used_at__isnull=True, expires_at__gt=now
        ).update(used_at=now)
        if claimed != 1:
            raise InvalidCode("Invalid or already used install code")
        install_code = InstallCode.objects.select_related("seat", "seat__team").get(code_hash=code_hash)
        token = new_token()
        HookToken.objects.create(seat=install_code.seat, token_hash=digest(token))
    return token, install_code.seat


@dataclass(frozen=True)
class DeviceInfo:
    hostname: str = ""
    platform: str = ""
    arch: str = ""
    os_version: str = ""
    client_version: str = ""
    claude_version: str = ""


def record_sync(
    *, token: HookToken, model: str, device: DeviceInfo, session_id: str, ip: str | None, now: datetime
) -> str:
    """Session start: remembers the device and the session; returns the model's family."""
    seat = token.seat
    family = family_of(seat.team, model)
    device_row = None
    if device.hostname:
        device_row, _ = Device.objects.update_or_create(
            seat=seat,
            hostname=device.hostname,
            defaults={
                "platform": device.platform,
                "arch": device.arch,
                "os_version": device.os_version,
                "client_version": device.client_version,
                "claude_version": device.claude_version,
                "last_ip": ip,
                "last_seen_at": now,
            },
        )
        if token.device_id != device_row.pk:
            HookToken.objects.filter(pk=token.pk).update(device=device_row)
            token.device = device_row
    Seat.objects.filter(pk=seat.pk).update(last_seen_at=now)
    seat.last_seen_at = now
    heard_from(token, now)
    start = SessionEvent.objects.create(
        seat=seat,
        device=device_row,
        kind=SessionEvent.SESSION_START,
        session_id=session_id,
        family=family,
        created_at=now,
    )
    publish_live(lambda: selectors.session_activity(start, seat, device_row.hostname if device_row else ""))
    return family


def prune_old_events(*, now: datetime | None = None) -> int:
    """Drops usage and session events past the team's retention; returns how many rows went."""
    now = now or timezone.now()
    removed = 0
    for team in Team.objects.all():
        # Whole local days go, so the usage counters of the days kept still equal their rows.
        first_kept = counters.window_day(now - timedelta(days=team.event_retention_days), team.tz)
        cutoff = local_instant(first_kept, time(0), team.tz)
        if team.counters_timezone == team.timezone:
            counters.prune_before(team, first_kept)
        removed += UsageEvent.objects.filter(seat__team=team, occurred_at__lt=cutoff).delete()[0]
        removed += SessionEvent.objects.filter(seat__team=team, created_at__lt=cutoff).delete()[0]
    # One deployment has one team (team_current); the log follows its retention.
    removed += eventlog.prune(retention_days=team_current().event_retention_days, now=now)
    CreditHold.objects.filter(expires_at__lte=now).delete()
    return removed + alert_events.prune(now)
