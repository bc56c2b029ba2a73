"""Every role against every admin model, action and custom admin view, over real HTTP requests.

The models come from admin.site._registry at collection time, so a model registered later is covered
without touching this file; a custom admin URL must be declared in CUSTOM_VIEWS or the suite fails.
"""

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.db.models import Model
from django.test import RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.views.generic import RedirectView

from monitoring import roles

from .conftest import ANONYMOUS, PERSONAS, REFUSED

MODELS = sorted(admin.site._registry, key=lambda m: m._meta.label_lower)
MODEL_IDS = [m._meta.label_lower for m in MODELS]
LIMITED = (roles.USER, roles.READONLY)
# Role `user` adds and manages its own rows of these (alerts/admin.py); tests/alerts/test_admin_and_secrets.py
# checks that scoping, so here only the other roles are held to the read-only rule.
OWNER_SCOPED = {"alerts.channel", "alerts.subscription", "alerts.silence"}

SITE_VIEWS = {
    "index",
    "login",
    "logout",
    "password_change",
    "password_change_done",
    "autocomplete",
    "jsi18n",
    "view_on_site",
    "app_list",
}
MODEL_VIEWS = ("changelist", "add", "history", "delete", "change")
# Admin pages outside what ModelAdmin and AdminSite generate, and the roles that may open each.
ALL_STAFF = {roles.ADMIN, roles.USER, roles.READONLY}
# Each entry: (roles allowed or "public", the URL arguments given the test's people).
CUSTOM_VIEWS = {
    "monitoring:login": ("public", lambda people: []),
    "monitoring:local-login": ("public", lambda people: []),
    "monitoring:signed-out": ("public", lambda people: []),
    "monitoring:my-seat": ({roles.ADMIN, roles.USER}, lambda people: []),
    "admin:auth_user_password_change": ({roles.ADMIN}, lambda people: [people[roles.READONLY].pk]),
    "admin:trends": (ALL_STAFF, lambda people: []),
    "admin:trends-csv": (ALL_STAFF, lambda people: []),
    "admin:limit-hits": (ALL_STAFF, lambda people: []),
    "admin:seat-page": (ALL_STAFF, lambda people: [_any_seat()]),
    "admin:seat-card": (ALL_STAFF, lambda people: [_any_seat()]),
    "admin:account-page": (ALL_STAFF, lambda people: [_any_account()]),
}

# POST-only admin actions (a GET is 405): each with the test that holds its roles to account.
POST_ACTIONS = {
    "admin:alerts_channel_send_test": "tests/alerts/test_admin_and_secrets.py",
}


def _any_seat():
    from limiter.models import Seat

    return Seat.objects.order_by("slug").values_list("pk", flat=True).first()


def _any_account():
    from accounts.models import ClaudeAccount

    account, _ = ClaudeAccount.objects.get_or_create(
        label="watched", defaults={"source": "cookie", "credential": "sk-ant-sid01-matrix"}
    )
    return account.pk


def _secret(model) -> bool:
    return roles.is_secret_model(model._meta.app_label, model._meta.model_name)


def _url(model, view: str, obj: Model | None = None) -> str:
    opts = model._meta
    name = f"admin:{opts.app_label}_{opts.model_name}_{view}"
    if view in ("change", "delete", "history"):
        # A model this suite cannot fill still gets its permission checks, against a key that matches nothing.
        return reverse(name, args=[obj.pk if obj is not None else "0"])
    return reverse(name)


def _superuser_request(people):
    request = RequestFactory().get("/admin/")
    request.user = people[roles.ADMIN]
    return request


def _snapshot(obj: Model | None) -> tuple:
    # Sessions come and go with each test client's login; every other table must stay as it was.
    counts = tuple(
        (m._meta.label, m._default_manager.count())
        for m in apps.get_models()
        if m._meta.managed and m is not Session
    )
    row = None
    if obj is not None:
        row = type(obj)._default_manager.filter(pk=obj.pk).values().first()
    return counts, row


