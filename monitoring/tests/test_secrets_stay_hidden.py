"""Limited roles walk every admin page they can reach and never meet a secret or an install code."""

from django.contrib import admin
from django.urls import reverse

from config.crypto import digest
from monitoring import roles


def _pages(client):
    yield client.get("/admin/")
    yield client.get("/admin/my-seat/")
    for model in admin.site._registry:
        opts = model._meta
        yield client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
        for obj in model._default_manager.order_by("-pk")[:5]:  # the newest: the fixture's rows
            yield client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk]))


def test_readonly_and_user_never_see_a_secret_on_any_admin_page(client_for, people, world):
    break_glass = people[roles.ADMIN]
    break_glass.set_password("break-glass-Passw0rd")
    break_glass.save(update_fields=["password"])
    password_hash = break_glass.password.rsplit("$", 1)[1]
    secrets = {
        password_hash,
        world.install_code,
        digest(world.install_code),
        world.hook_token,
        digest(world.hook_token),
        world.oidc_secret,
        world.idp_access_token,
    }
    for persona in (roles.USER, roles.READONLY):
        client = client_for(persona)
        seen = 0
        for page in _pages(client):
            body = page.content.decode()
            seen += page.status_code == 200
            leaked = [s for s in secrets if s in body]
            assert not leaked, f"{persona} saw {leaked} at {page.request['PATH_INFO']}"
        assert seen > 10, persona
