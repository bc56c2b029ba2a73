import pytest

from tests.peers.oidc_idp import CLIENT_ID, CLIENT_SECRET, running_provider

from .browser import SsoBrowser

PEOPLE = {
    "alice": {"name": "Alice", "email": "alice@example.test", "groups": ["governor-admins"]},
    "bob": {"name": "Bob", "email": "bob@example.test", "groups": ["governor-users", "staff-lunch"]},
    "carol": {"name": "Carol", "email": "carol@example.test", "groups": ["governor-readonly"]},
    "dave": {"name": "Dave", "email": "dave@example.test", "groups": []},
}


@pytest.fixture
def idp(live, settings, tmp_path):
    """The live app signing in through a real OpenID Connect provider, configured as Authentik would be."""
    callback = f"{live.url}/accounts/oidc/authentik/login/callback/"
    with running_provider(redirect_uris=[callback], people=PEOPLE, log_dir=tmp_path) as provider:
        settings.SOCIALACCOUNT_PROVIDERS = {
            "openid_connect": {
                "OAUTH_PKCE_ENABLED": True,
                "SCOPE": ["openid", "profile", "email"],
                "APPS": [
                    {
                        "provider_id": "authentik",
                        "name": "Authentik",
                        "client_id": CLIENT_ID,
                        "secret": CLIENT_SECRET,
                        "settings": {"server_url": provider.url, "token_auth_method": "client_secret_basic"},
                    }
                ],
            }
        }
        yield provider


@pytest.fixture
def visitor(live, idp):
    """Opens a fresh cookie jar per person, as a new browser would."""
    return lambda: SsoBrowser(live.url, idp.url)