def _sample(model) -> Model | None:
    return model._default_manager.order_by("pk").first()


def _opens_its_only_row(response, model) -> bool:
    """A one-row settings model's list goes straight to that row's form (creating the row if need be)."""
    row = _sample(model)
    return (
        row is not None and response.status_code == 302 and response["Location"] == _url(model, "change", row)
    )


@pytest.mark.parametrize("model", MODELS, ids=MODEL_IDS)
def test_each_role_gets_exactly_its_rights_on_every_admin_model(model, client_for, people, world):
    model_admin = admin.site._registry[model]
    obj = _sample(model)
    su = _superuser_request(people)
    for persona in PERSONAS:
        client = client_for(persona)
        label = f"{persona} on {model._meta.label}"
        pages = {view: client.get(_url(model, view, obj)) for view in MODEL_VIEWS}
        if persona == roles.ADMIN:
            can_view = model_admin.has_view_or_change_permission(su, obj)
            expected = {
                "changelist": model_admin.has_view_or_change_permission(su),
                "add": model_admin.has_add_permission(su),
                "history": can_view,
                "change": can_view,
                "delete": model_admin.has_delete_permission(su, obj),
            }
            for view, allowed in expected.items():
                # A missing row answers with a redirect to the index once permission is granted.
                ok = {200, 302} if allowed else {403}
                assert pages[view].status_code in ok, f"{label} {view}: {pages[view].status_code}"
            continue
        if persona == roles.USER and model._meta.label_lower in OWNER_SCOPED:
            continue
        before = _snapshot(obj)
        posts = {
            "add": client.post(_url(model, "add"), {}),
            "change": client.post(_url(model, "change", obj), {}),
            "delete": client.post(_url(model, "delete", obj), {"post": "yes"}),
        }
        assert _snapshot(obj) == before, f"{label} changed data"
        if persona in (ANONYMOUS, REFUSED):
            for view, response in {**pages, **posts}.items():
                assert response.status_code == 302, f"{label} {view}"
                assert response["Location"].startswith("/admin/login/"), f"{label} {view}"
            continue
        if _secret(model):
            expected_reads = {"changelist": {403}, "history": {403}, "change": {403}}
        else:
            row_page = {200} if obj is not None else {302}
            expected_reads = {"changelist": {200}, "history": row_page, "change": row_page}
        for view, ok in expected_reads.items():
            if view == "changelist" and _opens_its_only_row(pages[view], model):
                continue
            assert pages[view].status_code in ok, f"{label} {view}: {pages[view].status_code}"
        if not _secret(model) and obj is not None:
            assert b'name="_save"' not in pages["change"].content, f"{label}: the change page offers Save"
        for view in ("add", "delete"):
            assert pages[view].status_code == 403, f"{label} GET {view}: {pages[view].status_code}"
        for view, response in posts.items():
            assert response.status_code == 403, f"{label} POST {view}: {response.status_code}"


@pytest.mark.parametrize("model", MODELS, ids=MODEL_IDS)
def test_limited_roles_get_no_admin_action_and_cannot_run_one_by_posting_it(model, client_for, people, world):
    model_admin = admin.site._registry[model]
    obj = _sample(model)
    every_action = list(model_admin.get_actions(_superuser_request(people)))
    for persona in LIMITED:
        request = RequestFactory().get("/admin/")
        request.user = people[persona]
        assert list(model_admin.get_actions(request)) == [], f"{persona} is offered actions on {model}"
        client = client_for(persona)
        for action in every_action:
            before = _snapshot(obj)
            response = client.post(
                _url(model, "changelist"),
                {"action": action, "_selected_action": [obj.pk] if obj is not None else [], "index": "0"},
            )
            assert response.status_code in (200, 403), f"{persona} ran {action} on {model}"
            assert _snapshot(obj) == before, f"{persona} changed data with {action} on {model}"


