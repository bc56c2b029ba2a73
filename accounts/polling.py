"""Polling one account or every due one: lease → fetch → snapshot → state → schedule → events (contract §5-6).

The one writer of poll results; `services` re-exports the entry points."""

import logging
import random
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from config.crypto import DecryptionError
from monitoring import eventlog

from . import events
from .client import ClaudeClient, UpstreamError, get_client
from .credentials import OAuthTokens
from .fetching import Fetched, fetch
from .forecast import detect_reset
from .models import AccountSettings, ClaudeAccount, Source, State, UsageSnapshot, WindowReading, WindowReset
from .parsing import PayloadError, parse_usage

log = logging.getLogger(__name__)

# Failures after which the credential is known bad: no retry until someone changes it.
_PAUSING = {State.EXPIRED, State.INVALID}
_OAUTH_429_LADDER = [1800, 3600, 7200, 14400, 21600]  # contract §5 row 3: retry-after 0 means "unknown"


_UNDECRYPTABLE = (
    "the stored credential cannot be decrypted with FERNET_KEYS: restore the key it was written with, "
    "or enter the credential again"
)


@dataclass
class PollResult:
    account_id: int
    outcome: str  # a State value, or "busy" when another worker holds the lease
    error: str = ""
    snapshot_id: int | None = None


def _lease_length() -> timedelta:
    # Longer than the slowest poll (an Admin API month is one request per day plus pages, each up to the
    # timeout); only a crashed worker ever leaves a lease to expire by itself.
    worst = settings.ACCOUNTS_HTTP_TIMEOUT_SECONDS * 40 + sum(settings.ACCOUNTS_FRESH_401_RETRY_DELAYS)
    return timedelta(seconds=worst + 60)


def _claim(account_id: int, now: datetime, due_only: bool) -> str | None:
    owner = uuid.uuid4().hex
    candidates = ClaudeAccount.objects.filter(pk=account_id, enabled=True)
    if due_only:
        # Another poller may have finished this account since our due list was read.
        candidates = candidates.filter(next_poll_at__lte=now)
    claimed = candidates.filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now)).update(
        lease_until=now + _lease_length(), lease_owner=owner
    )
    return owner if claimed else None


def _release(account_id: int, owner: str) -> None:
    ClaudeAccount.objects.filter(pk=account_id, lease_owner=owner).update(lease_until=None, lease_owner="")


def _store_tokens(account: ClaudeAccount, tokens: OAuthTokens) -> None:
    """Persist a rotated refresh token at once: the old one is already spent upstream."""
    with transaction.atomic():
        stored = ClaudeAccount.objects.filter(
            pk=account.pk, credential_version=account.credential_version
        ).update(credential=tokens.dumps(), credential_version=F("credential_version") + 1)
    if stored:
        account.credential = tokens.dumps()
        account.credential_version += 1
    else:
        log.warning("account %s: credential replaced during a token refresh; keeping the admin's", account.pk)


def account_poll(
    *,
    account_id: int,
    due_only: bool = False,
    client: ClaudeClient | None = None,
    runtime: AccountSettings | None = None,
    preloaded: ClaudeAccount | None = None,
) -> PollResult:
    """Poll one account unless another worker holds its lease (or, with `due_only`, it is not due).

    `preloaded` saves a query when a tick has read the row already; the credential version check on every
    write keeps a stale copy harmless. Never raises for upstream trouble.
    """
    now = timezone.now()
    owner = _claim(account_id, now, due_only)
    if owner is None:
        return PollResult(account_id, "busy")
    recorded = False
    try:
        try:
            account = preloaded or ClaudeAccount.objects.with_credential().get(pk=account_id)
        except DecryptionError:
            version = ClaudeAccount.objects.values_list("credential_version", flat=True).get(pk=account_id)
            result = _record_failure(account_id, version, State.INVALID, _UNDECRYPTABLE, None)
            recorded = True
            return result
        fresh = account.last_success_at is None or account.last_success_at < account.credential_updated_at
        try:
            fetched = _fetch_with_fresh_retry(account, client or get_client(), fresh)
            parsed = parse_usage(fetched.payload) if fetched.payload is not None else None
        except UpstreamError as exc:
            result = _record_failure(
                account_id, account.credential_version, exc.kind, str(exc), exc.retry_after
            )
        except PayloadError as exc:
            result = _record_failure(
                account_id, account.credential_version, State.PARSE_ERROR, str(exc), None
            )
        else:
            result = _record_success(account, fetched, parsed, runtime or AccountSettings.load(), now)
        recorded = True
        return result
    finally:
        if not recorded:
            _release(account_id, owner)


