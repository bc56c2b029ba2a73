"""Secrets at rest: tokens and codes are stored as SHA-256 digests; credentials as MultiFernet tokens."""

import functools
import hashlib
import secrets

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models

CODE_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"  # no 0/o, 1/l/i: codes get typed by hand


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def new_token(prefix: str = "gvt_") -> str:
    return prefix + secrets.token_urlsafe(32)  # 256 random bits


def random_code(length: int = 10) -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(length))  # ~49 bits at 10 chars


# --- Encryption at rest: credentials are Fernet tokens under settings.FERNET_KEYS (newest first) ---


class DecryptionError(Exception):
    """A stored secret cannot be read with the configured keys (a key was dropped before `rotate_keys`)."""


def _parse_keys(keys: "list[str] | tuple[str, ...]") -> "MultiFernet":
    if not keys:
        raise ImproperlyConfigured("FERNET_KEYS is empty: at least one Fernet key is required.")
    try:
        return MultiFernet([Fernet(key.strip().encode()) for key in keys])
    except (ValueError, TypeError) as exc:
        # Never echo the key itself.
        raise ImproperlyConfigured(
            "FERNET_KEYS holds a value that is not a urlsafe-base64 32-byte Fernet key."
        ) from exc


@functools.lru_cache(maxsize=4)
def _cipher(keys: tuple[str, ...]) -> "MultiFernet":
    return _parse_keys(keys)


def cipher() -> "MultiFernet":
    return _cipher(tuple(settings.FERNET_KEYS))


def encrypt(plaintext: str) -> str:
    return cipher().encrypt(plaintext.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return cipher().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise DecryptionError(
            "A stored secret cannot be decrypted with FERNET_KEYS; restore the key it was written with."
        ) from exc


class EncryptedTextField(models.TextField):
    """A text value stored as a Fernet token; Python code only ever sees the plaintext."""

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        return decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt(value)


def rotate_all() -> int:
    """Re-encrypt every EncryptedTextField value of every model with the newest key; returns rows written."""
    from django.apps import apps
    from django.db import transaction

    written = 0
    for model in apps.get_models():
        fields = [f.name for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)]
        if not fields:
            continue
        manager = model._base_manager
        with transaction.atomic():
            # Reading decrypts with any configured key; writing encrypts with the first (newest) one.
            for row in manager.values("pk", *fields).iterator():
                manager.filter(pk=row.pop("pk")).update(**row)
                written += 1
    return written
