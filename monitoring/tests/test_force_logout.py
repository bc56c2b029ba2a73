from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from monitoring import roles


@pytest.fixture
def sessions(people):
    """Two browsers for the `user` persona, one for readonly: all logged in."""
    opened = {"uma-laptop": Client(), "uma-phone": Client(), "rita": Client()}
    opened["uma-laptop"].force_login(people[roles.USER])
    opened["uma-phone"].force_login(people[roles.USER])
    opened["rita"].force_login(people[roles.READONLY])
    return opened


def test_an_admin_forces_a_logout_from_the_user_list(client_for, people, sessions):
    response = client_for(roles.ADMIN).post(
        "/admin/auth/user/",
        {"action": "force_logout", "_selected_action": [people[roles.USER].pk], "index": "0"},
        follow=True,
    )
    assert b"Ended 2 session(s)." in response.content
    assert sessions["uma-laptop"].get("/admin/").status_code == 302
    assert sessions["uma-phone"].get("/admin/").status_code == 302
    assert sessions["rita"].get("/admin/").status_code == 200


def test_the_command_logs_out_named_users(people, sessions):
    out = StringIO()
    call_command("force_logout", "uma", "rita", stdout=out)
    assert "Ended 3 session(s)" in out.getvalue()
    assert all(browser.get("/admin/").status_code == 302 for browser in sessions.values())


def test_the_command_names_unknown_users(people):
    with pytest.raises(CommandError, match="No such user: nobody"):
        call_command("force_logout", "uma", "nobody")


def test_the_user_list_shows_each_persons_role(client_for):
    page = client_for(roles.READONLY).get("/admin/auth/user/").content.decode()
    for name, role in (("root", "admin"), ("uma", "user"), ("rita", "readonly"), ("otto", "no access")):
        row = f'{name}@example.test</td><td class="field-role">{role}<'
        assert row in page
