"""Runtime settings keep to their ranges everywhere they can be set; credential files and organisation ids in
odd shapes are cleaned or refused with the real problem named."""

import codecs

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command

from accounts.credentials import CredentialError, decode_file, normalize
from accounts.models import AccountSettings, ClaudeAccount
from accounts.services import AccountError, account_create, account_settings_update
from tests.fakes.claude_api import EXPIRED, legacy_usage, new_org_uuid

from .helpers import new_cookie

SANE = {
    "poll_interval_seconds": 300,
    "snapshot_retention": 2016,
    "cookie_expiry_warn_days": 7,
    "cookie_lifetime_days": 28,
}
OUT_OF_RANGE = [
    ("poll_interval_seconds", 999_999_999_999, "between 60 and 86400"),
    ("poll_interval_seconds", 99_999_999_999, "between 60 and 86400"),
    ("poll_interval_seconds", 59, "between 60 and 86400"),
    ("snapshot_retention", 99_999_999_999, "between 1 and 100000"),
    ("snapshot_retention", 0, "between 1 and 100000"),
    ("cookie_lifetime_days", 0, "between 1 and 365"),
    ("cookie_lifetime_days", 10_000, "between 1 and 365"),
    ("cookie_expiry_warn_days", 91, "between 0 and 90"),
    ("cookie_expiry_warn_days", 28, "shorter than the lifetime"),
]


@pytest.fixture
def staff_client(client, db):
    client.force_login(get_user_model().objects.create_superuser("root", "root@example.com", "pw"))
    return client


@pytest.mark.django_db
@pytest.mark.parametrize(("field", "value", "message"), OUT_OF_RANGE)
def test_settings_out_of_range_are_refused_by_the_service_and_the_model(field, value, message):
    with pytest.raises(AccountError, match=message):
        account_settings_update(**(SANE | {field: value}))
    assert AccountSettings.load().poll_interval_seconds == 300
    with pytest.raises(ValidationError, match=message):
        AccountSettings(**(SANE | {field: value})).full_clean()


@pytest.mark.django_db
@pytest.mark.parametrize(("field", "value", "message"), OUT_OF_RANGE)
def test_settings_out_of_range_are_refused_by_the_admin_form_without_a_server_error(
    staff_client, field, value, message
):
    url = f"/admin/accounts/accountsettings/{AccountSettings.load().pk}/change/"
    response = staff_client.post(url, {k: str(v) for k, v in (SANE | {field: value}).items()})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert AccountSettings.load().poll_interval_seconds == 300


@pytest.mark.django_db
def test_settings_form_and_command_show_each_range_in_the_help(staff_client, capsys):
    page = staff_client.get(f"/admin/accounts/accountsettings/{AccountSettings.load().pk}/change/")
    text = page.content.decode()
    for shown in ("60-86400 s", "1-100000", "1-365 days", "0-90"):
        assert shown in text
    with pytest.raises(SystemExit):
        call_command("accounts", "settings", "--help")
    help_text = capsys.readouterr().out
    for shown in ("60-86400 s", "1-100000", "1-365 days", "0-90"):
        assert shown in help_text


@pytest.mark.django_db
def test_settings_command_changes_within_range_and_refuses_outside(capsys):
    call_command("accounts", "settings", "--poll-interval", "120", "--cookie-lifetime-days", "30")
    assert "poll_interval_seconds = 120" in capsys.readouterr().out
    assert AccountSettings.load().cookie_lifetime_days == 30
    with pytest.raises(CommandError, match="between 60 and 86400"):
        call_command("accounts", "settings", "--poll-interval", "99999999999")
    with pytest.raises(CommandError, match="shorter than the lifetime"):
        call_command("accounts", "settings", "--cookie-warn-days", "30")
    assert AccountSettings.load().poll_interval_seconds == 120


# --- credential files and values in odd encodings --------------------------------------------------------


def test_a_utf8_bom_and_surrounding_whitespace_are_stripped_from_a_cookie():
    key = new_cookie()
    assert normalize("cookie", decode_file(codecs.BOM_UTF8 + f"  {key}\r\n".encode())) == key
    assert normalize("cookie", f"\ufeff{key}") == key
    assert normalize("cookie", f'"{key}"\n') == key


