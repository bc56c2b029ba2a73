"""Limiter writes: seats, codes, tokens, sync, check, count. Each decides and writes; views only adapt."""

import uuid
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from config import attempts
from config.crypto import digest, new_token, random_code
from monitoring import broadcast, eventlog, feed

from . import admission, counters, engine, messages, selectors
from .errors import InvalidCode, InvalidInput, TooManyAttempts
from .families import UNKNOWN_DENY, resolve_family
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
from .windows import local_instant

TOUCH_INTERVAL = timedelta(seconds=60)
# A gap this long between calls of one machine is a silence the server can vouch for.
SILENCE_MIN = 2 * TOUCH_INTERVAL


def family_of(team: Team, model: object) -> str:
    return _resolve_family(team, model)[0]


def _resolve_family(team: Team, model: object) -> tuple[str, bool]:
    """(family, recognised): names are folded (NFKC, invisible characters, look-alikes) and an unknown
    one is charged by the team's policy, so no spelling of a model is cheaper than the model."""
    return resolve_family(
        model,
        extra_families=team.extra_families,
        aliases=team.model_aliases,
        weights=team.credit_weights,
        unknown_policy=team.unknown_model_policy,
    )


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


def _stale(moment: datetime | None, now: datetime) -> bool:
    return moment is None or now - moment >= TOUCH_INTERVAL


def _touch_seat(token: HookToken, now: datetime) -> None:
    # At most one write a minute per seat and token, however many checks arrive.
    seat = token.seat
    if _stale(seat.last_seen_at, now):
        Seat.objects.filter(pk=seat.pk).filter(
            Q(last_seen_at__isnull=True) | Q(last_seen_at__lte=now - TOUCH_INTERVAL)
        ).update(last_seen_at=now)
        seat.last_seen_at = now
    _heard_from(token, now)


def _heard_from(token: HookToken, now: datetime) -> None:
    """Notes that this machine reached us and, after a gap, the span in which it did not.

    `last_used_at` is written at most once a minute, so the machine's real last call before the gap was
    earlier than `last_used_at + TOUCH_INTERVAL`: the span recorded starts there and is wholly silence.
    Only turns claimed inside that span may be placed in the past (see `placement`).
    """
    if not _stale(token.last_used_at, now):
        return
    last = token.last_used_at or token.created_at
    fields: dict[str, datetime] = {"last_used_at": now}
    if last is not None and now - last >= SILENCE_MIN:
        fields.update(silent_from=last + TOUCH_INTERVAL, silent_until=now)
    HookToken.objects.filter(pk=token.pk).update(**fields)
    for name, value in fields.items():
        setattr(token, name, value)


def _touch_device(token: HookToken, ip: str | None, now: datetime) -> None:
    device = token.device
    if device is None:
        return
    if _stale(device.last_seen_at, now) or (ip and device.last_ip != ip):
        Device.objects.filter(pk=device.pk).update(last_seen_at=now, last_ip=ip or device.last_ip)


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
    _heard_from(token, now)
    start = SessionEvent.objects.create(
        seat=seat,
        device=device_row,
        kind=SessionEvent.SESSION_START,
        session_id=session_id,
        family=family,
        created_at=now,
    )
    _publish_live(lambda: selectors.session_activity(start, seat, device_row.hostname if device_row else ""))
    return family


def _publish_live(activity) -> None:
    """With Redis, dashboards hear of a hook API row after commit; without, the web process tails the log.

    `activity` is a callable so the embedded mode (and the hot path there) pays for no message at all.
    """
    if broadcast.crosses_processes():
        transaction.on_commit(lambda: broadcast.publish(feed.present_activity(activity())))


@dataclass(frozen=True)
class CheckOutcome:
    decision: engine.Decision
    rules: list[engine.RuleSpec]
    usage: engine.Usage


def decide_check(
    *,
    token: HookToken,
    model: str,
    session_id: str,
    project_dir: str,
    prompt_length: int | None,
    ip: str | None,
    now: datetime,
) -> CheckOutcome:
    """Before a prompt: allow or deny, and reserve the admitted turn against every count cap. Never counts."""
    seat, team = token.seat, token.seat.team
    family, recognised = _resolve_family(team, model)
    rules = selectors.effective_rules(seat)
    _touch_seat(token, now)
    _touch_device(token, ip, now)
    # The v1 PreToolUse recheck carries neither session nor prompt: a probe, not a prompt. It always
    # names `default`, so the deny policy for unknown names would keep a resumed v1 seat's tools blocked.
    if not session_id and prompt_length is None:
        return _decide(seat, rules, family, now, exclude_session=None)
    refuse = not recognised and team.unknown_model_policy == UNKNOWN_DENY
    refusal = messages.unknown_model(model) if refuse else None
    reserve = engine.reserves(rules, family, engine.credit_cost(family, team.credit_weights))
    with transaction.atomic():
        _relax_durability()
        if reserve:
            admission.lock_seat(seat)
        # Decided inside the transaction that writes the hold: with the seat locked, the next session's
        # check waits for this hold and sees it, so parallel sessions cannot all take the last turn.
        outcome = _decide(seat, rules, family, now, exclude_session=session_id or None, refusal=refusal)
        decision, usage = outcome.decision, outcome.usage
        if session_id or (reserve and decision.allowed):
            admission.replace_hold(
                seat, session_id or admission.anonymous_session(), family, decision, reserve, now
            )
        _record_prompt(token, session_id, family, project_dir, prompt_length, decision, now)
    return CheckOutcome(decision, rules, usage)