def _fetch_with_fresh_retry(account: ClaudeAccount, client: ClaudeClient, fresh: bool) -> Fetched:
    delays = list(settings.ACCOUNTS_FRESH_401_RETRY_DELAYS) if fresh else []
    while True:
        try:
            return fetch(account, client, on_tokens=lambda tokens: _store_tokens(account, tokens))
        except UpstreamError as exc:
            if exc.kind != State.EXPIRED or not delays or account.source == Source.OAUTH:
                raise
            time.sleep(delays.pop(0))


def next_slot(due: datetime | None, started: datetime, interval: timedelta) -> datetime:
    """The account's next poll: the first slot of its grid (due + k·interval) after this poll started.

    Counting from the due time, not from when the poll finished, keeps the interval exact however late a tick
    picked the account up or long the poll took; missed slots (downtime) are skipped, not caught up. A poll
    ahead of schedule ("poll now") starts a new grid."""
    if due is None or due > started:
        return started + interval
    return due + ((started - due) // interval + 1) * interval


def _record_success(
    account: ClaudeAccount, fetched: Fetched, parsed, runtime: AccountSettings, started: datetime
) -> PollResult:
    """Snapshot, state and schedule in one transaction; the same write releases the lease."""
    now = timezone.now()
    interval = timedelta(seconds=runtime.poll_interval_seconds)
    previous_success = account.last_success_at
    fields = {
        **fetched.profile,
        "org_uuid": account.org_uuid if fetched.org_uuid is None else fetched.org_uuid,
        "state": State.OK,
        "state_since": account.state_since if account.state == State.OK else now,
        "last_error": "; ".join(fetched.warnings),
        "consecutive_failures": 0,
        "last_poll_at": now,
        "last_success_at": now,
        "next_poll_at": next_slot(account.next_poll_at, started, interval),
        "lease_until": None,
        "lease_owner": "",
    }
    with transaction.atomic():
        current = ClaudeAccount.objects.filter(pk=account.pk, credential_version=account.credential_version)
        if not current.update(**fields):
            # The credential was replaced while we polled with the old one: the new one is due now.
            ClaudeAccount.objects.filter(pk=account.pk).update(lease_until=None, lease_owner="")
            return PollResult(account.pk, "superseded")
        _transition(account, State.OK, "; ".join(fetched.warnings), now)
        previous = {}
        if previous_success is not None:
            previous = {
                r.limit_type: r
                for r in WindowReading.objects.filter(account_id=account.pk, taken_at=previous_success)
            }
        snapshot = UsageSnapshot.objects.create(
            account=account,
            taken_at=now,
            raw=fetched.raw,
            unknown_keys=parsed.unknown_keys if parsed else [],
            spend_used=parsed.spend_used if parsed else None,
            spend_limit=parsed.spend_limit if parsed else None,
            spend_currency=parsed.spend_currency if parsed else "",
            cost=fetched.cost,
        )
        readings = parsed.readings if parsed else []
        WindowReading.objects.bulk_create(
            [
                WindowReading(
                    snapshot=snapshot,
                    account=account,
                    taken_at=now,
                    limit_type=r.limit_type,
                    label=r.label,
                    utilization=r.utilization,
                    resets_at=r.resets_at,
                    window_hours=r.window_hours,
                    severity=r.severity,
                    is_active=r.is_active,
                )
                for r in readings
            ]
        )
        for reading in readings:
            _compare(account, previous.get(reading.limit_type), reading, now)
            if reading.resets_at is None and reading.utilization:
                log.info(
                    "account %s: %s has usage but no resets_at (dead session?)",
                    account.pk,
                    reading.limit_type,
                )
        events.publish(
            events.SnapshotRecorded(
                account.pk, account.label, snapshot.pk, now, {r.limit_type: r.utilization for r in readings}
            )
        )
    return PollResult(account.pk, State.OK, snapshot_id=snapshot.pk)


def _compare(account: ClaudeAccount, before: WindowReading | None, reading, now: datetime) -> None:
    if before is None:
        if reading.utilization is not None:
            events.publish(
                events.UtilizationChanged(
                    account.pk,
                    account.label,
                    reading.limit_type,
                    None,
                    reading.utilization,
                    reading.resets_at,
                )
            )
        return
    kind = detect_reset(before.resets_at, before.utilization, reading.resets_at, reading.utilization, now)
    if kind:
        WindowReset.objects.create(
            account=account,
            limit_type=reading.limit_type,
            kind=kind,
            detected_at=now,
            previous_resets_at=before.resets_at,
            new_resets_at=reading.resets_at,
            previous_utilization=before.utilization,
            new_utilization=reading.utilization,
        )
        events.publish(
            events.WindowResetDetected(
                account.pk, account.label, reading.limit_type, kind, before.resets_at, reading.resets_at
            )
        )
    if before.utilization != reading.utilization:
        events.publish(
            events.UtilizationChanged(
                account.pk,
                account.label,
                reading.limit_type,
                before.utilization,
                reading.utilization,
                reading.resets_at,
            )
        )


def _transition(account: ClaudeAccount, state: str, error: str, now: datetime) -> None:
    if account.state != state:
        events.publish(
            events.CredentialStateChanged(account.pk, account.label, str(account.state), str(state), error)
        )
        account.state, account.state_since = state, now
    account.last_error = error


def _backoff(failures: int) -> float:
    base = settings.ACCOUNTS_BACKOFF_BASE_SECONDS * 2 ** max(failures - 1, 0)
    # Jitter spreads retries of many accounts; not security-relevant.
    return min(base, 3600) * (1 + random.random() / 10)  # noqa: S311


def _record_failure(
    account_id: int, version: int, kind: str, error: str, retry_after: float | None
) -> PollResult:
    now = timezone.now()
    with transaction.atomic():
        account = ClaudeAccount.objects.defer("credential").get(pk=account_id)
        if account.credential_version != version:
            # The credential changed while we polled with the old one: its verdict says nothing now.
            ClaudeAccount.objects.filter(pk=account_id).update(lease_until=None, lease_owner="")
            return PollResult(account_id, account.state, error)
        failures = account.consecutive_failures + 1
        wait: float
        if kind in _PAUSING:
            next_poll = None
        elif kind == State.RATE_LIMITED:
            if retry_after is None:
                wait = _OAUTH_429_LADDER[min(failures, len(_OAUTH_429_LADDER)) - 1]
            else:
                wait = max(retry_after, _backoff(failures))
            next_poll = now + timedelta(seconds=wait)
        else:
            next_poll = now + timedelta(seconds=_backoff(failures))
        _transition(account, kind, error, now)
        account.consecutive_failures = failures
        account.last_poll_at = now
        account.next_poll_at = next_poll
        account.lease_until, account.lease_owner = None, ""
        account.save(
            update_fields=[
                "state",
                "state_since",
                "last_error",
                "consecutive_failures",
                "last_poll_at",
                "next_poll_at",
                "lease_until",
                "lease_owner",
            ]
        )
        data = {"label": account.label, "outcome": str(kind), "error": error}
        eventlog.record(eventlog.POLL_RESULT, account_id=account_id, at=now, data=data)
    log.warning("account %s (%s): poll failed: %s", account.pk, account.label, error)
    return PollResult(account_id, kind, error)


def _due(now: datetime):
    return (
        ClaudeAccount.objects.with_credential()
        .filter(enabled=True, next_poll_at__lte=now)
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .order_by("next_poll_at")
    )


def accounts_poll_due(*, now: datetime | None = None) -> list[PollResult]:
    """Poll every due account concurrently (bounded), so one slow account never delays the others."""
    due = _due(now or timezone.now())
    try:
        preloaded = {account.pk: account for account in due}
    except DecryptionError:
        # A credential no longer decrypts: load row by row so only that account is marked.
        preloaded = dict.fromkeys(due.values_list("pk", flat=True))
    if not preloaded:
        return []
    runtime = AccountSettings.load()
    with ThreadPoolExecutor(max_workers=min(settings.ACCOUNTS_POLL_CONCURRENCY, len(preloaded))) as pool:
        return list(pool.map(lambda item: _poll_in_thread(item[0], item[1], runtime), preloaded.items()))


def _poll_in_thread(account_id: int, account: ClaudeAccount | None, runtime: AccountSettings) -> PollResult:
    try:
        return account_poll(account_id=account_id, due_only=True, runtime=runtime, preloaded=account)
    except Exception:
        log.exception("account %s: poll crashed", account_id)
        return PollResult(account_id, "crashed")
    finally:
        connection.close()  # each pool thread has its own connection
