"""Every failure the fake can produce is classified with a readable detail, and each Admin API report stands
on its own: what came back is recorded, what did not is named."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from accounts.models import State
from accounts.services import account_create
from tests.fakes.claude_api import (
    DENIED,
    NOT_FOUND_BARE,
    hang,
    legacy_usage,
    limits_usage,
    rate_limited_until,
    server_error,
)

from .helpers import cookie_account, oauth_account, poll, readings

pytestmark = pytest.mark.django_db(transaction=True)

ADMIN_KEY = "sk-ant-admin01-reports"


def _admin_account(fake):
    today = datetime.now(UTC).date()
    first = today.replace(day=1)
    days = [first + timedelta(days=i) for i in range((today - first).days + 1)]
    cost = {d: [{"amount": "1000.00", "currency": "USD", "cost_type": "tokens"}] for d in days}
    item = {
        "actor": {"type": "user_actor", "email_address": "dev@x.com"},
        "model_breakdown": [
            {"model": "claude-sonnet-4", "estimated_cost": {"currency": "USD", "amount": 40}}
        ],
    }
    fake.add_admin(ADMIN_KEY, cost_days=cost, claude_code={d: [item] for d in days})
    return account_create(label="console", source="admin-api", credential=ADMIN_KEY), len(days)


def test_a_missing_cost_report_keeps_the_claude_code_report_and_names_what_is_missing(fake):
    account, days = _admin_account(fake)
    fake.fail("/cost_report", NOT_FOUND_BARE)
    account = poll(account)
    assert account.state == State.OK
    cost = account.snapshots.get().cost
    assert cost["per_user"] == {"dev@x.com": str((Decimal(40) * days / 100).quantize(Decimal("0.01")))}
    assert "month_to_date" not in cost
    assert cost["missing"] == {"cost report": "unexpected HTTP 404: Not Found"}
    assert account.last_error == "cost report unavailable: unexpected HTTP 404: Not Found"
    assert len(fake.requests_to("/usage_report/claude_code")) >= days


def test_a_failing_claude_code_report_keeps_the_month_to_date_cost(fake):
    account, days = _admin_account(fake)
    fake.fail("/usage_report/claude_code", server_error(503))
    account = poll(account)
    assert account.state == State.OK
    cost = account.snapshots.get().cost
    assert Decimal(cost["month_to_date"]) == Decimal(10 * days).quantize(Decimal("0.01"))
    assert "per_user" not in cost
    assert "Claude Code usage report unavailable: upstream error (HTTP 503: Internal server error)" in (
        account.last_error
    )


def test_when_no_report_comes_back_the_poll_fails_naming_each(fake):
    account, _ = _admin_account(fake)
    fake.fail("/cost_report", NOT_FOUND_BARE)
    fake.fail("/usage_report/claude_code", server_error(500))
    account = poll(account)
    assert account.state == State.UPSTREAM_ERROR
    assert "cost report: unexpected HTTP 404: Not Found" in account.last_error
    assert "Claude Code usage report: upstream error (HTTP 500" in account.last_error
    assert not account.snapshots.exists()


def test_a_credential_failure_on_one_report_fails_the_poll_at_once(fake):
    account, _ = _admin_account(fake)
    fake.fail("/cost_report", DENIED)
    account = poll(account)
    assert account.state == State.DENIED and "Access to this resource is denied" in account.last_error
    assert not fake.requests_to("/usage_report/claude_code")  # the other report would fail alike


def test_a_hanging_report_is_unreachable(fake):
    account, _ = _admin_account(fake)
    fake.fail("/cost_report", hang(3))
    account = poll(account)
    assert account.state == State.UNREACHABLE and "timed out" in account.last_error


def test_a_denied_cookie_is_kept_and_retried_with_backoff(fake):
    account = poll(cookie_account(fake, DENIED)[0])
    assert account.state == State.DENIED
    assert account.last_error == "access denied (HTTP 403: Access to this resource is denied)"
    assert account.next_poll_at is not None and account.next_poll_at > account.last_poll_at


def test_an_error_without_a_body_still_reads_with_a_reason(fake):
    account, _ = cookie_account(fake, NOT_FOUND_BARE)
    account = poll(account)
    assert account.state == State.UPSTREAM_ERROR and account.last_error == "unexpected HTTP 404: Not Found"


def test_an_oauth_login_without_the_profile_scope_is_invalid_without_spending_a_refresh(fake):
    account = poll(oauth_account(fake, "setup-token", legacy_usage(), scopes=("user:inference",)))
    assert account.state == State.INVALID and "user:profile" in account.last_error
    assert account.next_poll_at is None and fake.token_calls == 0  # a new token has the same scopes


def test_a_hanging_token_endpoint_is_unreachable_and_keeps_the_refresh_token(fake):
    account = oauth_account(fake, "slowtoken", legacy_usage(), expires_in=timedelta(minutes=1))
    before = account.credential
    fake.fail("/oauth/token", hang(3))
    account = poll(account)
    assert account.state == State.UNREACHABLE and "timed out" in account.last_error
    account.refresh_from_db()
    assert account.credential == before


def test_oauth_rate_limit_with_an_http_date_waits_until_then_without_a_refresh(fake):
    until = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=3)
    account = poll(oauth_account(fake, "dated", rate_limited_until(until)))
    assert account.state == State.RATE_LIMITED
    assert account.last_error.startswith("rate limited (HTTP 429: Rate limited; retry after 1")
    assert account.next_poll_at >= until - timedelta(seconds=2)
    assert fake.token_calls == 0  # a known wait is honoured, not raced with a new token


def test_oauth_limits_only_body_with_warn_severity_and_spend_kind(fake):
    extra = (
        {
            "kind": "spend",
            "group": "spend",
            "percent": 30,
            "severity": "warn",
            "resets_at": None,
            "scope": None,
        },
    )
    account = poll(oauth_account(fake, "limits", limits_usage(55, 20, 91, legacy=False, extra_limits=extra)))
    assert account.state == State.OK
    found = readings(account)
    assert found["session"].utilization == 55 and found["weekly"].utilization == 20
    assert found["weekly:fable"].utilization == 91 and found["weekly:fable"].severity == "warning"
    assert found["spend"].severity == "warning" and found["spend"].utilization == 30
