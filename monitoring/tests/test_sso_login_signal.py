"""The IdP's groups decide the role at every single sign-on login (contracts/oidc-sso.md §3)."""

import pytest
from allauth.account.signals import user_logged_in
from allauth.socialaccount.models import SocialAccount, SocialLogin
from django.test import RequestFactory

from monitoring import roles


def _sso_login(user, *, groups=None, email=None, source="userinfo"):
    claims = {"sub": user.username}
    if groups is not None:
        claims["groups"] = groups
    if email is not None:
        claims["email"] = email
    account = SocialAccount(user=user, provider="authentik", uid=user.username, extra_data={source: claims})
    request = RequestFactory().get("/accounts/oidc/authentik/login/callback/")
    user_logged_in.send(
        sender=type(user), request=request, user=user, sociallogin=SocialLogin(account=account)
    )
    user.refresh_from_db()
    return user


@pytest.fixture
def bob(django_user_model):
    return django_user_model.objects.create_user("bob", email="bob@example.test")


def _role(user):
    return roles.role_of(user)


def test_alice_in_the_admin_group_becomes_superuser(django_user_model):
    alice = _sso_login(django_user_model.objects.create_user("alice"), groups=["governor-admins"])
    assert alice.is_superuser and alice.is_staff


def test_bob_in_the_user_group_becomes_staff_with_the_user_group(bob):
    _sso_login(bob, groups=["governor-users", "lunch"])
    assert bob.is_staff and not bob.is_superuser and _role(bob) == roles.USER


def test_carol_in_no_mapped_group_is_readonly(django_user_model):
    carol = _sso_login(django_user_model.objects.create_user("carol"), groups=["marketing"])
    assert _role(carol) == roles.READONLY


def test_dave_in_no_group_is_refused_when_a_group_is_required(django_user_model, settings):
    settings.SSO_REQUIRE_GROUP = True
    dave = _sso_login(django_user_model.objects.create_user("dave"), groups=[])
    assert not dave.is_staff and not dave.is_superuser and _role(dave) is None


def test_bob_moved_to_admins_is_promoted_then_demoted_to_readonly_when_removed(bob):
    _sso_login(bob, groups=["governor-users"])
    _sso_login(bob, groups=["governor-admins"])
    assert bob.is_superuser
    _sso_login(bob, groups=[])
    assert not bob.is_superuser and _role(bob) == roles.READONLY


def test_bob_losing_every_group_loses_all_rights_when_a_group_is_required(bob, settings):
    settings.SSO_REQUIRE_GROUP = True
    _sso_login(bob, groups=["governor-admins"])
    _sso_login(bob, groups=[])
    assert not bob.is_staff and not bob.is_superuser and not bob.groups.exists()


def test_a_missing_or_malformed_groups_claim_means_no_groups(bob, settings):
    settings.SSO_REQUIRE_GROUP = True
    _sso_login(bob)
    assert not bob.is_staff
    _sso_login(bob, groups={"governor-admins": True})
    assert not bob.is_staff


def test_groups_from_the_id_token_count_when_userinfo_has_none(bob):
    _sso_login(bob, groups=["governor-admins"], source="id_token")
    assert bob.is_superuser


def test_group_names_come_from_settings(bob, settings):
    settings.SSO_ADMIN_GROUPS = ["ops"]
    _sso_login(bob, groups=["governor-admins"])
    assert not bob.is_superuser
    _sso_login(bob, groups=["ops"])
    assert bob.is_superuser


def test_the_email_follows_the_provider_so_the_seat_link_stays_right(bob):
    _sso_login(bob, groups=["governor-users"], email="robert@example.test")
    assert bob.email == "robert@example.test"
    _sso_login(bob, groups=["governor-users"])
    assert bob.email == ""


def test_a_password_login_leaves_the_break_glass_superuser_alone(django_user_model):
    root = django_user_model.objects.create_superuser("root", password="x-long-password-1")
    user_logged_in.send(sender=type(root), request=RequestFactory().get("/"), user=root)
    root.refresh_from_db()
    assert root.is_superuser and root.is_staff
