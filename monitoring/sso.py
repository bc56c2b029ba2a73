"""On every single sign-on login, the IdP's `groups` claim sets the user's role (contracts/oidc-sso.md §3)."""

import logging

from allauth.account.signals import user_logged_in
from django.conf import settings
from django.dispatch import receiver

from . import roles

log = logging.getLogger(__name__)


def claimed_groups(extra_data: dict) -> list[str]:
    """Groups from userinfo, else from the ID token; a missing or malformed claim means no groups."""
    for source in ("userinfo", "id_token"):
        claims = extra_data.get(source)
        if isinstance(claims, dict) and "groups" in claims:
            groups = claims["groups"]
            if isinstance(groups, str):
                return [groups]
            if isinstance(groups, list):
                return [g for g in groups if isinstance(g, str)]
            return []
    return []


def claimed_email(extra_data: dict) -> str:
    for source in ("userinfo", "id_token"):
        claims = extra_data.get(source)
        if isinstance(claims, dict) and isinstance(claims.get("email"), str):
            return claims["email"].strip()
    return ""


@receiver(user_logged_in, dispatch_uid="monitoring.sso.apply_role")
def apply_role_on_login(sender, request, user, sociallogin=None, **kwargs) -> None:
    if sociallogin is None:
        return  # break-glass password login: the superuser keeps what it has
    extra_data = sociallogin.account.extra_data or {}
    role = roles.role_for(
        claimed_groups(extra_data),
        admin_groups=settings.SSO_ADMIN_GROUPS,
        user_groups=settings.SSO_USER_GROUPS,
        readonly_groups=settings.SSO_READONLY_GROUPS,
        require_group=settings.SSO_REQUIRE_GROUP,
    )
    roles.role_apply(user=user, role=role)
    # "My seat" trusts this address, so it is exactly what the IdP says now: not the one from the first
    # login, nor one typed into allauth's signup form when the IdP sent none.
    email = claimed_email(extra_data)
    if email != user.email:
        user.email = email
        user.save(update_fields=["email"])
    log.info("SSO login of %s: role %s", user.get_username(), role or "none (refused)")
