"""A Fernet key dropped before `rotate_keys`: pages and commands that do not show a credential keep working;
where one is needed, the message names FERNET_KEYS instead of a traceback."""

import pytest
from cryptography.fernet import Fernet
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.test import Client

from accounts.models import ClaudeAccount, State, UsageSnapshot, WindowReset
from accounts.services import account_poll
from monitoring import roles
from tests.fakes.claude_api import legacy_usage

from .helpers import cookie_account, poll

pytestmark = pytest.mark.django_db(transaction=True)


def _client(role: str) -> Client:
    user = get_user_model().objects.create_user(f"{role}-person", email=f"{role}@example.test")
    roles.role_apply(user=user, role=role)
    client = Client()
    client.force_login(user)
    return client


def _account_pages(account: ClaudeAccount) -> list[str]:
    snapshot = UsageSnapshot.objects.filter(account=account).first()
    reset = WindowReset.objects.create(
        account=account, limit_type="session", kind=WindowReset.Kind.RESET, detected_at=snapshot.taken_at
    )
    base = "/admin/accounts"
    return [
        f"{base}/claudeaccount/",
        f"{base}/claudeaccount/?state=ok",
        f"{base}/claudeaccount/{account.pk}/change/",
        f"{base}/claudeaccount/{account.pk}/delete/",
        f"{base}/usagesnapshot/",
        f"{base}/usagesnapshot/?account__id__exact={account.pk}",
        f"{base}/usagesnapshot/{snapshot.pk}/change/",
        f"{base}/windowreset/",
        f"{base}/windowreset/{reset.pk}/change/",
    ]


def test_admin_pages_never_decrypt_a_credential_they_do_not_show(fake, settings):
    account = poll(cookie_account(fake, legacy_usage(33.0, 22.0))[0])
    pages = _account_pages(account)
    admin = _client(roles.ADMIN)
    settings.FERNET_KEYS = [Fernet.generate_key().decode()]  # the key it was written with is gone
    for url in pages:
        response = admin.get(url)
        assert response.status_code == 200, url
    confirm = admin.get(f"/admin/accounts/claudeaccount/{account.pk}/delete/").content.decode()
    assert "1 usage snapshots" in confirm
    assert (
        admin.post(f"/admin/accounts/claudeaccount/{account.pk}/delete/", {"post": "yes"}).status_code == 302
    )
    assert not ClaudeAccount.objects.filter(pk=account.pk).exists()


def test_commands_name_fernet_keys_instead_of_a_traceback_when_a_key_is_dropped(fake, settings, capsys):
    account = poll(cookie_account(fake, legacy_usage(33.0, 22.0), label="lost")[0])
    settings.FERNET_KEYS = [Fernet.generate_key().decode()]
    call_command("accounts", "list")
    assert "lost" in capsys.readouterr().out
    with pytest.raises(CommandError, match="1 poll"):
        call_command("accounts", "poll", "lost")
    out = capsys.readouterr().out
    assert "lost: invalid" in out and "FERNET_KEYS" in out
    with pytest.raises(CommandError, match="FERNET_KEYS"):
        call_command("rotate_keys")
    assert ClaudeAccount.objects.get(pk=account.pk).state == State.INVALID


def test_a_polled_account_decrypts_only_where_the_credential_is_sent(fake, settings):
    account, key = cookie_account(fake, legacy_usage())
    loaded = ClaudeAccount.objects.get(pk=account.pk)
    assert "credential" in loaded.get_deferred_fields()
    assert ClaudeAccount.objects.with_credential().get(pk=account.pk).credential == key
    assert account_poll(account_id=account.pk).outcome == State.OK


@pytest.mark.parametrize("role", [roles.USER, roles.READONLY])
def test_limited_roles_can_view_an_account_page_without_an_error(fake, role):
    account = poll(cookie_account(fake, legacy_usage(33.0, 22.0))[0])
    client = _client(role)
    for url in _account_pages(account):
        if url.endswith("/delete/"):
            continue  # not theirs to delete: a 403 is the right answer
        response = client.get(url)
        assert response.status_code == 200, url
    page = client.get(f"/admin/accounts/claudeaccount/{account.pk}/change/").content.decode()
    assert "33%" in page and account.credential not in page
