"""The "My seat" socket: a `user` hears their own seat live, and nothing of anyone else's."""

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from config.asgi import application
from limiter import services
from monitoring import eventlog, roles
from monitoring.tests.test_live_feed import HOST, TIMEOUT, _close_code, _cookie, _hook_activity, run

pytestmark = pytest.mark.django_db(transaction=True)
OWN_ACTIVITY = ["user_check", "user_counted", "user_status_change", "user_blocked"]


def _socket(cookie: str, since: str = "", origin: str = f"http://{HOST}") -> WebsocketCommunicator:
    headers = [(b"host", HOST.encode()), (b"origin", origin.encode()), (b"cookie", cookie.encode())]
    path = "/ws/admin/my-seat/" + (f"?since={since}" if since else "")
    return WebsocketCommunicator(application, path, headers=headers)


def _seat_with_token(slug: str, email: str = ""):
    seat = services.seat_create(slug=slug, name=slug.title(), email=email)
    token, _ = services.register(code=services.install_code_issue(seat=seat, by="root"), ip="127.0.0.1")
    return seat, token


def test_a_user_hears_their_own_seat_live_and_not_another_seat(people):
    mine, my_token = _seat_with_token("uma-laptop", email="UMA@example.test")
    other, other_token = _seat_with_token("bob-laptop")
    cookie = _cookie(people[roles.USER])

    async def scenario():
        socket = _socket(cookie)
        await socket.connect(timeout=TIMEOUT)
        assert (await socket.receive_json_from(timeout=TIMEOUT))["type"] == "connected"
        await database_sync_to_async(_hook_activity)(other, other_token)
        await database_sync_to_async(eventlog.record)("alert.fired", data={"rule": "weekly 90%"})
        await database_sync_to_async(_hook_activity)(mine, my_token)
        heard = [await socket.receive_json_from(timeout=TIMEOUT) for _ in OWN_ACTIVITY]
        assert [m["type"] for m in heard] == OWN_ACTIVITY
        assert {m["seatId"] for m in heard} == {str(mine.pk)}
        assert await socket.receive_nothing(timeout=0.5)
        await socket.disconnect()

    run(scenario)


def test_a_reconnecting_user_is_replayed_only_their_own_missed_events(people):
    mine, my_token = _seat_with_token("uma-laptop", email="uma@example.test")
    other, other_token = _seat_with_token("bob-laptop")
    cookie = _cookie(people[roles.USER])

    async def scenario():
        socket = _socket(cookie)
        await socket.connect(timeout=TIMEOUT)
        cursor = (await socket.receive_json_from(timeout=TIMEOUT))["cursor"]
        await socket.disconnect()
        await database_sync_to_async(_hook_activity)(mine, my_token)
        await database_sync_to_async(_hook_activity)(other, other_token)

        socket = _socket(cookie, since=cursor)
        await socket.connect(timeout=TIMEOUT)
        assert (await socket.receive_json_from(timeout=TIMEOUT))["type"] == "connected"
        replayed = []
        while (message := await socket.receive_json_from(timeout=TIMEOUT))["type"] != "backfill_done":
            replayed.append(message)
        assert [m["type"] for m in replayed] == OWN_ACTIVITY
        assert {m["seatId"] for m in replayed} == {str(mine.pk)}
        await socket.disconnect()

    run(scenario)


@pytest.mark.parametrize("persona", [roles.READONLY, "refused"])
def test_people_without_the_user_role_are_refused_with_4403(people, persona):
    assert run(_close_code, _socket(_cookie(people[persona]))) == 4403


def test_a_page_from_another_origin_is_refused_with_4403(people):
    assert run(_close_code, _socket(_cookie(people[roles.USER]), origin="https://evil.example")) == 4403


def test_the_my_seat_page_opens_the_own_seat_socket_with_a_cursor(client_for, people):
    _seat_with_token("uma-laptop", email="uma@example.test")

    html = client_for(roles.USER).get("/admin/my-seat/").content.decode()

    assert 'data-socket="/ws/admin/my-seat/"' in html and 'data-cursor="e' in html
    assert 'class="card seat"' in html
