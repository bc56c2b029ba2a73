"""Secrets at rest: tokens and codes are stored as SHA-256 digests, compared by digest lookup."""

import hashlib
import secrets

CODE_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"  # no 0/o, 1/l/i: codes get typed by hand


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def new_token(prefix: str = "gvt_") -> str:
    return prefix + secrets.token_urlsafe(32)  # 256 random bits


def random_code(length: int = 10) -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(length))  # ~49 bits at 10 chars
