"""Channels in the admin: config validated on save, encrypted at rest (rotate_keys included), masked to the
last four characters for its owner and admins, hidden from everyone else; "Send test"; owner scoping."""

import json

import pytest
from cryptography.fernet import Fernet
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection
from django.test import Client

from alerts.models import Channel, Subscription
from alerts.services import channel_create
from monitoring import roles
from tests.fakes.alert_receivers import Reply

pytestmark = pytest.mark.django_db
SECRET_URL_TOKEN = "tok-good_1"
INLINE = {"deliveries-TOTAL_FORMS": "0", "deliveries-INITIAL_FORMS": "0"}  # the delivery log's formset


def person(name: str, role: str) -> Client:
    user = get_user_model().objects.create_user(name, email=f"{name}@example.test")
    roles.role_apply(user=user, role=role)
    client = Client()
    client.force_login(user)
    client.user = user
    return client


@pytest.fixture
def discord(receivers):
    url = f"{receivers.url}/api/webhooks/1100/{SECRET_URL_TOKEN}"
    return channel_create(kind="discord", name="ops-discord", config={"url": url})


def stored(channel: Channel) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT config_blob FROM alerts_channel WHERE id = %s", [channel.pk])
        return cursor.fetchone()[0]


def test_channel_config_is_encrypted_at_rest_and_rotate_keys_covers_it(settings, receivers):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.FERNET_KEYS = [old]
    channel = channel_create(kind="webhook", name="h", config={"url": f"{receivers.url}/hook/abc-secret"})
    assert "abc-secret" not in stored(channel)
    settings.FERNET_KEYS = [new, old]
    call_command("rotate_keys")
    settings.FERNET_KEYS = [new]
    assert Channel.objects.get(pk=channel.pk).config["url"].endswith("/hook/abc-secret")


def test_admin_adds_a_channel_and_bad_config_gets_a_readable_error(receivers):
    admin = person("root", roles.ADMIN)
    page = admin.post(
        "/admin/alerts/channel/add/",
        {"kind": "pushover", "name": "phones", "enabled": "on", "config": '{"token": "x", "user": "y"}'}
        | INLINE,
    )
    assert (
        page.status_code == 200 and "The application token is 30 letters and digits." in page.content.decode()
    )
    page = admin.post(
        "/admin/alerts/channel/add/",
        {"kind": "webhook", "name": "hook", "enabled": "on", "config": json.dumps({"url": receivers.url})}
        | INLINE,
    )
    assert page.status_code == 302
    assert Channel.objects.get(name="hook").config["url"] == receivers.url


def test_the_change_page_masks_the_config_and_an_empty_field_keeps_it(discord):
    admin = person("root", roles.ADMIN)
    body = admin.get(f"/admin/alerts/channel/{discord.pk}/change/").content.decode()
    assert SECRET_URL_TOKEN not in body and "…" in body
    data = {"kind": "discord", "name": "renamed", "enabled": "on", "config": ""} | INLINE
    assert admin.post(f"/admin/alerts/channel/{discord.pk}/change/", data).status_code == 302
    discord.refresh_from_db()
    assert discord.name == "renamed" and discord.config["url"].endswith(SECRET_URL_TOKEN)


def test_send_test_action_reports_the_exact_error_then_reenables_on_success(discord, receivers):
    admin = person("root", roles.ADMIN)
    discord.disable("Discord says this webhook was deleted (404)")
    receivers.script("/api/webhooks/", Reply(500, {"message": "oops"}))
    action = {"action": "send_test", "_selected_action": [discord.pk], "index": "0"}
    page = admin.post("/admin/alerts/channel/", action, follow=True).content.decode()
    assert "temporary error (HTTP 500)" in page
    page = admin.post("/admin/alerts/channel/", action, follow=True).content.decode()
    assert "ops-discord: test sent." in page.lower()
    discord.refresh_from_db()
    assert discord.enabled and not discord.disabled_reason


