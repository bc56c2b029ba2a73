"""The dashboard socket: who may listen, what they hear, and what a reconnect replays.

Runs on whatever channel layer the settings give: in-memory (the web process tails the log) on the plain
run, channels-redis (publishers send through Redis) when REDIS_URL is set.
"""

from concurrent.futures import ThreadPoolExecutor

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client
from django.utils import timezone

from config.asgi import application
from limiter import services, turns
from monitoring import eventlog, roles
from monitoring.tests.conftest import REFUSED

pytestmark = pytest.mark.django_db(transaction=True)

HOST = "testserver"
TIMEOUT = 5


def run(scenario, *args):
    """Runs an async scenario on a thread of its own: a browser test may keep an event loop on this one."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(async_to_sync(scenario), *args).result()


def _cookie(user) -> str:
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}"


def _socket(cookie: str = "", origin: str = f"http://{HOST}", since: str = "") -> WebsocketCommunicator:
    """`cookie` is `_cookie(user)`, made outside the event loop (logging in touches the database)."""
    headers = [(b"host", HOST.encode()), (b"origin", origin.encode())]
    if cookie:
        headers.append((b"cookie", cookie.encode()))
    path = "/ws/admin/feed/" + (f"?since={since}" if since else "")
    return WebsocketCommunicator(application, path, headers=headers)


async def _close_code(socket: WebsocketCommunicator) -> int:
    connected, _ = await socket.connect(timeout=TIMEOUT)
    assert connected  # accepted first, so the browser sees our close code rather than a bare 1006
    message = await socket.receive_output(timeout=TIMEOUT)
    assert message["type"] == "websocket.close"
    return message["code"]


def test_refuses_anonymous_visitors_with_4403():
    assert run(_close_code, _socket()) == 4403


def test_refuses_people_without_a_governor_role_with_4403(people):
    assert run(_close_code, _socket(_cookie(people[REFUSED]))) == 4403


def test_refuses_a_page_from_another_origin_with_4403(people):
    socket = _socket(_cookie(people[roles.ADMIN]), origin="https://evil.example")
    assert run(_close_code, socket) == 4403


def test_refuses_an_unreadable_cursor_with_4400(people):
    socket = _socket(_cookie(people[roles.READONLY]), since="e1;DROP")
    assert run(_close_code, socket) == 4400


async def _receive_until(socket, wanted_type: str) -> dict:
    while True:
        message = await socket.receive_json_from(timeout=TIMEOUT)
        if message["type"] == wanted_type:
            return message


def test_readonly_staff_hear_a_seat_killed_after_they_connect(people):
    seat = services.seat_create(slug="ada", name="Ada")
    cookie = _cookie(people[roles.READONLY])

    async def scenario():
        socket = _socket(cookie)
        connected, _ = await socket.connect(timeout=TIMEOUT)
        assert connected
        hello = await socket.receive_json_from(timeout=TIMEOUT)
        assert hello["type"] == "connected" and hello["cursor"].startswith("e")
        await database_sync_to_async(services.seat_set_status)(seat=seat, status="killed", by="root")
        killed = await _receive_until(socket, "user_killed")
        assert (killed["userId"], killed["userName"], killed["oldStatus"]) == (str(seat.pk), "Ada", "active")
        await socket.disconnect()

    run(scenario)


def _hook_activity(seat, token):
    """One allowed prompt, one blocked prompt and one counted turn through the hook API's services."""
    now = timezone.now()
    auth = seat.tokens.get()
    turns.decide_check(
        token=auth,
        model="claude-opus-4",
        session_id="s1",
        project_dir="/src/app",
        prompt_length=12,
        ip="127.0.0.1",
        now=now,
    )
    turns.record_count(
        token=auth,
        model="claude-opus-4",
        session_id="s1",
        response_length=40,
        event_id=None,
        client_timestamp="",
        client_time=None,
        usage=None,
        now=now,
    )
    services.seat_set_status(seat=seat, status="paused", by="root")
    seat.refresh_from_db()
    auth = seat.tokens.select_related("seat", "seat__team", "device").get()
    turns.decide_check(
        token=auth,
        model="claude-opus-4",
        session_id="s2",
        project_dir="/src/app",
        prompt_length=5,
        ip="127.0.0.1",
        now=timezone.now(),
    )


def test_a_reconnect_with_since_receives_exactly_the_missed_events(people):
    seat = services.seat_create(slug="ada", name="Ada")
    token, _ = services.register(code=services.install_code_issue(seat=seat, by="root"), ip="127.0.0.1")
    cookie = _cookie(people[roles.ADMIN])

    async def scenario():
        socket = _socket(cookie)
        await socket.connect(timeout=TIMEOUT)
        cursor = (await socket.receive_json_from(timeout=TIMEOUT))["cursor"]
        await socket.disconnect()

        await database_sync_to_async(_hook_activity)(seat, token)
        later = await database_sync_to_async(eventlog.record)("alert.fired", data={"rule": "weekly 90%"})

        socket = _socket(cookie, since=cursor)
        await socket.connect(timeout=TIMEOUT)
        assert (await socket.receive_json_from(timeout=TIMEOUT))["type"] == "connected"
        replayed = []
        while (message := await socket.receive_json_from(timeout=TIMEOUT))["type"] != "backfill_done":
            replayed.append(message)
        assert [m["type"] for m in replayed] == [
            "user_check",
            "user_counted",
            "user_status_change",
            "user_blocked",
            "alert.fired",
        ]
        assert replayed[3]["reason"] and replayed[-1]["id"] == later.id
        assert message["cursor"].startswith(f"e{later.id}.")
        # What was replayed is not sent a second time when the live path catches up.
        assert await socket.receive_nothing(timeout=1)
        await socket.disconnect()

    run(scenario)


def test_prompts_blocks_and_counted_turns_reach_a_connected_dashboard_live(people):
    seat = services.seat_create(slug="ada", name="Ada")
    token, _ = services.register(code=services.install_code_issue(seat=seat, by="root"), ip="127.0.0.1")
    cookie = _cookie(people[roles.READONLY])

    async def scenario():
        socket = _socket(cookie)
        await socket.connect(timeout=TIMEOUT)
        assert (await socket.receive_json_from(timeout=TIMEOUT))["type"] == "connected"
        await database_sync_to_async(_hook_activity)(seat, token)
        heard = [(await socket.receive_json_from(timeout=TIMEOUT)) for _ in range(4)]
        expected = ["user_check", "user_counted", "user_status_change", "user_blocked"]
        assert [m["type"] for m in heard] == expected
        assert heard[1]["creditCost"] == 10 and heard[1]["userName"] == "Ada"
        assert "paused" in heard[3]["reason"].lower()
        assert await socket.receive_nothing(timeout=0.5)
        await socket.disconnect()

    run(scenario)


def test_a_quiet_socket_stays_open_past_the_redis_client_read_timeout(people):
    """redis-py 8 times out idle reads after 5 s unless told not to; a dashboard is mostly quiet."""
    seat = services.seat_create(slug="ada", name="Ada")
    cookie = _cookie(people[roles.READONLY])

    async def scenario():
        socket = _socket(cookie)
        await socket.connect(timeout=TIMEOUT)
        assert (await socket.receive_json_from(timeout=TIMEOUT))["type"] == "connected"
        assert await socket.receive_nothing(timeout=6.5)
        await database_sync_to_async(services.seat_set_status)(seat=seat, status="paused", by="root")
        assert (await _receive_until(socket, "user_status_change"))["newStatus"] == "paused"
        await socket.disconnect()

    run(scenario)
