import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection

from accounts.models import ClaudeAccount
from accounts.services import account_create
from config.crypto import DecryptionError

COOKIE = "sk-ant-sid02-secret-cookie-value"


def raw_credential(account_id: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT credential FROM accounts_claudeaccount WHERE id = %s", [account_id])
        return cursor.fetchone()[0]


@pytest.mark.django_db
def test_credential_is_encrypted_at_rest(settings):
    settings.FERNET_KEYS = [Fernet.generate_key().decode()]
    account = account_create(label="a", source="cookie", credential=COOKIE)
    stored = raw_credential(account.pk)
    assert COOKIE not in stored
    assert Fernet(settings.FERNET_KEYS[0].encode()).decrypt(stored.encode()).decode() == COOKIE
    assert ClaudeAccount.objects.get(pk=account.pk).credential == COOKIE


@pytest.mark.django_db
def test_rotate_keys_round_trip_survives_dropping_the_old_key(settings, capsys):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.FERNET_KEYS = [old]
    account = account_create(label="a", source="cookie", credential=COOKIE)
    oauth = account_create(
        label="b",
        source="oauth",
        credential='{"claudeAiOauth": {"accessToken": "sk-ant-oat01-x", "refreshToken": "sk-ant-ort01-y",'
        ' "expiresAt": 1738300000000}}',
    )
    settings.FERNET_KEYS = [new, old]  # add the new key first
    assert ClaudeAccount.objects.get(pk=account.pk).credential == COOKIE  # old rows still readable
    call_command("rotate_keys")
    assert "re-encrypted 2" in capsys.readouterr().out
    settings.FERNET_KEYS = [new]  # drop the old key
    assert ClaudeAccount.objects.get(pk=account.pk).credential == COOKIE
    assert "sk-ant-ort01-y" in ClaudeAccount.objects.get(pk=oauth.pk).credential
    Fernet(new.encode()).decrypt(raw_credential(account.pk).encode())


@pytest.mark.django_db
def test_dropping_a_key_before_rotating_fails_loudly_without_echoing_the_secret(settings):
    settings.FERNET_KEYS = [Fernet.generate_key().decode()]
    account = account_create(label="a", source="cookie", credential=COOKIE)
    settings.FERNET_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(DecryptionError) as caught:
        ClaudeAccount.objects.with_credential().get(pk=account.pk)
    assert "FERNET_KEYS" in str(caught.value) and COOKIE not in str(caught.value)
