"""Single sign-on and roles (monitoring app; docs/sso.md), read by config/settings.py after `.env`.

People log in through the team's OpenID Connect provider (Authentik); roles come from its `groups` claim on
every login. Without OIDC_* the admin keeps the local password form, for superusers only.
"""

import environ
from django.core.exceptions import ImproperlyConfigured

env = environ.Env()

# The issuer, or its discovery URL. allauth appends "/.well-known/…" to an issuer, so no trailing "/".
OIDC_SERVER_URL = env.str("OIDC_SERVER_URL", default="").rstrip("/")
OIDC_CLIENT_ID = env.str("OIDC_CLIENT_ID", default="")
OIDC_CLIENT_SECRET = env.str("OIDC_CLIENT_SECRET", default="")
_oidc_given = [
    name for name in ("OIDC_SERVER_URL", "OIDC_CLIENT_ID", "OIDC_CLIENT_SECRET") if globals()[name]
]
if _oidc_given and len(_oidc_given) < 3:
    raise ImproperlyConfigured(
        "Single sign-on needs OIDC_SERVER_URL, OIDC_CLIENT_ID and OIDC_CLIENT_SECRET together; "
        f"only {', '.join(_oidc_given)} is set."
    )
# The provider id is part of the callback URL registered at the IdP: /accounts/oidc/<id>/login/callback/
OIDC_PROVIDER_ID = env.str("OIDC_PROVIDER_ID", default="authentik")
_oidc_app_settings = {"server_url": OIDC_SERVER_URL}
if env.str("OIDC_TOKEN_AUTH_METHOD", default=""):  # client_secret_basic or client_secret_post
    _oidc_app_settings["token_auth_method"] = env.str("OIDC_TOKEN_AUTH_METHOD")
SOCIALACCOUNT_PROVIDERS = {
    "openid_connect": {
        "OAUTH_PKCE_ENABLED": True,
        # Authentik returns `groups` with the `profile` scope.
        "SCOPE": ["openid", "profile", "email"],
        "APPS": [
            {
                "provider_id": OIDC_PROVIDER_ID,
                "name": env.str("OIDC_PROVIDER_NAME", default="Authentik"),
                "client_id": OIDC_CLIENT_ID,
                "secret": OIDC_CLIENT_SECRET,
                "settings": _oidc_app_settings,
            }
        ]
        if _oidc_given
        else [],
    }
}
# IdP group names (comma lists) mapped to Governor roles. Admins > users > readonly.
SSO_ADMIN_GROUPS = env.list("SSO_ADMIN_GROUPS", default=["governor-admins"])
SSO_USER_GROUPS = env.list("SSO_USER_GROUPS", default=["governor-users"])
SSO_READONLY_GROUPS = env.list("SSO_READONLY_GROUPS", default=["governor-readonly"])
# Off: everyone the IdP lets in is at least readonly. On: only members of the groups above get in.
SSO_REQUIRE_GROUP = env.bool("SSO_REQUIRE_GROUP", default=False)
# Break-glass password login for superusers (first setup, IdP outage) at /admin/login/local/.
LOCAL_LOGIN_ENABLED = env.bool("LOCAL_LOGIN_ENABLED", default=True)
# Failed break-glass passwords allowed per window: per client address, and per user name from one address
# (never per name alone, or anyone could lock the real admin out; docs/hardening.md).
BREAK_GLASS_ATTEMPTS_PER_NAME = env.int("BREAK_GLASS_ATTEMPTS_PER_NAME", default=5)
BREAK_GLASS_ATTEMPTS_PER_ADDRESS = env.int("BREAK_GLASS_ATTEMPTS_PER_ADDRESS", default=20)
BREAK_GLASS_WINDOW_SECONDS = env.int("BREAK_GLASS_WINDOW_SECONDS", default=300)
if not _oidc_given and not LOCAL_LOGIN_ENABLED:
    raise ImproperlyConfigured(
        "LOCAL_LOGIN_ENABLED=false needs single sign-on (OIDC_*); otherwise nobody could log in."
    )
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
LOGIN_URL = "admin:login"
LOGIN_REDIRECT_URL = "/admin/"
ACCOUNT_LOGOUT_REDIRECT_URL = "/admin/signed-out/"
SOCIALACCOUNT_ONLY = True  # no allauth password login or signup
ACCOUNT_EMAIL_VERIFICATION = "none"  # required by SOCIALACCOUNT_ONLY; the IdP owns addresses
# Accounts are linked by the IdP's subject, never by email; a local account with the same address must not
# send an SSO login to allauth's signup form.
ACCOUNT_UNIQUE_EMAIL = False
SOCIALACCOUNT_LOGIN_ON_GET = True  # the login URL goes straight to the IdP, no confirmation page
SOCIALACCOUNT_STORE_TOKENS = False  # we only need the claims; keep no IdP tokens at rest
# Roles change only at login, so sessions are short; "Force logout" deletes session rows, hence the DB engine.
SESSION_ENGINE = "django.contrib.sessions.backends.db"
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=8 * 3600)
