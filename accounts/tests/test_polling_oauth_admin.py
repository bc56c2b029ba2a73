import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from accounts.credentials import load_oauth
from accounts.models import State
from accounts.services import account_create
from tests.fakes.claude_api import OAUTH_RATE_LIMITED, OAUTH_SCOPE, legacy_usage, limits_usage

from .helpers import oauth_account, poll, readings

pytestmark = pytest.mark.django_db(transaction=True)


def test_oauth_poll_sends_beta_header_and_stores_profile(fake):
    account = poll(oauth_account(fake, "olga", limits_usage(session=20)))
    assert account.state == State.OK
    usage = fake.requests_to("/api/oauth/usage")[0]
    assert usage.headers["anthropic-beta"] == "oauth-2025-04-20"
    assert usage.headers["authorization"].startswith("Bearer sk-ant-oat01-")
    assert account.account_email == "olga@example.com" and account.plan == "Max 20x"
    assert account.organization_name == "olga's org"
    assert readings(account)["session"].utilization == 20
    assert fake.token_calls == 0  # the access token was still good


def test_token_near_expiry_is_refreshed_and_the_rotated_refresh_token_stored(fake):
    account = oauth_account(fake, "rita", legacy_usage(), expires_in=timedelta(minutes=2))
    before = load_oauth(account.credential)
    account = poll(account)
    after = load_oauth(account.credential)
    assert account.state == State.OK
    assert fake.token_calls == 1
    assert len(fake.requests_to("oauth/token")) == 2  # the first configured URL 404s, the next one answers
    assert after.refresh_token != before.refresh_token and after.access_token != before.access_token
    assert after.expires_at > datetime.now(UTC) + timedelta(hours=7)
    token_request = fake.requests_to("/v1/oauth/token")[-1]
    assert json.loads(token_request.body)["grant_type"] == "refresh_token"
    # The stored token is the live one: the next refresh succeeds, nothing was reused.
    account.credential = json.dumps(
        {
            "access_token": after.access_token,
            "refresh_token": after.refresh_token,
            "expires_at": datetime.now(UTC).timestamp(),
        }
    )
    account.save(update_fields=["credential"])
    assert poll(account).state == State.OK
    assert fake.rejected_refreshes == 0


def test_invalid_access_token_is_refreshed_once(fake):
    account = oauth_account(fake, "ivan", legacy_usage(), access="sk-ant-oat01-revoked")
    account = poll(account)
    assert account.state == State.OK and fake.token_calls == 1


def test_reused_refresh_token_is_rejected_and_the_account_expires(fake):
    account = oauth_account(fake, "reuse", legacy_usage(), expires_in=timedelta(0))
    spent = load_oauth(account.credential).refresh_token
    poll(account)  # spends `spent`
    stale = oauth_account(fake, "reuse-copy", legacy_usage(), expires_in=timedelta(0), refresh=spent)
    stale = poll(stale)
    assert stale.state == State.EXPIRED and "invalid_grant" in stale.last_error
    assert stale.next_poll_at is None
    assert fake.rejected_refreshes >= 1


def test_missing_access_token_is_refreshed_and_never_sent_empty(fake):
    account = poll(oauth_account(fake, "blank", legacy_usage(), access=""))
    assert account.state == State.OK
    assert all(r.headers["authorization"] != "Bearer" for r in fake.requests_to("/api/oauth/"))


def test_token_without_profile_scope_is_invalid_and_paused(fake):
    account = poll(oauth_account(fake, "scope", OAUTH_SCOPE))
    assert account.state == State.INVALID and "scope" in account.last_error
    assert account.next_poll_at is None


def test_oauth_429_with_retry_after_zero_refreshes_then_escalates(fake):
    account = poll(oauth_account(fake, "busy", OAUTH_RATE_LIMITED))
    assert fake.token_calls == 1  # one refresh attempt
    assert account.state == State.RATE_LIMITED
    wait = account.next_poll_at - account.last_poll_at
    assert timedelta(minutes=29) < wait < timedelta(minutes=40)  # 30 min, not "retry now"


def test_oauth_429_cleared_by_a_fresh_token(fake):
    account = poll(oauth_account(fake, "clear", OAUTH_RATE_LIMITED, legacy_usage(3.0, 4.0)))
    assert account.state == State.OK and readings(account)["session"].utilization == 3.0


def _admin_data(today):
    first = today.replace(day=1)
    days = [first + timedelta(days=i) for i in range((today - first).days + 1)]
    cost = {
        d: [
            {"amount": "1000.00", "currency": "USD", "cost_type": "tokens", "model": "claude-sonnet-4"},
            {"amount": "250.50", "currency": "USD", "cost_type": "tokens", "model": "claude-opus-4"},
        ]
        for d in days
    }

    def item(email, cents):
        return {
            "actor": {"type": "user_actor", "email_address": email},
            "customer_type": "api",
            "date": f"{today}T00:00:00Z",
            "core_metrics": {"num_sessions": 1},
            "model_breakdown": [
                {
                    "model": "claude-sonnet-4",
                    "tokens": {"input": 1, "output": 1},
                    "estimated_cost": {"currency": "USD", "amount": cents},
                }
            ],
        }

    usage = {d: [item("a@x.com", 100), item("b@x.com", 50), item("a@x.com", 25)] for d in days}
    return days, cost, usage


def test_admin_api_sums_month_to_date_spend_over_all_pages(fake):
    today = datetime.now(UTC).date()
    days, cost, usage = _admin_data(today)
    fake.add_admin("sk-ant-admin01-key", cost_days=cost, claude_code=usage)
    account = poll(account_create(label="console", source="admin-api", credential="sk-ant-admin01-key"))
    assert account.state == State.OK
    result = account.snapshots.get().cost
    n = len(days)
    assert Decimal(result["month_to_date"]) == (Decimal("12.505") * n).quantize(Decimal("0.01"))
    assert result["per_user"] == {
        "a@x.com": str((Decimal(125) * n / 100).quantize(Decimal("0.01"))),
        "b@x.com": str((Decimal(50) * n / 100).quantize(Decimal("0.01"))),
    }
    assert Decimal(result["projected_month_end"]) >= Decimal(result["month_to_date"])
    assert Decimal(result["rate_per_day"]) > 0
    pages = fake.requests_to("/usage_report/claude_code") + fake.requests_to("/cost_report")
    assert any(r.query.get("page") == ["1"] for r in pages)  # followed next_page
    if len(days) > 2:
        assert any(r.query.get("page") for r in fake.requests_to("/cost_report"))
    assert all(r.headers["anthropic-version"] == "2023-06-01" for r in pages)


def test_admin_api_rejects_an_unknown_key(fake):
    account = poll(account_create(label="console", source="admin-api", credential="sk-ant-admin01-wrong"))
    assert account.state == State.EXPIRED
