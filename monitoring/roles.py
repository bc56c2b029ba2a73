"""Governor's three roles and the Django groups that carry the permissions of the two limited ones.

admin    = superuser: everything.
user     = Django group `user`: view every model that holds no secret, plus their own seat's page.
readonly = Django group `readonly`: view every model that holds no secret.
"""

from collections.abc import Iterable

from django.apps import apps
from django.contrib.auth import get_permission_codename
from django.contrib.auth.management import create_permissions
from django.contrib.auth.models import Group, Permission
from django.db import transaction

ADMIN, USER, READONLY = "admin", "user", "readonly"
ROLES = (ADMIN, USER, READONLY)
# The Django groups Governor owns; a login resets a user's membership in these and leaves others alone.
MANAGED_GROUPS = (USER, READONLY)

# Rows of these models are credentials or their digests: only admins may even list them.
SECRET_MODELS = frozenset(
    {
        "limiter.installcode",
        "limiter.hooktoken",
        "sessions.session",
        "account.emailconfirmation",
        "socialaccount.socialapp",
        "socialaccount.socialtoken",
        "socialaccount.socialaccount",
    }
)
USER_EXTRA_PERMISSIONS = ("monitoring.see_own_seat", "monitoring.issue_own_install_code")


def role_for(
    groups: Iterable[str],
    *,
    admin_groups: Iterable[str],
    user_groups: Iterable[str],
    readonly_groups: Iterable[str],
    require_group: bool,
) -> str | None:
    """The strongest role the IdP groups grant; None means "refuse" (only when a group is required)."""
    held = set(groups)
    if held & set(admin_groups):
        return ADMIN
    if held & set(user_groups):
        return USER
    if held & set(readonly_groups) or not require_group:
        return READONLY
    return None


def is_secret_model(app_label: str, model_name: str) -> bool:
    return f"{app_label}.{model_name}" in SECRET_MODELS


def _view_permissions() -> list[Permission]:
    wanted = []
    for model in apps.get_models():
        opts = model._meta
        if "view" in opts.default_permissions and not is_secret_model(opts.app_label, opts.model_name or ""):
            wanted.append((opts.app_label, get_permission_codename("view", opts)))
    by_key = {
        (p.content_type.app_label, p.codename): p
        for p in Permission.objects.filter(codename__startswith="view_").select_related("content_type")
    }
    return [by_key[key] for key in wanted if key in by_key]


def _named_permissions(names: Iterable[str]) -> list[Permission]:
    found: list[Permission] = []
    for name in names:
        app_label, codename = name.split(".", 1)
        found += Permission.objects.filter(content_type__app_label=app_label, codename=codename)
    return found


def _is_last_migrated_app(app_config) -> bool:
    # post_migrate comes once per app with models, in registry order; by the last one every permission exists.
    with_models = [config for config in apps.get_app_configs() if config.models_module is not None]
    return app_config is with_models[-1]


def role_groups_on_post_migrate(*, app_config, using: str = "default", **kwargs) -> None:
    if not _is_last_migrated_app(app_config):
        return
    # This receiver may run before auth's for the same app (monitoring is listed first), so make sure the
    # last app's permissions exist; create_permissions skips the ones already there.
    create_permissions(app_config, verbosity=0, using=using)
    role_groups_sync(using=using)


def role_groups_sync(*, using: str = "default") -> dict[str, Group]:
    """Creates the `user` and `readonly` groups and sets their permissions exactly."""
    view = _view_permissions()
    wanted = {READONLY: view, USER: view + _named_permissions(USER_EXTRA_PERMISSIONS)}
    groups = {}
    with transaction.atomic(using=using):
        for name, permissions in wanted.items():
            group, _ = Group.objects.using(using).get_or_create(name=name)
            group.permissions.set(permissions)
            groups[name] = group
    return groups


def _role_group(role: str) -> Group:
    group = Group.objects.filter(name=role).first()
    return group if group is not None else role_groups_sync()[role]


def role_apply(*, user, role: str | None) -> None:
    """Makes the user's flags and managed groups say exactly `role`; None takes every right away."""
    with transaction.atomic():
        user.is_superuser = role == ADMIN
        user.is_staff = role is not None
        user.save(update_fields=["is_staff", "is_superuser"])
        user.groups.remove(*Group.objects.filter(name__in=MANAGED_GROUPS))
        if role in MANAGED_GROUPS:
            user.groups.add(_role_group(role))


def role_of(user) -> str | None:
    """The role a user holds now, as the admin shows it."""
    if not (user.is_active and user.is_staff):
        return None
    if user.is_superuser:
        return ADMIN
    names = {group.name for group in user.groups.all()}  # .all() so a list page can prefetch
    if USER in names:
        return USER
    return READONLY if READONLY in names else None
