"""Channel config in the admin as fields of its kind (not a JSON document): validated by the transport,
secrets write-only (never filled in, at most the last four characters shown, empty keeps them)."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from alerts.models import Channel
from alerts.services import channel_create
from monitoring import roles

pytestmark = pytest.mark.django_db
INLINE = {"deliveries-TOTAL_FORMS": "0", "deliveries-INITIAL_FORMS": "0"}
TOKEN, USER = "azGDORePK8gMaC0QOYAMyEEuzJnyUi", "uQiRzpo4DXghDmr9QzzfQu27cmVRsG"
SECRET = "tok-good_1"


def person(name: str, role: str) -> Client:
    user = get_user_model().objects.create_user(name, email=f"{name}@example.test")
    roles.role_apply(user=user, role=role)
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def discord(receivers):
    return channel_create(
        kind="discord", name="ops-discord", config={"url": f"{receivers.url}/api/webhooks/1100/{SECRET}"}
    )


def test_admin_adds_a_pushover_channel_from_its_fields():
    admin = person("root", roles.ADMIN)
    fields = {"pushover__token": TOKEN, "pushover__user": USER, "pushover__priority": "1"}
    page = admin.post(
        "/admin/alerts/channel/add/",
        {"kind": "pushover", "name": "phones", "enabled": "on"} | fields | INLINE,
    )
    assert page.status_code == 302
    assert Channel.objects.get(name="phones").config == {"token": TOKEN, "user": USER, "priority": 1}


def test_bad_field_values_are_refused_with_the_reason():
    admin = person("root", roles.ADMIN)
    base = {"kind": "pushover", "name": "phones", "enabled": "on", "pushover__user": USER} | INLINE
    page = admin.post("/admin/alerts/channel/add/", base | {"pushover__token": "short"})
    assert (
        page.status_code == 200 and "The application token is 30 letters and digits." in page.content.decode()
    )
    page = admin.post(
        "/admin/alerts/channel/add/", base | {"pushover__token": TOKEN, "pushover__priority": "high"}
    )
    assert page.status_code == 200 and "A whole number." in page.content.decode()
    assert not Channel.objects.exists()


def test_a_stored_secret_is_never_shown_and_an_empty_field_keeps_it(discord):
    admin = person("root", roles.ADMIN)
    url = f"/admin/alerts/channel/{discord.pk}/change/"
    body = admin.get(url).content.decode()
    assert SECRET not in body and "Stored: …" in body
    page = admin.post(
        url,
        {"kind": "discord", "name": "ops-discord", "enabled": "on", "discord__url": ""}
        | {"discord__username": "Governor"}
        | INLINE,
    )
    assert page.status_code == 302
    discord.refresh_from_db()
    assert discord.config["url"].endswith(SECRET) and discord.config["username"] == "Governor"


def test_webhook_headers_are_a_json_object(receivers):
    admin = person("root", roles.ADMIN)
    fields = {"webhook__url": f"{receivers.url}/hook/x", "webhook__headers": "{not json"}
    page = admin.post("/admin/alerts/channel/add/", {"kind": "webhook", "name": "h"} | fields | INLINE)
    assert page.status_code == 200 and "Not valid JSON" in page.content.decode()
    fields["webhook__headers"] = '{"Authorization": "Bearer abc"}'
    assert (
        admin.post(
            "/admin/alerts/channel/add/", {"kind": "webhook", "name": "h"} | fields | INLINE
        ).status_code
        == 302
    )
    assert Channel.objects.get(name="h").config["headers"] == {"Authorization": "Bearer abc"}


def test_readonly_gets_no_config_fields(discord):
    reader = person("rita", roles.READONLY)
    body = reader.get(f"/admin/alerts/channel/{discord.pk}/change/").content.decode()
    assert "discord__url" not in body and "Stored:" not in body


def test_the_add_page_has_a_group_of_fields_for_each_kind():
    body = person("root", roles.ADMIN).get("/admin/alerts/channel/add/").content.decode()
    for kind in ("Discord webhook", "Pushover", "Matrix room", "HTTP webhook", "Email", "ntfy"):
        assert f"{kind} settings" in body
    assert 'name="matrix__room_id"' in body and 'name="pushover__token"' in body