def test_a_utf16_file_from_a_windows_editor_is_read():
    key = new_cookie()
    assert normalize("cookie", decode_file((key + "\r\n").encode("utf-16"))) == key


def test_a_file_that_is_not_utf8_names_the_encoding_not_the_prefix():
    with pytest.raises(CredentialError, match=r"not UTF-8 text \(byte 0xe9 at offset 13\)"):
        decode_file(b"sk-ant-sid02-\xe9t\xe9")


@pytest.mark.parametrize(
    ("source", "value", "message"),
    [
        ("admin-api", "sk-ant-admin01-abc def", "contains a space or line break inside"),
        ("admin-api", "sk-ant-api03-abcdef", "ordinary API key"),
        ("cookie", "sk-ant-sid02-abc\ndef", "contains a space or line break inside"),
        ("cookie", "sessionKey=sk-ant-sid02-abc; cf_clearance=xyz", "whole cookie header"),
        ("cookie", "sk-ant-sid02-abc\u2013def", "non-ASCII character"),
        ("oauth", '{"accessToken": "sk-ant-oat01-a b", "refreshToken": "sk-ant-ort01-c"}', "space or line"),
    ],
)
def test_a_malformed_credential_is_told_its_real_problem_without_echoing_it(source, value, message):
    with pytest.raises(CredentialError, match=message) as caught:
        normalize(source, value)
    assert "abc" not in str(caught.value)


def _add(label: str, path, *extra: str) -> None:
    call_command(
        "accounts", "add", "--label", label, "--source", "cookie", "--credential-file", str(path), *extra
    )


@pytest.mark.django_db(transaction=True)
def test_accounts_add_reads_a_bom_file_and_refuses_a_latin1_one_without_a_traceback(fake, tmp_path, capsys):
    key = new_cookie()
    fake.add_cookie(key, legacy_usage(21.0, 22.0))
    bom = tmp_path / "bom.txt"
    bom.write_bytes(codecs.BOM_UTF8 + key.encode() + b"\r\n")
    _add("bom", bom)
    assert "bom: ok" in capsys.readouterr().out
    latin = tmp_path / "latin1.txt"
    latin.write_bytes(b"sk-ant-sid02-caf\xe9")
    with pytest.raises(CommandError, match="not UTF-8 text"):
        _add("l1", latin)
    assert not ClaudeAccount.objects.filter(label="l1").exists()


# --- small honesty gaps -------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("org", ["not-a-uuid", "1234", "../../etc"])
def test_an_organisation_that_is_not_a_uuid_is_refused(org, tmp_path):
    with pytest.raises(AccountError, match="must be a UUID"):
        account_create(label="x", source="cookie", credential=new_cookie(), org_uuid=org)
    path = tmp_path / "cookie"
    path.write_text(new_cookie())
    with pytest.raises(CommandError, match="must be a UUID"):
        _add("x", path, "--org", org)
    assert not ClaudeAccount.objects.exists()


@pytest.mark.django_db
def test_an_organisation_uuid_is_stored_in_canonical_form(staff_client):
    org = new_org_uuid()
    account = account_create(label="x", source="cookie", credential=new_cookie(), org_uuid=org.upper())
    assert account.org_uuid == org and account.org_pinned
    response = staff_client.post(
        "/admin/accounts/claudeaccount/add/",
        {"label": "y", "source": "cookie", "new_credential": new_cookie(), "org_uuid": "nope"},
    )
    assert response.status_code == 200 and "must be a UUID" in response.content.decode()


@pytest.mark.django_db(transaction=True)
def test_accounts_add_exits_non_zero_when_its_first_poll_fails(fake, tmp_path, capsys):
    key = new_cookie()
    fake.add_cookie(key, EXPIRED)
    path = tmp_path / "cookie"
    path.write_text(key)
    with pytest.raises(CommandError, match="first poll failed"):
        _add("dead", path)
    assert "dead: expired" in capsys.readouterr().out
    assert ClaudeAccount.objects.filter(label="dead").exists()


@pytest.mark.django_db(transaction=True)
def test_admin_list_shows_each_accounts_last_error(fake, staff_client):
    from .helpers import cookie_account, poll

    poll(cookie_account(fake, EXPIRED, label="dead")[0])
    listing = staff_client.get("/admin/accounts/claudeaccount/").content.decode()
    assert "Last error" in listing and "credential expired or revoked (HTTP 403" in listing
