import json
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from accounts.models import AccountSettings, ClaudeAccount, State
from accounts.services import account_poll
from config.celery import app as celery_app
from tests.fakes.claude_api import EXPIRED, legacy_usage

from .helpers import cookie_account, new_cookie, poll

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def staff_client(client):
    user = get_user_model().objects.create_superuser("root", "root@example.com", "pw")
    client.force_login(user)
    return client


@pytest.fixture
def eager_celery():
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = False


def test_admin_adds_an_account_polls_it_and_never_shows_the_credential(fake, staff_client, eager_celery):
    key = new_cookie()
    fake.add_cookie(key, legacy_usage(33.0, 44.0))
    response = staff_client.post(
        "/admin/accounts/claudeaccount/add/",
        {
            "label": "team-max",
            "source": "cookie",
            "new_credential": key,
            "enabled": "on",
            "org_uuid": "",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    account = ClaudeAccount.objects.get(label="team-max")
    assert account.state == State.OK and account.credential == key
    page = staff_client.get(f"/admin/accounts/claudeaccount/{account.pk}/change/").content.decode()
    assert key not in page
    assert "33%" in page and "Max 5x" in page
    listing = staff_client.get("/admin/accounts/claudeaccount/").content.decode()
    assert key not in listing and "5-hour 33%" in listing


def test_admin_rejects_a_malformed_credential_with_a_readable_error(staff_client):
    response = staff_client.post(
        "/admin/accounts/claudeaccount/add/",
        {
            "label": "bad",
            "source": "cookie",
            "new_credential": "not-a-cookie",
            "enabled": "on",
        },
    )
    assert response.status_code == 200
    assert "sessionKey value" in response.content.decode()
    assert "not-a-cookie" not in response.content.decode()
    assert not ClaudeAccount.objects.exists()


def test_admin_credential_update_repolls_and_leaves_blank_untouched(fake, staff_client, eager_celery):
    account, old_key = cookie_account(fake, EXPIRED)
    account = poll(account)
    assert account.state == State.EXPIRED
    form = {"label": account.label, "enabled": "on", "org_uuid": "", "new_credential": ""}
    staff_client.post(f"/admin/accounts/claudeaccount/{account.pk}/change/", form)
    account.refresh_from_db()
    assert account.credential == old_key and account.state == State.EXPIRED
    new_key = new_cookie()
    fake.add_cookie(new_key, legacy_usage(12.0, 13.0))
    response = staff_client.post(
        f"/admin/accounts/claudeaccount/{account.pk}/change/", dict(form, new_credential=new_key)
    )
    assert response.status_code == 302
    account.refresh_from_db()
    assert account.credential == new_key and account.state == State.OK


def test_admin_shows_state_since_and_last_error(fake, staff_client):
    account = poll(cookie_account(fake, EXPIRED)[0])
    page = staff_client.get(f"/admin/accounts/claudeaccount/{account.pk}/change/").content.decode()
    assert "credential expired or revoked" in page


def test_admin_poll_now_action(fake, staff_client, eager_celery):
    account, key = cookie_account(fake, legacy_usage(1.0, 2.0), legacy_usage(7.0, 8.0))
    poll(account)
    response = staff_client.post(
        "/admin/accounts/claudeaccount/",
        {
            "action": "poll_now",
            "_selected_action": [account.pk],
        },
    )
    assert response.status_code == 302
    assert fake.usage_calls(key) == 2


def test_admin_interval_change_reschedules_and_refuses_too_short(fake, staff_client, settings):
    account = poll(cookie_account(fake, legacy_usage())[0])
    scheduled = account.next_poll_at  # on the 300 s grid
    url = f"/admin/accounts/accountsettings/{AccountSettings.load().pk}/change/"
    form = {
        "poll_interval_seconds": "900",
        "snapshot_retention": "2016",
        "cookie_expiry_warn_days": "7",
        "cookie_lifetime_days": "28",
    }
    assert staff_client.post(url, form).status_code == 302
    account.refresh_from_db()
    assert account.next_poll_at - scheduled == timedelta(seconds=900 - 300)
    response = staff_client.post(url, dict(form, poll_interval_seconds="5"))
    assert "between 60 and 86400" in response.content.decode()
    assert AccountSettings.load().poll_interval_seconds == 900


def test_command_adds_lists_and_polls(fake, tmp_path, capsys):
    key = new_cookie()
    fake.add_cookie(key, legacy_usage(21.0, 22.0))
    path = tmp_path / "cookie.txt"
    path.write_text(key + "\n")
    call_command("accounts", "add", "--label", "cli", "--source", "cookie", "--credential-file", str(path))
    assert "cli: ok" in capsys.readouterr().out
    call_command("accounts", "list")
    out = capsys.readouterr().out
    assert "cli" in out and "ok" in out and "5-hour 21%" in out and key not in out
    call_command("accounts", "poll", "cli")
    assert "cli: ok" in capsys.readouterr().out


def test_command_adds_an_oauth_account_from_a_claude_code_credentials_file(fake, tmp_path, capsys):
    access, refresh = fake.add_oauth("cc", legacy_usage(5.0, 6.0))
    path = tmp_path / ".credentials.json"
    expires = int((datetime.now(UTC) + timedelta(hours=8)).timestamp() * 1000)
    path.write_text(
        json.dumps(
            {
                "claudeAiOauth": {
                    "accessToken": access,
                    "refreshToken": refresh,
                    "expiresAt": expires,
                    "subscriptionType": "max",
                }
            }
        )
    )
    call_command("accounts", "add", "--label", "cc", "--source", "oauth", "--credential-file", str(path))
    assert "cc: ok" in capsys.readouterr().out
    assert ClaudeAccount.objects.get(label="cc").account_email == "cc@example.com"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--source", "cookie", "--credential-file", "/nonexistent/file"], "Cannot read"),
        (["--source", "admin-api", "--credential-file", "FILE"], "sk-ant-admin"),
    ],
)
def test_command_errors_are_readable(tmp_path, args, message):
    path = tmp_path / "cred"
    path.write_text("sk-ant-sid01-looks-like-a-cookie")
    args = [str(path) if a == "FILE" else a for a in args]
    with pytest.raises(CommandError, match=message) as caught:
        call_command("accounts", "add", "--label", "x", *args)
    assert "looks-like-a-cookie" not in str(caught.value)


def test_command_poll_reports_failures(fake, capsys):
    cookie_account(fake, EXPIRED, label="dead")
    with pytest.raises(CommandError, match="1 poll"):
        call_command("accounts", "poll")
    assert "dead: expired" in capsys.readouterr().out


def test_a_dropped_key_marks_the_account_and_keeps_the_admin_working(fake, staff_client, settings):
    from cryptography.fernet import Fernet

    account = poll(cookie_account(fake, legacy_usage())[0])
    settings.FERNET_KEYS = [Fernet.generate_key().decode()]  # the key it was written with is gone
    account_poll(account_id=account.pk)
    account = ClaudeAccount.objects.defer("credential").get(pk=account.pk)
    assert account.state == State.INVALID and "FERNET_KEYS" in account.last_error
    assert account.lease_until is None
    assert staff_client.get("/admin/accounts/claudeaccount/").status_code == 200
    page = staff_client.get(f"/admin/accounts/claudeaccount/{account.pk}/change/")
    assert page.status_code == 200 and "FERNET_KEYS" in page.content.decode()
