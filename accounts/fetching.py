"""One fetch per source (contract §2-4): which requests to make and what they mean. No database access;
rotated OAuth tokens are handed to `on_tokens` the moment they arrive."""

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation

from .client import ClaudeClient, UpstreamError
from .credentials import OAuthTokens, load_oauth
from .forecast import month_projection
from .models import ClaudeAccount, Source
from .parsing import member, plan_from_org, plan_from_profile

REFRESH_MARGIN = timedelta(minutes=5)


@dataclass
class Fetched:
    payload: object | None  # the /usage JSON to parse (None for the Admin API)
    raw: object
    profile: dict = field(default_factory=dict)  # ClaudeAccount field → value
    org_uuid: str | None = None
    cost: dict | None = None
    warnings: list[str] = field(default_factory=list)  # parts that did not come back, for last_error


def fetch(
    account: ClaudeAccount, client: ClaudeClient, *, on_tokens: Callable[[OAuthTokens], None]
) -> Fetched:
    if account.source == Source.COOKIE:
        return _cookie(account, client)
    if account.source == Source.OAUTH:
        return _oauth(account, client, on_tokens)
    return _admin(account, client)


def _resolve_org(client: ClaudeClient, session_key: str) -> tuple[str, dict]:
    orgs = client.organizations(session_key)
    if not orgs:
        raise UpstreamError("wrong_org", "the cookie belongs to no organisation")
    chosen = next((o for o in orgs if "chat" in (o.get("capabilities") or [])), orgs[0])
    profile = {
        "organization_name": str(chosen.get("name") or "")[:200],
        "rate_limit_tier": str(chosen.get("rate_limit_tier") or "")[:64],
    }
    if plan := plan_from_org(chosen):
        profile["plan"] = plan
    return chosen["uuid"], profile


def _cookie(account: ClaudeAccount, client: ClaudeClient) -> Fetched:
    key = account.credential
    org, profile = account.org_uuid, dict[str, str]()
    if not org:
        org, profile = _resolve_org(client, key)
    try:
        payload = client.cookie_usage(key, org)
    except UpstreamError as exc:
        if exc.kind != "wrong_org" or account.org_pinned:
            raise
        org, profile = _resolve_org(client, key)  # the stored org went stale: re-resolve once
        payload = client.cookie_usage(key, org)
    return Fetched(payload=payload, raw=payload, profile=profile, org_uuid=org)


def _oauth(account: ClaudeAccount, client: ClaudeClient, on_tokens: Callable[[OAuthTokens], None]) -> Fetched:
    tokens = load_oauth(account.credential)
    refreshed = False

    def refresh() -> None:
        nonlocal tokens, refreshed
        grant = client.refresh_token(tokens.refresh_token)
        tokens = OAuthTokens(grant.access_token, grant.refresh_token, grant.expires_at)
        on_tokens(tokens)
        refreshed = True

    if not tokens.access_token or (
        tokens.expires_at and tokens.expires_at - REFRESH_MARGIN <= datetime.now(UTC)
    ):
        refresh()
    try:
        payload = client.oauth_usage(tokens.access_token)
    except UpstreamError as exc:
        # An invalid access token, or a per-token 429 without a usable Retry-After, is cleared by a new token.
        retryable = exc.kind == "expired" or (exc.kind == "rate_limited" and exc.retry_after is None)
        if refreshed or not retryable:
            raise
        refresh()
        payload = client.oauth_usage(tokens.access_token)
    profile = _oauth_profile(client, tokens.access_token) if not account.account_email or refreshed else {}
    return Fetched(payload=payload, raw=payload, profile=profile)


def _oauth_profile(client: ClaudeClient, access_token: str) -> dict:
    try:
        body = client.oauth_profile(access_token)
    except UpstreamError:
        return {}  # usage worked; a missing profile is not worth failing the poll
    person = member(body, "account", dict, {})
    org = member(body, "organization", dict, {})
    profile = {
        "account_name": str(person.get("display_name") or person.get("full_name") or "")[:200],
        "account_email": str(person.get("email") or "")[:254],
        "organization_name": str(org.get("name") or "")[:200],
        "rate_limit_tier": str(org.get("rate_limit_tier") or "")[:64],
    }
    if plan := plan_from_profile(org.get("organization_type"), org.get("rate_limit_tier")):
        profile["plan"] = plan
    return {k: v for k, v in profile.items() if v}


def _cents(value) -> Decimal:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return Decimal(0)


# A report failing this way says nothing about the other reports: record it as missing and go on. Anything
# else (credential, rate limit, network, Cloudflare) would fail every report alike: the poll fails at once.
COST_REPORT = "cost report"
CLAUDE_CODE_REPORT = "Claude Code usage report"
_REPORT_LEVEL = {"upstream_error", "parse_error"}


def _report(name: str, missing: dict[str, str], call: Callable[[], list]) -> list | None:
    try:
        return call()
    except UpstreamError as exc:
        if exc.kind not in _REPORT_LEVEL:
            raise
        missing[name] = str(exc)
        return None


def _admin(account: ClaudeAccount, client: ClaudeClient) -> Fetched:
    """Month-to-date cost and per-user Claude Code spend; each report stands alone (issue 12 point 6)."""
    key = account.credential
    now = datetime.now(UTC)
    month_start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    missing: dict[str, str] = {}
    buckets = _report(COST_REPORT, missing, lambda: client.cost_report(key, month_start, now))
    items = _report(CLAUDE_CODE_REPORT, missing, lambda: _claude_code_month(client, key, month_start, now))
    if buckets is None and items is None:
        raise UpstreamError(
            "upstream_error",
            "no Admin API report came back: " + "; ".join(f"{n}: {e}" for n, e in missing.items()),
        )
    cost: dict = {"currency": "USD", "missing": missing}
    if buckets is not None:
        total = _cost_total(buckets) / 100
        projection = month_projection(total, now)
        cost |= {
            "month_to_date": _money(total),
            "rate_per_day": _money(projection.rate_per_day),
            "projected_month_end": _money(projection.projected),
        }
    if items is not None:
        cost["per_user"] = {who: _money(cents / 100) for who, cents in sorted(_per_user(items).items())}
    warnings = [f"{name} unavailable: {error}" for name, error in missing.items()]
    raw = {"cost_report": buckets, "claude_code": items}
    return Fetched(payload=None, raw=raw, cost=cost, warnings=warnings)


def _money(amount: Decimal) -> str:
    return str(amount.quantize(Decimal("0.01")))


def _claude_code_month(client: ClaudeClient, key: str, month_start: datetime, now: datetime) -> list:
    """One request per day (the report takes a single day); a failing day fails the report."""
    items: list = []
    day = month_start.date()
    while day <= now.date():
        items.extend(item for item in client.claude_code_usage(key, day) if isinstance(item, dict))
        day += timedelta(days=1)
    return items


def _cost_total(buckets: list) -> Decimal:
    return sum(
        (
            _cents(r.get("amount"))
            for b in buckets
            if isinstance(b, dict)
            for r in (b.get("results") or [])
            if isinstance(r, dict)
        ),
        Decimal(0),
    )


def _per_user(items: list) -> dict[str, Decimal]:
    per_user: dict[str, Decimal] = defaultdict(Decimal)
    for item in items:
        actor = member(item, "actor", dict, {})
        who = actor.get("email_address") or actor.get("api_key_name") or "unknown"
        for model in item.get("model_breakdown") or []:
            cost = model.get("estimated_cost") if isinstance(model, dict) else None
            if isinstance(cost, dict):
                per_user[str(who)] += _cents(cost.get("amount"))
    return per_user
