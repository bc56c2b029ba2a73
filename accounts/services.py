"""Writes for watched accounts: credentials, runtime settings, retention, key rotation.

Polling lives in `polling`; its entry points are re-exported here so adapters keep calling `services`."""

from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from monitoring import eventlog

from . import events
from .credentials import CredentialError, normalize
from .models import AccountSettings, ClaudeAccount, Source, State, UsageSnapshot, normalize_org_uuid
from .polling import PollResult, account_poll, accounts_poll_due, next_slot

__all__ = [
    "AccountError",
    "PollResult",
    "account_create",
    "account_poll",
    "account_set_credential",
    "account_settings_update",
    "accounts_poll_due",
    "credentials_rotate",
    "next_slot",
    "snapshots_prune",
]


class AccountError(ValueError):
    """Bad input for an account operation; the message is fit for the admin and the CLI."""


# --- credentials -------------------------------------------------------------------------------------------


def account_create(
    *, label: str, source: str, credential: str, org_uuid: str = "", cookie_issued_at: datetime | None = None
) -> ClaudeAccount:
    label = (label or "").strip()
    if not label:
        raise AccountError("A label is required.")
    if source not in Source.values:
        raise AccountError(f"Unknown source {source!r}; use one of: {', '.join(Source.values)}.")
    if ClaudeAccount.objects.filter(label=label).exists():
        raise AccountError(f"An account labelled {label!r} already exists.")
    org = ""
    if org_uuid.strip():
        org = normalize_org_uuid(org_uuid) or ""
        if not org:
            raise AccountError("The organisation must be a UUID (e.g. 1b4e28ba-2fa1-11d2-883f-0016d3cca427).")
    try:
        stored = normalize(source, credential)
    except CredentialError as exc:
        raise AccountError(str(exc)) from None
    now = timezone.now()
    return ClaudeAccount.objects.create(
        label=label,
        source=source,
        credential=stored,
        credential_updated_at=now,
        cookie_issued_at=(cookie_issued_at or now) if source == Source.COOKIE else None,
        org_uuid=org,
        org_pinned=bool(org),
        next_poll_at=now,
    )


def account_set_credential(
    *, account: ClaudeAccount, credential: str, cookie_issued_at: datetime | None = None
) -> ClaudeAccount:
    """A new credential: due at once, state back to 'new', org re-resolved unless the admin pinned it."""
    try:
        stored = normalize(account.source, credential)
    except CredentialError as exc:
        raise AccountError(str(exc)) from None
    now = timezone.now()
    previous = account.state
    account.credential = stored
    account.credential_version = F("credential_version") + 1
    account.credential_updated_at = now
    account.cookie_issued_at = (cookie_issued_at or now) if account.source == Source.COOKIE else None
    if not account.org_pinned:
        account.org_uuid = ""
    account.state, account.state_since, account.last_error = State.NEW, now, ""
    account.consecutive_failures = 0
    account.next_poll_at = now
    account.save(
        update_fields=[
            "credential",
            "credential_version",
            "credential_updated_at",
            "cookie_issued_at",
            "org_uuid",
            "state",
            "state_since",
            "last_error",
            "consecutive_failures",
            "next_poll_at",
        ]
    )
    account.refresh_from_db(fields=["credential_version"])
    if previous != State.NEW:
        events.publish(
            events.CredentialStateChanged(account.pk, account.label, str(previous), str(State.NEW), "")
        )
    return account


# --- runtime settings --------------------------------------------------------------------------------------


def account_settings_update(
    *,
    poll_interval_seconds: int,
    snapshot_retention: int,
    cookie_expiry_warn_days: int,
    cookie_lifetime_days: int,
    by: str = "",
) -> AccountSettings:
    """Applies on the next beat tick; accounts on their regular schedule move to the new interval.

    The model's validators are the one definition of each range (the admin form applies the same ones).
    What changed is logged (before → after) in the same transaction."""
    wanted = {
        "poll_interval_seconds": poll_interval_seconds,
        "snapshot_retention": snapshot_retention,
        "cookie_expiry_warn_days": cookie_expiry_warn_days,
        "cookie_lifetime_days": cookie_lifetime_days,
    }
    with transaction.atomic():
        current = AccountSettings.load()
        before = {name: getattr(current, name) for name in wanted}
        for name, value in wanted.items():
            setattr(current, name, value)
        try:
            current.full_clean()
        except ValidationError as exc:
            raise AccountError(" ".join(exc.messages)) from None
        current.save()
        diff = {name: [before[name], value] for name, value in wanted.items() if before[name] != value}
        if diff:
            data = {"scope": "accounts", "changes": diff}
            eventlog.record(eventlog.SETTING_CHANGED, actor=by[:150], data=data)
        if "poll_interval_seconds" in diff:
            step = poll_interval_seconds - before["poll_interval_seconds"]
            # Backed-off and paused accounts keep their own next try; healthy ones keep their grid (the slot
            # of their last poll) and step by the new interval from it.
            ClaudeAccount.objects.filter(
                consecutive_failures=0, last_poll_at__isnull=False, next_poll_at__isnull=False
            ).update(next_poll_at=F("next_poll_at") + timedelta(seconds=step))
    return current


def snapshots_prune() -> int:
    """Keep the newest `snapshot_retention` snapshots of every account; returns how many were deleted."""
    keep = AccountSettings.load().snapshot_retention
    deleted = 0
    for account_id in ClaudeAccount.objects.values_list("pk", flat=True):
        newest_first = UsageSnapshot.objects.filter(account_id=account_id).order_by("-taken_at")
        while stale := list(newest_first.values_list("pk", flat=True)[keep : keep + 1000]):
            deleted += UsageSnapshot.objects.filter(pk__in=stale).delete()[1].get("accounts.UsageSnapshot", 0)
    return deleted


def credentials_rotate() -> int:
    from config.crypto import rotate_all

    return rotate_all()
