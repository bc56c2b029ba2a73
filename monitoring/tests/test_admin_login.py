"""The admin's login page: the identity provider when configured, a superuser-only password form otherwise."""

import pytest
from django.test import Client

from tests.isolation import clear_own_cache

OIDC = {
    "openid_connect": {
        "APPS": [
            {
                "provider_id": "authentik",
                "name": "Authentik",
                "client_id": "governor",
                "secret": "s3cret-client-value",
                "settings": {"server_url": "http://127.0.0.1:9/application/o/governor/"},
            }
        ]
    }
}


@pytest.fixture(autouse=True)
def _no_earlier_attempts():
    clear_own_cache()  # failed-login counters live in the cache (Redis when REDIS_URL is set)


@pytest.fixture
def sso_on(settings):
    settings.SOCIALACCOUNT_PROVIDERS = OIDC


@pytest.fixture
def root(django_user_model):
    return django_user_model.objects.create_superuser("root", password="break-glass-Passw0rd")


def _password_login(client: Client, path: str, username: str, password: str):
    return client.post(path, {"username": username, "password": password, "next": "/admin/limiter/"})


def test_without_sso_the_admin_asks_a_superuser_for_a_password(client, root):
    page = client.get("/admin/", follow=True)
    assert page.status_code == 200 and b'name="password"' in page.content
    done = _password_login(client, "/admin/login/?next=/admin/limiter/", "root", "break-glass-Passw0rd")
    assert done.status_code == 302 and done["Location"] == "/admin/limiter/"
    assert client.get("/admin/").status_code == 200


def test_the_password_form_turns_away_staff_who_are_not_superusers(client, django_user_model):
    django_user_model.objects.create_user("stan", password="staff-Passw0rd-123", is_staff=True)
    refused = _password_login(client, "/admin/login/", "stan", "staff-Passw0rd-123")
    assert refused.status_code == 200
    assert b"only for superusers" in refused.content
    assert client.get("/admin/").status_code == 302


def test_a_wrong_password_is_a_form_error_not_a_login(client, root):
    response = _password_login(client, "/admin/login/", "root", "wrong")
    assert response.status_code == 200 and b"errornote" in response.content
    assert client.get("/admin/").status_code == 302


def test_with_sso_the_admin_login_goes_straight_to_the_provider(client, sso_on):
    first = client.get("/admin/")
    assert first["Location"] == "/admin/login/?next=/admin/"
    onward = client.get(first["Location"])
    assert onward.status_code == 302
    assert onward["Location"] == "/accounts/oidc/authentik/login/?next=%2Fadmin%2F"


def test_the_login_page_does_not_forward_to_another_site(client, sso_on):
    onward = client.get("/admin/login/", {"next": "https://evil.example/"})
    assert onward["Location"] == "/accounts/oidc/authentik/login/?next=%2Fadmin%2F"


def test_with_sso_the_break_glass_form_still_lets_a_superuser_in(client, sso_on, root):
    form = client.get("/admin/login/local/")
    assert form.status_code == 200 and b"Break-glass" in form.content
    done = _password_login(client, "/admin/login/local/", "root", "break-glass-Passw0rd")
    assert done.status_code == 302
    assert client.get("/admin/").status_code == 200


def test_the_break_glass_form_can_be_switched_off(client, sso_on, root, settings):
    settings.LOCAL_LOGIN_ENABLED = False
    assert client.get("/admin/login/local/").status_code == 404
    assert _password_login(client, "/admin/login/local/", "root", "break-glass-Passw0rd").status_code == 404
    assert client.get("/admin/").status_code == 302


def test_someone_logged_in_without_a_role_gets_a_clear_refusal(client, django_user_model, settings):
    settings.SSO_REQUIRE_GROUP = True
    client.force_login(django_user_model.objects.create_user("dave", email="dave@example.test"))
    page = client.get("/admin/", follow=True)
    assert page.status_code == 403
    text = page.content.decode()
    assert "not a member of any group" in text and "governor-admins" in text and "Sign out" in text


def test_signing_out_from_the_refusal_page_ends_the_session(client, django_user_model):
    client.force_login(django_user_model.objects.create_user("dave"))
    out = client.post("/accounts/logout/", follow=True)
    assert out.status_code == 200 and out.redirect_chain[-1][0] == "/admin/signed-out/"
    assert b"Log in again" in out.content
    assert "_auth_user_id" not in client.session


def test_an_unreachable_provider_gets_a_clear_page_with_the_break_glass_way_in(client, sso_on, db):
    page = client.get("/admin/", follow=True)
    assert page.status_code == 502
    text = page.content.decode()
    assert "could not reach the identity provider" in text and 'href="/admin/login/local/"' in text


def test_repeated_wrong_passwords_lock_the_form_even_for_the_right_one(client, root):
    for _ in range(5):
        assert _password_login(client, "/admin/login/", "root", "guess").status_code == 200
    locked = _password_login(client, "/admin/login/", "root", "break-glass-Passw0rd")
    assert locked.status_code == 429 and b"Too many failed password attempts" in locked.content
    assert client.get("/admin/").status_code == 302
