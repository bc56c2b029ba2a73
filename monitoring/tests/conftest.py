"""People with each Governor role, and a team with one of everything the admin shows."""

from dataclasses import dataclass

import pytest
from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialAccount, SocialApp, SocialToken
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from limiter import counters, services
from limiter.models import CreditHold, Device, HookToken, Rule, SessionEvent, UsageEvent
from monitoring import roles

REFUSED, ANONYMOUS = "refused", "anonymous"
PERSONAS = (roles.ADMIN, roles.USER, roles.READONLY, REFUSED, ANONYMOUS)


@pytest.fixture
def people(db) -> dict[str, object]:
    """One account per role, as a single sign-on login would leave it; `refused` is in no Governor group."""
    users = get_user_model().objects
    made = {}
    for name, role, email in (
        ("root", roles.ADMIN, "root@example.test"),
        ("uma", roles.USER, "uma@example.test"),
        ("rita", roles.READONLY, "rita@example.test"),
        ("otto", None, "otto@example.test"),
    ):
        user = users.create_user(name, email=email)
        roles.role_apply(user=user, role=role)
        made[role or REFUSED] = user
    return made


@pytest.fixture
def client_for(people):
    def make(persona: str) -> Client:
        client = Client()
        if persona != ANONYMOUS:
            client.force_login(people[persona])
        return client

    return make


@dataclass
class World:
    seat: object
    other_seat: object
    install_code: str
    hook_token: str
    oidc_secret: str
    idp_access_token: str


@pytest.fixture
def world(people) -> World:
    """A row of every model the project and allauth register, and the secrets they must never leak."""
    now = timezone.now()
    seat = services.seat_create(slug="uma-laptop", name="Uma", email="UMA@example.test")
    other_seat = services.seat_create(slug="rita-laptop", name="Rita", email="rita@example.test")
    services.rule_add(owner=seat, type="per_model", model="opus", window="daily", value=5)
    token, _ = services.register(code=services.install_code_issue(seat=seat, by="root"), ip="127.0.0.1")
    device = Device.objects.create(seat=seat, hostname="uma-mbp", last_seen_at=now)
    HookToken.objects.filter(seat=seat).update(device=device)
    turn = UsageEvent.objects.create(
        seat=seat, family="opus", credit_cost=10, occurred_at=now, received_at=now
    )
    counters.add_turn(turn, seat.team)  # what /count does in the same transaction
    SessionEvent.objects.create(seat=seat, kind=SessionEvent.PROMPT, session_id="s1", created_at=now)
    CreditHold.objects.create(
        seat=seat, session_id="s1", family="opus", cost=10, created_at=now, expires_at=now
    )
    code = services.install_code_issue(seat=seat, by="root")
    app = SocialApp.objects.create(
        provider="openid_connect", provider_id="authentik", name="Authentik", client_id="cid",
        secret="oidc-client-secret-d41d8cd98f00",
    )
    account = SocialAccount.objects.create(user=people[roles.USER], provider="authentik", uid="uma-sub")
    SocialToken.objects.create(app=app, account=account, token="idp-access-token-9e107d9d372bb682")
    EmailAddress.objects.create(user=people[roles.USER], email="uma@example.test", primary=True)
    assert Rule.objects.filter(seat=seat).exists()
    return World(
        seat=seat,
        other_seat=other_seat,
        install_code=code,
        hook_token=token,
        oidc_secret=app.secret,
        idp_access_token="idp-access-token-9e107d9d372bb682",
    )
