import json
import urllib.error
import urllib.request

from limiter import services
from limiter.models import HookToken


def call(live, path: str, token: str, body: dict | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(
        live.url + path,
        data=json.dumps(body or {}).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_rotating_a_token_gives_a_working_one_and_retires_the_old(live):
    seat = services.seat_create(slug="rota", name="Rota")
    old, _ = services.register(code=services.install_code_issue(seat=seat), ip="127.0.0.1")
    call(live, "/api/v1/sync", old, {"hostname": "laptop"})

    status, body = call(live, "/api/v1/token/rotate", old)
    assert status == 200
    fresh = body["auth_token"]
    assert fresh != old

    assert call(live, "/api/v1/check", fresh, {"model": "opus"})[1]["allowed"] is True
    status, body = call(live, "/api/v1/check", old, {"model": "opus"})
    assert status == 401
    assert body["allowed"] is False
    tokens = HookToken.objects.filter(seat=seat)
    assert tokens.filter(revoked_at__isnull=True).count() == 1
    assert tokens.get(revoked_at__isnull=True).device.hostname == "laptop"
    assert call(live, "/api/v1/token/rotate", old)[0] == 401
