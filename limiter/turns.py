"""A turn's two hook calls, in front of every prompt: /check admits it (and reserves it), /count counts it.

Each decides and writes like the other services (limiter/services.py holds the rest); they are kept apart
because they are the hot path, measured in docs/perf.md: reads and writes here are a few hand-written
statements (counters.windows_usage, admission, statements), not ORM queries.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, connection, transaction
from django.db.models import Q

from monitoring import broadcast, feed

from . import admission, alert_events, counters, engine, selectors, statements
from .families import UNKNOWN_DENY, resolve_family
from .models import Device, HookToken, Seat, SessionEvent, Team, UsageEvent

TOUCH_INTERVAL = timedelta(seconds=60)
# A gap this long between calls of one machine is a silence the server can vouch for.
SILENCE_MIN = 2 * TOUCH_INTERVAL
EVENT_FIELDS = (
    "seat", "device", "kind", "session_id", "family", "project_dir", "prompt_length", "response_length",
    "reason", "created_at",
)  # fmt: skip
_USAGE_COLUMNS = [f for f in UsageEvent._meta.concrete_fields if not f.primary_key]
USAGE_FIELDS = tuple(f.name for f in _USAGE_COLUMNS)


def family_of(team: Team, model: object) -> str:
    return resolve(team, model)[0]


def resolve(team: Team, model: object) -> tuple[str, bool]:
    """(family, recognised): names are folded (NFKC, invisible characters, look-alikes) and an unknown
    one is charged by the team's policy, so no spelling of a model is cheaper than the model."""
    return resolve_family(
        model,
        extra_families=team.extra_families,
        aliases=team.model_aliases,
        weights=team.credit_weights,
        unknown_policy=team.unknown_model_policy,
    )


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
    heard_from(token, now)


def heard_from(token: HookToken, now: datetime) -> None:
    """Notes that this machine reached us and, after a gap, the span in which it did not.

    `last_used_at` is written at most once a minute, so the machine's real last call before the gap was
    earlier than `last_used_at + TOUCH_INTERVAL`: the span recorded starts there and is wholly silence.
    Only turns claimed inside that span may be placed in the past (see `admission.placement`).
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


def publish_live(activity) -> None:
    """With Redis, dashboards hear of a hook API row after commit; without, the web process tails the log.

    `activity` is a callable so the embedded mode (and the hot path there) pays for no message at all.
    """
    if broadcast.crosses_processes():
        transaction.on_commit(lambda: broadcast.publish(feed.present_activity(activity())))


# --- /check ----------------------------------------------------------------------------------------


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
    family, recognised = resolve(team, model)
    rules = selectors.effective_rules(seat)
    _touch_seat(token, now)
    _touch_device(token, ip, now)
    # The v1 PreToolUse recheck carries neither session nor prompt: a probe, not a prompt. It always
    # names `default`, so the deny policy for unknown names would keep a resumed v1 seat's tools blocked.
    if not session_id and prompt_length is None:
        return _decide(seat, rules, family, now, exclude_session=None)
    refuse = model if not recognised and team.unknown_model_policy == UNKNOWN_DENY else None
    reserve = engine.reserves(rules, family, engine.credit_cost(family, team.credit_weights))
    with transaction.atomic():
        admission.begin(seat, lock=reserve)
        # Decided inside the transaction that writes the hold: with the seat locked, the next session's
        # check waits for this hold and sees it, so parallel sessions cannot all take the last turn.
        outcome = _decide(seat, rules, family, now, exclude_session=session_id or None, refuse=refuse)
        decision = outcome.decision
        hold = None
        if session_id or (reserve and decision.allowed):
            hold = admission.hold_statement(
                seat, session_id or admission.anonymous_session(), family, decision, reserve, now
            )
        _record_prompt(token, session_id, family, project_dir, prompt_length, decision, now, hold)
        if not decision.allowed:
            alert_events.note_block(seat, rules, decision, now)
    return outcome


def _decide(seat, rules, family, now, *, exclude_session, refuse: str | None = None) -> CheckOutcome:
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
    if refuse is not None:
        decision = engine.refuse_unrecognised(decision, refuse)
    return CheckOutcome(decision, rules, usage)


def _record_prompt(token, session_id, family, project_dir, prompt_length, decision, now, hold) -> None:
    """The prompt's session event (and a blocked one after it), in the same statement as the session's
    hold on PostgreSQL (a data-modifying WITH); two statements on SQLite."""
    kinds = [(SessionEvent.PROMPT, "")]
    if not decision.allowed:
        kinds.append((SessionEvent.BLOCKED, decision.reason or ""))
    seat_id, device_id = token.seat.pk, token.device_id
    rows = [
        [seat_id, device_id, kind, session_id, family, project_dir, prompt_length, None, reason, now]
        for kind, reason in kinds
    ]
    inserted = statements.execute(_events_statement(rows), before=hold)
    if inserted:  # the id needs RETURNING (PostgreSQL, SQLite 3.35+)
        last_id = inserted[-1][0]
        kind, reason = kinds[-1]
        publish_live(
            lambda: selectors.session_activity(
                SessionEvent(
                    id=last_id, kind=kind, family=family, created_at=now, reason=reason,
                    project_dir=project_dir, session_id=session_id,
                ),
                token.seat,
            )
        )  # fmt: skip


def _events_statement(rows: list[list]) -> tuple[str, list]:
    """The INSERT of session events (values in EVENT_FIELDS order), returning their ids where it can."""
    returning = "id" if connection.features.can_return_rows_from_bulk_insert else ""
    sql = statements.insert(connection.vendor, SessionEvent, EVENT_FIELDS, len(rows), returning=returning)
    return sql, [value for row in rows for value in statements.prepared(SessionEvent, EVENT_FIELDS, row)]


# --- /count ----------------------------------------------------------------------------------------


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
            event.occurred_at = admission.placement(
                received_at=now,
                client_time=client_time,
                has_event_id=event_id is not None,
                admitted_at=admission.take_hold(seat, session_id, now),
                silence=silence,
            )
            turn_complete = _events_statement(
                [[seat.pk, token.device_id, SessionEvent.TURN_COMPLETE, session_id, family, "", None,
                  response_length, "", now]]
            )  # fmt: skip
            # A repeated event_id fails this statement on the unique constraint, before any counter moves.
            inserted = statements.execute(_usage_statement(event), before=turn_complete)
            if inserted:
                event.pk = inserted[0][0]
            counters.add_turn(event, team)
            alert_events.note_count(seat, event, now)
    except IntegrityError:
        if event_id is None or not UsageEvent.objects.filter(seat=seat, event_id=event_id).exists():
            raise
        duplicate = True
    if not duplicate and event.pk is not None:
        publish_live(lambda: selectors.usage_activity(event, seat))
    rules = selectors.effective_rules(seat)
    position = engine.tightest_credit_position(
        rules, selectors.seat_usage(seat, now=now, rules=rules, exclude_session=None)
    )
    return CountOutcome(duplicate=duplicate, new_balance=position.balance if position else None)


def _usage_statement(event: UsageEvent) -> tuple[str, list]:
    """The INSERT of a usage row, returning its id where it can (the live feed names rows by id)."""
    returning = "id" if connection.features.can_return_rows_from_bulk_insert else ""
    sql = statements.insert(connection.vendor, UsageEvent, USAGE_FIELDS, returning=returning)
    values = [getattr(event, field.attname) for field in _USAGE_COLUMNS]
    return sql, statements.prepared(UsageEvent, USAGE_FIELDS, values)
