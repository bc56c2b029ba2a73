from django.apps import apps
from django.contrib.auth import get_permission_codename
from django.contrib.auth.models import Group

from monitoring import roles

DEFAULTS = {
    "admin_groups": ["governor-admins"],
    "user_groups": ["governor-users"],
    "readonly_groups": ["governor-readonly"],
}


def test_the_strongest_group_wins():
    def role(*groups):
        return roles.role_for(groups, require_group=True, **DEFAULTS)

    assert role("governor-users", "governor-admins") == roles.ADMIN
    assert role("governor-readonly", "governor-users") == roles.USER
    assert role("governor-readonly") == roles.READONLY


def test_someone_in_no_group_is_readonly_unless_a_group_is_required():
    assert roles.role_for(["marketing"], require_group=False, **DEFAULTS) == roles.READONLY
    assert roles.role_for([], require_group=True, **DEFAULTS) is None


def test_group_names_match_exactly():
    assert roles.role_for(["Governor-Admins", "governor-admins-old"], require_group=True, **DEFAULTS) is None


def _perm_names(group: Group) -> set[str]:
    permissions = group.permissions.select_related("content_type")
    return {f"{p.content_type.app_label}.{p.codename}" for p in permissions}


def test_readonly_may_view_every_model_that_holds_no_secret_and_change_nothing(db):
    readonly = _perm_names(Group.objects.get(name=roles.READONLY))
    for model in apps.get_models():
        opts = model._meta
        if "view" not in opts.default_permissions:
            continue
        view = f"{opts.app_label}.{get_permission_codename('view', opts)}"
        assert (view in readonly) is not roles.is_secret_model(opts.app_label, opts.model_name), view
    assert all(name.split(".")[1].startswith("view_") for name in readonly)


def test_user_has_readonly_rights_plus_their_own_seat(db):
    readonly = _perm_names(Group.objects.get(name=roles.READONLY))
    user = _perm_names(Group.objects.get(name=roles.USER))
    assert user - readonly == {"monitoring.see_own_seat", "monitoring.issue_own_install_code"}
    assert readonly <= user


def test_the_groups_are_rebuilt_exactly_when_someone_edited_them(db):
    readonly = Group.objects.get(name=roles.READONLY)
    readonly.permissions.add(*Group.objects.get(name=roles.USER).permissions.all())
    readonly.permissions.remove(*readonly.permissions.filter(codename="view_seat"))
    roles.role_groups_sync()
    names = _perm_names(readonly)
    assert "limiter.view_seat" in names and "monitoring.issue_own_install_code" not in names


def test_applying_a_role_sets_flags_and_managed_groups_and_leaves_other_groups(django_user_model):
    other = Group.objects.create(name="coffee-club")
    user = django_user_model.objects.create_user("bob")
    user.groups.add(other)
    for role, staff, superuser, managed in (
        (roles.ADMIN, True, True, set()),
        (roles.USER, True, False, {roles.USER}),
        (roles.READONLY, True, False, {roles.READONLY}),
        (None, False, False, set()),
    ):
        roles.role_apply(user=user, role=role)
        user.refresh_from_db()
        names = set(user.groups.values_list("name", flat=True))
        assert (user.is_staff, user.is_superuser) == (staff, superuser), role
        assert names == managed | {"coffee-club"}, role
        assert roles.role_of(user) == role