def _decide(seat, rules, family, now, *, exclude_session, refusal: str | None = None) -> CheckOutcome:
    usage = selectors.seat_usage(seat, now=now, rules=rules, exclude_session=exclude_session)
    decision = engine.evaluate(
        status=seat.status,
        seat_name=seat.name,
        rules=rules,
        family=family,
        usage=usage,
        weights=seat.team.credit_weights,
        tz=seat.team.tz,
        now=now,
    )
    # Killed and paused keep their own messages; otherwise an unknown model under `deny` is refused.
    if refusal and decision.allowed:
        decision = engine.Decision(False, refusal, cause=UNKNOWN_MODEL)
    return CheckOutcome(decision, rules, usage)


UNKNOWN_MODEL = "unknown_model"


def _relax_durability() -> None:
    """Holds and prompt events may lose their last moments in a database crash, never their integrity.

    Not waiting for the WAL flush takes the disk off /check's critical path; counts keep full durability.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")


def _record_prompt(token, session_id, family, project_dir, prompt_length, decision, now) -> None:
    common = {
        "seat": token.seat,
        "device_id": token.device_id,
        "session_id": session_id,
        "family": family,
        "project_dir": project_dir,
        "prompt_length": prompt_length,
        "created_at": now,
    }
    events = [SessionEvent(kind=SessionEvent.PROMPT, **common)]
    if not decision.allowed:
        events.append(SessionEvent(kind=SessionEvent.BLOCKED, reason=decision.reason or "", **common))
    SessionEvent.objects.bulk_create(events)
    if events[-1].pk is not None:  # the id needs RETURNING (PostgreSQL, SQLite 3.35+)
        _publish_live(lambda: selectors.session_activity(events[-1], token.seat))


@dataclass(frozen=True)
class TokenUsage:
    input_tokens: int = 0
    output_tokens: int = 0
    cache_creation_input_tokens: int = 0
    cache_read_input_tokens: int = 0


@dataclass(frozen=True)
class CountOutcome:
    duplicate: bool
    new_balance: int | None


def record_count(
    *,
    token: HookToken,
    model: str,
    session_id: str,
    response_length: int | None,
    event_id: uuid.UUID | None,
    client_timestamp: str,
    client_time: datetime | None,
    usage: TokenUsage | None,
    now: datetime,
) -> CountOutcome:
    """After a turn: one usage row. A repeated event_id records nothing (the unique constraint decides)."""
    seat, team = token.seat, token.seat.team
    family = family_of(team, model)
    cost = engine.credit_cost(family, team.credit_weights)
    # First, so that a replay arriving as the first call after an outage finds that outage recorded.
    _touch_seat(token, now)
    # Only the silence that this very reconnection ended: once the machine has been heard from again
    # since (a later write of last_used_at), an old gap is no excuse for a turn counted now.
    since, until = token.silent_from, token.silent_until
    current = since is not None and until is not None and token.last_used_at == until
    silence = (since, until) if current and since is not None and until is not None else None
    event = UsageEvent(
        seat=seat,
        device_id=token.device_id,
        family=family,
        model_raw=model[:255],
        credit_cost=cost,
        received_at=now,
        client_timestamp=client_timestamp[:64],
        event_id=event_id,
        session_id=session_id,
        response_length=response_length,
        input_tokens=usage.input_tokens if usage else None,
        output_tokens=usage.output_tokens if usage else None,
        cache_creation_input_tokens=usage.cache_creation_input_tokens if usage else None,
        cache_read_input_tokens=usage.cache_read_input_tokens if usage else None,
    )
    duplicate = False
    try:
        with transaction.atomic():
            hold = admission.take_hold(seat, session_id, now)
            event.occurred_at = admission.placement(
                received_at=now,
                client_time=client_time,
                has_event_id=event_id is not None,
                admitted_at=hold.created_at if hold else None,
                silence=silence,
            )
            event.save(force_insert=True)
            counters.add_turn(event, team)
            SessionEvent.objects.create(
                seat=seat,
                device_id=token.device_id,
                kind=SessionEvent.TURN_COMPLETE,
                session_id=session_id,
                family=family,
                response_length=response_length,
                created_at=now,
            )
    except IntegrityError:
        if event_id is None or not UsageEvent.objects.filter(seat=seat, event_id=event_id).exists():
            raise
        duplicate = True
    if not duplicate:
        _publish_live(lambda: selectors.usage_activity(event, seat))
    rules = selectors.effective_rules(seat)
    position = engine.tightest_credit_position(
        rules, selectors.seat_usage(seat, now=now, rules=rules, exclude_session=None)
    )
    return CountOutcome(duplicate=duplicate, new_balance=position.balance if position else None)


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
    return removed
