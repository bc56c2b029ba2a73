import logging
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection

from accounts import events
from accounts.models import ClaudeAccount, State, WindowReset
from accounts.services import account_poll, account_set_credential, snapshots_prune
from tests.fakes.claude_api import (
    CLOUDFLARE,
    EXPIRED,
    HTML_200,
    UNAUTHORIZED,
    Reply,
    legacy_usage,
    limits_usage,
    rate_limited,
    server_error,
)

from .helpers import cookie_account, new_cookie, poll, readings

pytestmark = pytest.mark.django_db(transaction=True)


def test_cookie_poll_picks_the_chat_org_and_stores_a_snapshot(fake, received):
    account, key = cookie_account(fake, legacy_usage(48.0, 64.0))
    account = poll(account)
    assert account.state == State.OK and account.last_error == ""
    assert account.plan == "Max 5x" and account.rate_limit_tier == "default_claude_max_5x"
    usage_calls = fake.requests_to("/usage")
    assert usage_calls[0].path == f"/api/organizations/{account.org_uuid}/usage"
    assert usage_calls[0].headers["cookie"] == f"sessionKey={key}"  # the session cookie only
    values = readings(account)
    assert values["session"].utilization == 48.0 and values["weekly"].utilization == 64.0
    assert values["weekly:sonnet"].utilization == 2.0
    assert account.snapshots.get().raw["seven_day_cowork"] is None  # raw JSON kept as received
    kinds = [type(e).__name__ for e in received]
    assert "SnapshotRecorded" in kinds and "CredentialStateChanged" in kinds
    changed = [e for e in received if isinstance(e, events.UtilizationChanged) and e.limit_type == "session"]
    assert changed[0].previous is None and changed[0].current == 48.0


def test_second_poll_reuses_the_stored_org(fake):
    account, _ = cookie_account(fake, legacy_usage())
    poll(account)
    poll(account)
    assert len(fake.requests_to("/api/organizations")) == 3  # one org listing, two usage calls
    assert account.snapshots.count() == 2


def test_limits_array_body_with_scoped_model_and_spend(fake):
    account, _ = cookie_account(fake, limits_usage(session=47, weekly=12, scoped=88))
    account = poll(account)
    values = readings(account)
    assert values["weekly:fable"].utilization == 88 and values["weekly:fable"].is_active is True
    snapshot = account.snapshots.get()
    assert str(snapshot.spend_used) == "83.2100" and snapshot.spend_currency == "USD"


def test_limits_only_body_from_upstream(fake):
    body = {"limits": limits_usage(session=30, weekly=40, scoped=50)["limits"]}
    account = poll(cookie_account(fake, body)[0])
    assert account.state == State.OK
    assert {k: r.utilization for k, r in readings(account).items()} == {
        "session": 30,
        "weekly": 40,
        "weekly:fable": 50,
    }


def test_unknown_keys_and_nulls_are_kept_and_never_shown_as_zero(fake):
    body = legacy_usage(0.0, 140, five_resets=False, tangelo={"utilization": 9}, amber_ladder=None)
    account, _ = cookie_account(fake, body)
    account = poll(account)
    assert account.state == State.OK
    values = readings(account)
    assert values["session"].utilization == 0.0 and values["session"].resets_at is None
    assert values["weekly"].utilization is None  # 140 % is not a percentage
    assert "weekly:cowork" not in values
    snapshot = account.snapshots.get()
    assert snapshot.unknown_keys == ["amber_ladder", "tangelo"] and snapshot.raw["tangelo"] == {
        "utilization": 9
    }


def test_expired_cookie_pauses_polling_and_keeps_last_values(fake, received):
    account, key = cookie_account(fake, legacy_usage(30.0, 40.0))
    poll(account)
    fake.revoke_cookie(key)
    account = poll(account)
    assert account.state == State.EXPIRED and "expired" in account.last_error
    assert account.next_poll_at is None  # nothing to retry until someone pastes a new cookie
    assert readings(account)["session"].utilization == 30.0
    change = [e for e in received if isinstance(e, events.CredentialStateChanged)][-1]
    assert (change.previous, change.current) == (State.OK, State.EXPIRED)


def test_fresh_cookie_that_401s_once_is_retried_before_calling_it_expired(fake):
    account, _ = cookie_account(fake, UNAUTHORIZED, legacy_usage(10.0, 20.0))
    account = poll(account)
    assert account.state == State.OK
    assert len(fake.requests_to("/usage")) == 2


def test_new_credential_makes_the_account_due_and_repicks_org(fake):
    account, _ = cookie_account(fake, EXPIRED)
    account = poll(account)
    assert account.state == State.EXPIRED
    _, new_key = cookie_account(fake, legacy_usage(5.0, 6.0))
    account = account_set_credential(account=account, credential=new_key)
    assert account.state == State.NEW and account.next_poll_at <= datetime.now(UTC) and account.org_uuid == ""
    account = poll(account)
    assert account.state == State.OK and readings(account)["session"].utilization == 5.0


def test_pinned_wrong_org_is_reported(fake):
    account, _ = cookie_account(fake, legacy_usage(), org_uuid="0a0a0a0a-0000-4000-8000-000000000000")
    account = poll(account)
    assert account.state == State.WRONG_ORG and "organization" in account.last_error


def test_malformed_org_uuid_is_a_wrong_org(fake):
    # Input refuses a non-UUID now; a row stored before that (or edited in the database) still classifies.
    account, _ = cookie_account(fake, legacy_usage())
    ClaudeAccount.objects.filter(pk=account.pk).update(org_uuid="not-a-uuid", org_pinned=True)
    assert poll(account).state == State.WRONG_ORG


