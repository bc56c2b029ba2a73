"""Limiter services beyond the hook API: secrets at rest and event retention."""

import hashlib
from datetime import timedelta

from django.db import connection
from django.utils import timezone

from limiter import services
from limiter.models import CreditHold, HookToken, InstallCode, SessionEvent, UsageEvent

from .conftest import HookApi


def database_text() -> str:
    """Every value in the limiter tables, as text: what a leaked database dump would show."""
    chunks = []
    with connection.cursor() as cursor:
        for table in ("limiter_installcode", "limiter_hooktoken", "limiter_seat", "limiter_device"):
            cursor.execute(f"SELECT * FROM {table}")  # noqa: S608 - fixed table names
            chunks += [str(value) for row in cursor.fetchall() for value in row]
    return "\n".join(chunks)


def test_install_codes_and_tokens_are_stored_only_as_digests(live, alice):
    code = services.install_code_issue(seat=alice)
    token = HookApi(live).post("register", {"code": code}).json["auth_token"]

    dump = database_text()
    assert code not in dump
    assert token not in dump
    assert InstallCode.objects.get().code_hash == hashlib.sha256(code.encode()).hexdigest()
    assert HookToken.objects.get().token_hash == hashlib.sha256(token.encode()).hexdigest()


def test_install_codes_are_typable_and_unguessable(alice):
    codes = {services.install_code_issue(seat=alice) for _ in range(50)}
    assert len(codes) == 50
    for code in codes:
        prefix, slug, secret = code.split("-")
        assert (prefix, slug) == ("CLM", "alice")
        # ≥ 40 random bits from an alphabet without look-alike characters.
        assert len(secret) >= 9
        assert not set(secret) & set("01ilo")


def test_old_events_and_expired_holds_are_pruned_after_the_retention(alice):
    now = timezone.now()
    for age in (timedelta(days=91), timedelta(days=89)):
        UsageEvent.objects.create(
            seat=alice, family="opus", credit_cost=10, occurred_at=now - age, received_at=now - age
        )
        SessionEvent.objects.create(seat=alice, kind="prompt", created_at=now - age)
    for session, expiry in (("gone", now - timedelta(seconds=1)), ("open", now + timedelta(minutes=5))):
        CreditHold.objects.create(
            seat=alice, session_id=session, family="opus", cost=10, created_at=now, expires_at=expiry
        )

    assert services.prune_old_events(now=now) == 2

    assert UsageEvent.objects.get().occurred_at == now - timedelta(days=89)
    assert SessionEvent.objects.get().created_at == now - timedelta(days=89)
    assert CreditHold.objects.get().expires_at == now + timedelta(minutes=5)