def test_the_admin_role_is_offered_every_action_each_model_admin_declares(people):
    request = _superuser_request(people)
    for model, model_admin in admin.site._registry.items():
        declared = {name for name in (model_admin.actions or ()) if isinstance(name, str)}
        assert declared <= set(model_admin.get_actions(request)), model


def _admin_patterns(resolver: URLResolver, prefix: str = "", namespace: str = ""):
    for pattern in resolver.url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}:{pattern.namespace}".strip(":") if pattern.namespace else namespace
            yield from _admin_patterns(pattern, route, inner)
        elif isinstance(pattern, URLPattern) and route.startswith("admin/"):
            yield route, f"{namespace}:{pattern.name}".strip(":") if pattern.name else None, pattern


def _is_standard(name: str | None, pattern: URLPattern) -> bool:
    if name is None:
        # ModelAdmin's legacy "<id>/" redirect and AdminSite's final catch-all.
        callback = pattern.callback
        return getattr(callback, "view_class", None) is RedirectView or callback.__name__ == "catch_all_view"
    if not name.startswith("admin:"):
        return False
    short = name.removeprefix("admin:")
    model_names = {f"{m._meta.app_label}_{m._meta.model_name}_{view}" for m in MODELS for view in MODEL_VIEWS}
    return short in SITE_VIEWS or short in model_names


def test_every_custom_admin_page_has_declared_roles():
    found = {
        name or route
        for route, name, pattern in _admin_patterns(get_resolver())
        if not _is_standard(name, pattern)
    }
    declared = set(CUSTOM_VIEWS) | set(POST_ACTIONS)
    assert found == declared, "declare the roles of new admin pages in CUSTOM_VIEWS (or POST_ACTIONS)"


@pytest.mark.parametrize("name", sorted(CUSTOM_VIEWS))
def test_each_role_opens_only_the_custom_admin_pages_declared_for_it(name, client_for, people, world):
    allowed, args = CUSTOM_VIEWS[name]
    for persona in PERSONAS:
        response = client_for(persona).get(reverse(name, args=args(people)))
        if allowed == "public":
            assert response.status_code < 500, f"{persona} on {name}"
        elif persona in allowed:
            assert response.status_code == 200, f"{persona} on {name}: {response.status_code}"
        elif persona in ALL_STAFF:
            assert response.status_code == 403, f"{persona} on {name}: {response.status_code}"
        else:
            assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
        if allowed != "public" and persona not in allowed:
            before = _snapshot(None), sorted(get_user_model().objects.values_list("username", "password"))
            password = "Fresh-Passw0rd-123"
            data = {"password1": password, "password2": password, "seat": world.seat.pk}
            posted = client_for(persona).post(reverse(name, args=args(people)), data)
            assert posted.status_code in (302, 403), f"{persona} posted to {name}: {posted.status_code}"
            after = _snapshot(None), sorted(get_user_model().objects.values_list("username", "password"))
            assert after == before, f"{persona} changed data through {name}"


def test_every_staff_role_reaches_the_index_and_the_app_pages_it_may_see(client_for):
    app_labels = sorted({m._meta.app_label for m in MODELS})
    for persona in (roles.ADMIN, *LIMITED):
        client = client_for(persona)
        assert client.get("/admin/").status_code == 200, persona
        for label in app_labels:
            visible = persona == roles.ADMIN or any(
                not _secret(m) for m in MODELS if m._meta.app_label == label
            )
            assert client.get(f"/admin/{label}/").status_code == (200 if visible else 404), (persona, label)


def test_people_outside_every_role_get_the_refusal_page_not_the_admin(client_for):
    index = client_for(REFUSED).get("/admin/", follow=True)
    assert index.status_code == 403
    assert b"not a member of any group" in index.content
    anonymous = client_for(ANONYMOUS).get("/admin/")
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/admin/login/")
