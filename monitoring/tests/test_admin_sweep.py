"""Every admin page as every role: no 5xx anywhere.

The pages come from the URL resolver at run time (every ModelAdmin's changelist, add, change, history and
delete page, every custom admin view), and every registered model must have a row to open, so a page that
breaks only when there is something to show (a read-only viewer on a change page, say) cannot hide behind
an empty table. A new URL parameter must be taught to `_fill`, or the sweep fails and says so.
"""

import re
from datetime import timedelta

import pytest
from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from accounts import services as account_services
from accounts.models import AccountSettings, UsageSnapshot, WindowReading, WindowReset
from limiter.models import Seat
from tests.http_session import browser_session

from .conftest import PERSONAS

_PARAMETER = re.compile(r"<(?:(?P<converter>\w+):)?(?P<name>\w+)>")


@pytest.fixture
def every_row(world):
    """The monitoring `world` plus a watched account with a snapshot, a reading and a detected reset."""
    now = timezone.now()
    account = account_services.account_create(
        label="team-max", source="cookie", credential="sk-ant-sid02-" + "x" * 40
    )
    snapshot = UsageSnapshot.objects.create(account=account, taken_at=now, raw={"five_hour": {}})
    WindowReading.objects.create(
        snapshot=snapshot,
        account=account,
        taken_at=now,
        limit_type="five_hour",
        label="5-hour",
        utilization=42.0,
        resets_at=now + timedelta(hours=2),
    )
    WindowReset.objects.create(
        account=account, limit_type="five_hour", kind=WindowReset.Kind.choices[0][0], detected_at=now
    )
    AccountSettings.load()
    _alert_rows(account, now)
    return world


def _alert_rows(account, now) -> None:
    """A channel, a subscription, a silence, the runtime settings and a delivery of each kind (alerts)."""
    from alerts.models import AlertSettings, Channel, Delivery, Silence
    from alerts.services import subscription_create
    from monitoring import eventlog

    channel = Channel(kind="email", name="ops-mail")
    channel.set_config({"to": "ops@example.test"})
    channel.save()
    subscription = subscription_create(name="team", channels=[channel], account=account)
    Silence.objects.create(subscription=subscription, until=now + timedelta(hours=1), reason="maintenance")
    AlertSettings.objects.create(pk=1, default_thresholds=[75, 90, 95])
    event = eventlog.record(eventlog.ALERT_FIRED, account_id=account.pk, data={"alerts": []})
    Delivery.objects.create(event=event, channel=channel, alerts=[{"title": "t", "message": "m"}])
    Delivery.objects.create(channel=channel, is_test=True, alerts=[])


def _model_admin_of(pattern: URLPattern):
    callback = pattern.callback
    found = getattr(callback, "model_admin", None)
    # Views a ModelAdmin adds itself (a user's password page) are its bound methods behind admin_view.
    layer = callback
    while found is None and layer is not None:
        found = getattr(layer, "__self__", None)
        layer = getattr(layer, "__wrapped__", None)
    return found if isinstance(found, admin.ModelAdmin) else None


def _admin_routes(resolver: URLResolver, prefix: str = ""):
    for pattern in resolver.url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from _admin_routes(pattern, route)
        elif route.startswith("admin/"):
            yield route, pattern


def _fill(route: str, pattern: URLPattern) -> list[str]:
    """Concrete paths for one route; its parameters are filled with rows that exist."""
    if route.endswith("(?P<url>.*)$") or "(?P<url>" in route:
        return ["/admin/no-such-page/"]
    model_admin = _model_admin_of(pattern)
    names = [m.group("name") for m in _PARAMETER.finditer(route)]
    values: dict[str, list[str]] = {}
    for name in names:
        if name in ("object_id", "id") and model_admin is not None:
            row = model_admin.model._default_manager.order_by("pk").first()
            assert row is not None, f"add a {model_admin.model._meta.label} row to the sweep's fixture"
            values[name] = [str(row.pk)]
        elif name == "app_label":
            values[name] = sorted({m._meta.app_label for m in admin.site._registry})
        elif name == "content_type_id":
            account_type = ContentType.objects.get(app_label="accounts", model="claudeaccount")
            values[name] = [str(account_type.pk)]
        elif name in ("object_id", "account_id"):
            values[name] = [str(account_services.ClaudeAccount.objects.get().pk)]
        elif name == "seat_id":
            values[name] = [str(Seat.objects.order_by("slug").first().pk)]
        else:
            raise AssertionError(f"teach the admin sweep how to fill <{name}> in {route}")
    paths = [route]
    for name, choices in values.items():
        paths = [re.sub(rf"<(?:\w+:)?{name}>", choice, path, count=1) for path in paths for choice in choices]
    return ["/" + path.lstrip("^").rstrip("$") for path in paths]


def _every_admin_page() -> list[str]:
    pages = set()
    for route, pattern in _admin_routes(get_resolver()):
        pages.update(_fill(route, pattern))
    # Logging out ends the session the rest of the sweep needs, so those pages come last.
    return sorted(pages, key=lambda path: ("logout" in path, path))


def test_no_admin_page_answers_5xx_to_any_role(live, every_row, people):
    """Over real HTTP, each role with its own session cookie, GET and POST on every page."""
    pages = _every_admin_page()
    assert len(pages) > 50, pages
    failures = []
    for persona in PERSONAS:
        cookie = None
        if persona in people:
            client = Client()
            client.force_login(people[persona])
            cookie = client.cookies["sessionid"].value
        with browser_session(cookie) as session:
            for path in pages:
                for method in ("GET", "POST"):
                    response = session.request(method, live.url + path, allow_redirects=False, timeout=30)
                    if response.status_code >= 500:
                        failures.append(f"{persona} {method} {path}: {response.status_code}")
    assert not failures, "\n".join(failures)


def test_the_sweep_reaches_the_pages_that_once_failed(every_row):
    pages = _every_admin_page()
    account = account_services.ClaudeAccount.objects.get()
    assert f"/admin/accounts/claudeaccount/{account.pk}/change/" in pages
