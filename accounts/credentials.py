"""Credential input: validation and normalisation per source (pure). Errors never quote the secret."""

import json
from dataclasses import dataclass
from datetime import UTC, datetime

from .models import Source


class CredentialError(ValueError):
    pass


@dataclass(frozen=True)
class OAuthTokens:
    access_token: str
    refresh_token: str
    expires_at: datetime | None

    def dumps(self) -> str:
        return json.dumps(
            {
                "access_token": self.access_token,
                "refresh_token": self.refresh_token,
                "expires_at": self.expires_at.timestamp() if self.expires_at else None,
            }
        )


def load_oauth(stored: str) -> OAuthTokens:
    data = json.loads(stored)
    expires = data.get("expires_at")
    return OAuthTokens(
        data.get("access_token") or "",
        data.get("refresh_token") or "",
        datetime.fromtimestamp(expires, tz=UTC) if expires else None,
    )


def normalize(source: str, raw: str) -> str:
    """The value to store for `source`, or CredentialError with a message fit for the admin and the CLI."""
    value = (raw or "").strip()
    if not value:
        raise CredentialError("The credential is empty.")
    if source == Source.COOKIE:
        value = value.removeprefix("sessionKey=").strip().strip(";")
        if not value.startswith("sk-ant-") or any(c.isspace() or c in ";," for c in value):
            raise CredentialError(
                "A claude.ai session cookie is the sessionKey value, starting with sk-ant-."
            )
        return value
    if source == Source.ADMIN_API:
        if not value.startswith("sk-ant-admin") or any(c.isspace() for c in value):
            raise CredentialError("An Anthropic Admin API key starts with sk-ant-admin.")
        return value
    if source == Source.OAUTH:
        return _normalize_oauth(value).dumps()
    raise CredentialError(f"Unknown source {source!r}; use cookie, oauth or admin-api.")


def _normalize_oauth(value: str) -> OAuthTokens:
    """Accepts Claude Code's .credentials.json, or {access_token, refresh_token, expires_at}."""
    try:
        data = json.loads(value)
    except ValueError:
        raise CredentialError(
            "An OAuth credential is JSON: Claude Code's .credentials.json or "
            '{"access_token": …, "refresh_token": …, "expires_at": …}.'
        ) from None
    if isinstance(data, dict) and isinstance(data.get("claudeAiOauth"), dict):
        data = data["claudeAiOauth"]
    if not isinstance(data, dict):
        raise CredentialError("The OAuth credential JSON must be an object.")
    access = data.get("access_token") or data.get("accessToken") or ""
    refresh = data.get("refresh_token") or data.get("refreshToken") or ""
    if not isinstance(access, str) or not isinstance(refresh, str) or not refresh.startswith("sk-ant-"):
        raise CredentialError("The OAuth credential needs a refresh token (sk-ant-ort01-…).")
    if access and not access.startswith("sk-ant-"):
        raise CredentialError("The OAuth access token must start with sk-ant-.")
    expires_at = None
    if data.get("expiresAt") is not None:  # Claude Code writes Unix milliseconds
        expires_at = _epoch(data["expiresAt"], 1000)
    elif data.get("expires_at") is not None:
        expires_at = _epoch(data["expires_at"], 1)
    return OAuthTokens(access, refresh, expires_at)


def _epoch(value, per_second: int) -> datetime:
    try:
        return datetime.fromtimestamp(float(value) / per_second, tz=UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        raise CredentialError("The OAuth expiry must be a Unix timestamp.") from None
