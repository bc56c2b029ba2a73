"""Scripted logins through a real OpenID Connect provider on loopback into the live admin."""

import pytest
from django.contrib.auth import get_user_model

from limiter.models import InstallCode
from limiter.services import seat_create

pytestmark = [pytest.mark.service, pytest.mark.django_db(transaction=True)]


def test_admin_user_and_readonly_members_reach_the_admin_with_their_rights(visitor):
    seat_create(slug="bob-laptop", name="Bob", email="bob@example.test")
    seat_create(slug="carol-laptop", name="Carol", email="carol@example.test")

    alice = visitor()
    landed = alice.log_in("alice")
    assert landed.status_code == 200 and landed.url.endswith("/admin/")
    assert alice.get("/admin/auth/user/add/").status_code == 200
    assert alice.get("/admin/limiter/seat/add/").status_code == 200

    bob = visitor()
    landed = bob.log_in("bob")
    assert landed.status_code == 200 and landed.url.endswith("/admin/")
    assert bob.get("/admin/limiter/seat/").status_code == 200
    assert bob.get("/admin/limiter/seat/add/").status_code == 403
    my_seat = bob.get("/admin/my-seat/")
    assert my_seat.status_code == 200 and "bob-laptop" in my_seat.text and "carol-laptop" not in my_seat.text

    carol = visitor()
    landed = carol.log_in("carol")
    assert landed.status_code == 200 and landed.url.endswith("/admin/")
    assert carol.get("/admin/limiter/seat/").status_code == 200
    assert carol.get("/admin/limiter/seat/add/").status_code == 403
    assert carol.get("/admin/my-seat/").status_code == 403
    assert carol.get("/admin/limiter/hooktoken/").status_code == 403

    users = {u.username: u for u in get_user_model().objects.prefetch_related("groups")}
    assert users["alice"].is_superuser and users["alice"].is_staff
    assert not users["bob"].is_superuser and [g.name for g in users["bob"].groups.all()] == ["user"]
    assert not users["carol"].is_superuser and [g.name for g in users["carol"].groups.all()] == ["readonly"]


def test_moving_a_member_between_groups_changes_their_rights_at_the_next_login(visitor, idp):
    seat = seat_create(slug="bob-laptop", name="Bob", email="bob@example.test")
    before = visitor()
    before.log_in("bob")
    assert before.get("/admin/auth/user/add/").status_code == 403

    idp.set_person("bob", groups=["governor-admins"])
    promoted = visitor()
    promoted.log_in("bob")
    assert promoted.get("/admin/auth/user/add/").status_code == 200

    idp.set_person("bob", groups=["governor-readonly"])
    demoted = visitor()
    demoted.log_in("bob")
    assert demoted.get("/admin/auth/user/add/").status_code == 403
    assert demoted.get("/admin/my-seat/").status_code == 403
    # Rights live on the account, so the sessions opened before the demotion lose them too.
    assert before.get("/admin/my-seat/").status_code == 403
    assert not InstallCode.objects.filter(seat=seat).exists()


def test_someone_in_no_governor_group_is_refused_with_a_clear_page_if_groups_are_required(visitor, settings):
    settings.SSO_REQUIRE_GROUP = True
    dave = visitor()
    refused = dave.log_in("dave")
    assert refused.status_code == 403
    assert "not a member of any group" in refused.text and "governor-users" in refused.text
    assert dave.get("/admin/limiter/seat/").status_code == 403
    assert not get_user_model().objects.get(username="dave").is_staff


def test_someone_in_no_governor_group_is_readonly_when_no_group_is_required(visitor):
    dave = visitor()
    landed = dave.log_in("dave")
    assert landed.status_code == 200 and landed.url.endswith("/admin/")
    assert dave.get("/admin/limiter/seat/").status_code == 200
    assert dave.get("/admin/limiter/seat/add/").status_code == 403


def test_an_admin_forces_a_member_to_log_in_again(visitor):
    alice, bob = visitor(), visitor()
    alice.log_in("alice")
    bob.log_in("bob")
    assert bob.get("/admin/", allow_redirects=False).status_code == 200

    bob_pk = str(get_user_model().objects.get(username="bob").pk)
    done = alice.submit_action("/admin/auth/user/", "force_logout", [bob_pk])
    assert done.status_code == 200 and "Ended 1 session" in done.text

    again = bob.get("/admin/", allow_redirects=False)
    assert again.status_code == 302 and again.headers["Location"].startswith("/admin/login/")
    assert alice.get("/admin/", allow_redirects=False).status_code == 200


def test_a_local_account_with_the_same_email_is_neither_taken_over_nor_in_the_way(visitor, django_user_model):
    root = django_user_model.objects.create_superuser("root", "bob@example.test", "break-glass-Passw0rd")
    bob = visitor()
    landed = bob.log_in("bob")
    assert landed.status_code == 200 and landed.url.endswith("/admin/")
    assert bob.get("/admin/auth/user/add/").status_code == 403
    signed_in = django_user_model.objects.exclude(pk=root.pk).get()
    assert signed_in.email == "bob@example.test" and not signed_in.is_superuser