def test_stale_org_is_resolved_again_once(fake):
    account, _ = cookie_account(fake, legacy_usage(11.0, 12.0))
    account.org_uuid = "0a0a0a0a-0000-4000-8000-000000000000"  # the org the cookie no longer belongs to
    account.save(update_fields=["org_uuid"])
    account = poll(account)
    assert account.state == State.OK and account.org_uuid != "0a0a0a0a-0000-4000-8000-000000000000"


def test_cloudflare_challenge_is_blocked_not_expired(fake):
    account, key = cookie_account(fake, legacy_usage(20.0, 30.0), CLOUDFLARE)
    poll(account)
    account = poll(account)
    assert account.state == State.BLOCKED and "Cloudflare" in account.last_error
    assert account.credential == key and account.next_poll_at > datetime.now(UTC)
    assert readings(account)["session"].utilization == 20.0


def test_html_page_with_200_is_blocked(fake):
    account, _ = cookie_account(fake, HTML_200)
    assert poll(account).state == State.BLOCKED


@pytest.mark.parametrize("retry_after", ["7200", "HTTP_DATE"])
def test_rate_limit_honours_retry_after(fake, retry_after):
    if retry_after == "HTTP_DATE":
        when = datetime.now(UTC) + timedelta(hours=2)
        retry_after = when.strftime("%a, %d %b %Y %H:%M:%S GMT")
    account, _ = cookie_account(fake, rate_limited(retry_after))
    account = poll(account)
    assert account.state == State.RATE_LIMITED
    assert account.next_poll_at >= datetime.now(UTC) + timedelta(minutes=118)


def test_persistent_rate_limit_backs_off_further_each_time(fake):
    account, _ = cookie_account(fake, rate_limited("1"))
    waits = []
    for _ in range(3):
        account = poll(account)
        waits.append((account.next_poll_at - account.last_poll_at).total_seconds())
    assert account.state == State.RATE_LIMITED and account.consecutive_failures == 3
    assert waits[0] < waits[1] < waits[2]


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_errors_are_upstream_errors_and_keep_the_credential(fake, status):
    account, _ = cookie_account(fake, server_error(status))
    account = poll(account)
    assert account.state == State.UPSTREAM_ERROR and str(status) in account.last_error
    assert account.next_poll_at is not None


def test_slow_upstream_times_out_as_unreachable(fake):
    account, _ = cookie_account(fake, Reply(200, legacy_usage(), delay=2.5))
    account = poll(account)
    assert account.state == State.UNREACHABLE and "timed out" in account.last_error


def test_json_without_known_keys_is_a_parse_error(fake):
    account, _ = cookie_account(fake, {"hello": "world"})
    assert poll(account).state == State.PARSE_ERROR


def test_detects_early_reset_and_drift_of_resets_at(fake, received):
    week_end = datetime.now(UTC) + timedelta(days=3)
    account, _ = cookie_account(
        fake,
        legacy_usage(40.0, 70.0, week_resets=week_end),
        legacy_usage(42.0, 71.0, week_resets=week_end + timedelta(hours=2)),  # drift
        legacy_usage(1.0, 0.0, week_resets=datetime.now(UTC) + timedelta(days=7)),  # early reset
    )
    for _ in range(3):
        poll(account)
    weekly = list(WindowReset.objects.filter(account=account, limit_type="weekly").order_by("detected_at"))
    assert [r.kind for r in weekly] == ["drift", "early"]
    assert weekly[1].previous_utilization == 71.0 and weekly[1].new_utilization == 0.0
    assert any(isinstance(e, events.WindowResetDetected) and e.kind == "early" for e in received)


def test_retention_keeps_the_newest_snapshots(fake):
    from accounts.models import AccountSettings

    AccountSettings.objects.update_or_create(pk=1, defaults={"snapshot_retention": 3})
    account, _ = cookie_account(fake, *[legacy_usage(float(i), 1.0) for i in range(5)])
    for _ in range(5):
        poll(account)
    other = poll(cookie_account(fake, legacy_usage())[0])
    assert snapshots_prune() == 2
    kept = list(account.snapshots.order_by("taken_at"))
    assert len(kept) == 3 and other.snapshots.count() == 1
    assert readings(account)["session"].utilization == 4.0


def test_a_held_lease_skips_the_poll(fake):
    account, _ = cookie_account(fake, legacy_usage())
    account.lease_until = datetime.now(UTC) + timedelta(minutes=5)
    account.save(update_fields=["lease_until"])
    assert account_poll(account_id=account.pk).outcome == "busy"
    assert fake.requests == []


def test_credentials_never_reach_logs_or_errors(fake, caplog):
    caplog.set_level(logging.DEBUG)
    secrets_seen = []
    for reply in (EXPIRED, CLOUDFLARE, rate_limited("5"), server_error(502), {"x": 1}):
        account, key = cookie_account(fake, reply)
        secrets_seen.append(key)
        account = poll(account)
        assert key not in account.last_error and key not in repr(account) and key not in str(account)
    assert not any(key in caplog.text for key in secrets_seen)


def test_a_credential_replaced_during_a_poll_wins(fake):
    account, _ = cookie_account(fake, Reply(200, legacy_usage(), delay=0.5))
    new_key = new_cookie()
    fake.add_cookie(new_key, legacy_usage(3.0, 4.0))

    def replace():
        time.sleep(0.2)
        account_set_credential(account=ClaudeAccount.objects.get(pk=account.pk), credential=new_key)
        connection.close()

    replacer = threading.Thread(target=replace)
    replacer.start()
    result = account_poll(account_id=account.pk)
    replacer.join()
    assert result.outcome == "superseded"
    account.refresh_from_db()
    assert account.state == State.NEW and account.credential == new_key
    assert account.next_poll_at <= datetime.now(UTC) and account.lease_until is None
    assert account.snapshots.count() == 0
    assert poll(account).state == State.OK
