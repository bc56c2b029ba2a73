"""Credential input: validation and normalisation per source (pure). Errors never quote the secret."""

import codecs
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


_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def decode_file(data: bytes) -> str:
    """A credential file's text: UTF-8 (a BOM is dropped) or UTF-16 with a BOM, as Windows editors save it.

    Anything else is refused with where the first bad byte is, never with the file's content."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(encoding).lstrip("\ufeff")
            except UnicodeDecodeError:
                break
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CredentialError(
            f"The file is not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start}); "
            "save it as UTF-8 and try again."
        ) from None


def _clean(raw: str) -> str:
    # Copy-paste leaves a BOM, zero-width spaces, quotes and line breaks around a key; none is part of it.
    value = (raw or "").replace("\ufeff", "").replace("\u200b", "").strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        value = value[1:-1].strip()
    return value


def _token_problem(value: str, what: str) -> str:
    """Why a single-token credential is malformed, or "" when it is fine. Never quotes the value."""
    if any(c.isspace() for c in value):
        return (
            f"The {what} contains a space or line break inside it; paste the value on one line, nothing else."
        )
    if not value.isascii():
        return f"The {what} contains a non-ASCII character (a typographic quote or dash?); paste it again."
    return ""


def normalize(source: str, raw: str) -> str:
    """The value to store for `source`, or CredentialError with a message fit for the admin and the CLI."""
    value = _clean(raw)
    if not value:
        raise CredentialError("The credential is empty.")
    if source == Source.COOKIE:
        value = value.removeprefix("sessionKey=").strip().strip(";").strip()
        if any(c in ";," for c in value):
            raise CredentialError(
                "That looks like a whole cookie header: paste only the sessionKey value (sk-ant-sid…)."
            )
        if problem := _token_problem(value, "session cookie"):
            raise CredentialError(problem)
        if not value.startswith("sk-ant-"):
            raise CredentialError(
                "A claude.ai session cookie is the sessionKey value, starting with sk-ant-."
            )
        return value
    if source == Source.ADMIN_API:
        if problem := _token_problem(value, "Admin API key"):
            raise CredentialError(problem)
        if value.startswith("sk-ant-api"):
            raise CredentialError(
                "That is an ordinary API key (sk-ant-api…); the cost reports need an Admin API key "
                "(sk-ant-admin…), created by an organisation admin in the Console."
            )
        if not value.startswith("sk-ant-admin"):
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
    if not isinstance(access, str) or not isinstance(refresh, str):
        raise CredentialError("The OAuth tokens must be strings.")
    access, refresh = access.strip(), refresh.strip()
    if not refresh.startswith("sk-ant-"):
        raise CredentialError("The OAuth credential needs a refresh token (sk-ant-ort01-…).")
    if problem := _token_problem(access + refresh, "OAuth token"):
        raise CredentialError(problem)
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
