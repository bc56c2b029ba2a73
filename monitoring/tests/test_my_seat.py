"""The `user` role's own seat: usage, and a new install code shown once."""

import re

from config.crypto import digest
from limiter import services
from limiter.models import InstallCode
from monitoring import roles

CODE = re.compile(r'<code id="install-code">([^<]+)</code>')


def test_a_user_sees_the_seats_linked_to_their_email_and_their_usage(client_for, world):
    page = client_for(roles.USER).get("/admin/my-seat/")
    text = page.content.decode()
    assert page.status_code == 200
    assert "uma-laptop" in text and "rita-laptop" not in text
    assert "opus 1" in text  # today's counted turn
    assert "Issue a new install code" in text


def test_a_user_gets_a_working_install_code_for_their_seat_shown_once(client_for, world):
    before = InstallCode.objects.filter(seat=world.seat).count()
    response = client_for(roles.USER).post("/admin/my-seat/", {"seat": str(world.seat.pk)})
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    code = CODE.search(response.content.decode()).group(1)
    issued = InstallCode.objects.get(code_hash=digest(code))
    assert issued.seat == world.seat and issued.created_by == "uma"
    assert InstallCode.objects.filter(seat=world.seat).count() == before + 1
    token, seat = services.register(code=code, ip="127.0.0.1")
    assert seat == world.seat and token
    assert code not in client_for(roles.USER).get("/admin/my-seat/").content.decode()


def test_a_user_cannot_get_a_code_for_someone_elses_seat(client_for, world):
    for target in (str(world.other_seat.pk), "not-a-uuid", ""):
        response = client_for(roles.USER).post("/admin/my-seat/", {"seat": target})
        assert response.status_code == 403, target
    assert not InstallCode.objects.filter(seat=world.other_seat).exists()


def test_readonly_can_neither_open_the_page_nor_get_a_code(client_for, world):
    codes = InstallCode.objects.count()
    assert client_for(roles.READONLY).get("/admin/my-seat/").status_code == 403
    posted = client_for(roles.READONLY).post("/admin/my-seat/", {"seat": str(world.other_seat.pk)})
    assert posted.status_code == 403
    assert InstallCode.objects.count() == codes


def test_a_user_with_no_linked_seat_is_told_how_to_get_one(client_for, people):
    page = client_for(roles.USER).get("/admin/my-seat/").content.decode()
    assert "No seat is linked to" in page and "uma@example.test" in page


def test_staff_with_the_user_role_find_the_page_from_every_admin_page(client_for):
    assert b'href="/admin/my-seat/"' in client_for(roles.USER).get("/admin/").content
    assert b'href="/admin/my-seat/"' not in client_for(roles.READONLY).get("/admin/").content
