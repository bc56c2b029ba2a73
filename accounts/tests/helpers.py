import json
import secrets
from datetime import UTC, datetime, timedelta

from accounts.models import ClaudeAccount
from accounts.services import account_create, account_poll


def new_cookie() -> str:
    return f"sk-ant-sid02-{secrets.token_urlsafe(24)}"


def cookie_account(fake, *replies, label: str | None = None, **create) -> tuple[ClaudeAccount, str]:
    key = new_cookie()
    fake.add_cookie(key, *replies)
    account = account_create(
        label=label or f"acct-{secrets.token_hex(3)}", source="cookie", credential=key, **create
    )
    return account, key


def oauth_account(
    fake,
    name: str,
    *replies,
    expires_in: timedelta = timedelta(hours=8),
    refresh=None,
    access=None,
    scopes: tuple = ("user:inference", "user:profile"),
) -> ClaudeAccount:
    fresh_access, fresh_refresh = fake.add_oauth(name, *replies, scopes=scopes)
    credential = {
        "claudeAiOauth": {
            "accessToken": fresh_access if access is None else access,
            "refreshToken": refresh or fresh_refresh,
            "expiresAt": int((datetime.now(UTC) + expires_in).timestamp() * 1000),
        }
    }
    return account_create(label=name, source="oauth", credential=json.dumps(credential))


def poll(account: ClaudeAccount) -> ClaudeAccount:
    account_poll(account_id=account.pk)
    account.refresh_from_db()
    return account


def readings(account: ClaudeAccount) -> dict:
    snapshot = account.snapshots.order_by("-taken_at").first()
    return {r.limit_type: r for r in snapshot.readings.all()} if snapshot else {}