def test_readonly_sees_channels_but_no_config_at_all(discord):
    reader = person("rita", roles.READONLY)
    page = reader.get(f"/admin/alerts/channel/{discord.pk}/change/")
    body = page.content.decode()
    assert page.status_code == 200 and "ops-discord" in body
    assert SECRET_URL_TOKEN not in body and "current config" not in body
    assert reader.post("/admin/alerts/channel/add/", {"kind": "email", "name": "x"}).status_code == 403


def test_role_user_manages_only_their_own_channels_and_subscriptions(discord, receivers):
    uma = person("uma", roles.USER)
    created = uma.post(
        "/admin/alerts/channel/add/",
        {"kind": "webhook", "name": "uma-hook", "enabled": "on", "config": json.dumps({"url": receivers.url})}
        | INLINE,
    )
    assert created.status_code == 302
    mine = Channel.objects.get(name="uma-hook")
    assert mine.owner == uma.user
    listing = uma.get("/admin/alerts/channel/").content.decode()
    assert "uma-hook" in listing and "ops-discord" not in listing
    assert uma.get(f"/admin/alerts/channel/{discord.pk}/change/").status_code == 302  # not theirs: not found
    form = uma.get("/admin/alerts/subscription/add/").content.decode()
    assert "uma-hook" in form and "ops-discord" not in form
    subscribed = uma.post(
        "/admin/alerts/subscription/add/",
        {"name": "mine", "channels": [mine.pk], "enabled": "on", "thresholds": "{}", "cooldown": "04:00:00"}
        | {"hysteresis": "5", "quiet_tz": "UTC", "notify_credentials": "on"},
    )
    assert subscribed.status_code == 302
    assert Subscription.objects.get(name="mine").owner == uma.user


def test_the_silence_link_opens_a_prefilled_form(receivers):
    from .pipeline import account

    acct = account("team-max")
    admin = person("root", roles.ADMIN)
    page = admin.get(f"/admin/alerts/silence/add/?account={acct.pk}&reason=silenced+from+an+alert")
    body = page.content.decode()
    assert page.status_code == 200
    assert f'<option value="{acct.pk}" selected>team-max</option>' in body
    assert 'value="silenced from an alert"' in body


def test_role_user_sends_a_test_through_their_own_channel_from_its_page(receivers):
    uma = person("uma", roles.USER)
    mine = channel_create(kind="webhook", name="uma-hook", config={"url": f"{receivers.url}/hook/uma"})
    Channel.objects.filter(pk=mine.pk).update(owner=uma.user)
    url = f"/admin/alerts/channel/{mine.pk}/send-test/"
    assert url in uma.get(f"/admin/alerts/channel/{mine.pk}/change/").content.decode()
    page = uma.post(url, follow=True)
    assert page.redirect_chain == [(f"/admin/alerts/channel/{mine.pk}/change/", 302)]
    assert "uma-hook: test sent." in page.content.decode().lower()
    assert len(receivers.received("/hook/uma")) == 1


def test_role_user_cannot_test_someone_elses_channel(discord, receivers):
    uma = person("uma", roles.USER)
    assert uma.post(f"/admin/alerts/channel/{discord.pk}/send-test/").status_code == 403
    assert receivers.received() == []


def test_readonly_cannot_test_a_channel_and_sees_no_button(discord, receivers):
    reader = person("rita", roles.READONLY)
    assert "send-test" not in reader.get(f"/admin/alerts/channel/{discord.pk}/change/").content.decode()
    assert reader.post(f"/admin/alerts/channel/{discord.pk}/send-test/").status_code == 403
    assert receivers.received() == []


def test_sending_a_test_needs_a_post(discord, receivers):
    admin = person("root", roles.ADMIN)
    assert admin.get(f"/admin/alerts/channel/{discord.pk}/send-test/").status_code == 405
    assert receivers.received() == []
