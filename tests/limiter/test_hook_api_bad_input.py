"""Bad input never gets a 500 or an HTML page: every endpoint answers a clear JSON error (contract §1, §8)."""

import json
import socket
from datetime import timedelta

import pytest
from django.utils import timezone

from limiter import services
from limiter.models import InstallCode, Seat, UsageEvent

from .conftest import HookApi, token_for

POST_ENDPOINTS = ["register", "sync", "check", "count"]
TOKEN_ENDPOINTS = ["sync", "check", "count"]
MAX_BODY = 64 * 1024
CHECK_DENY_REASON = (
    "This machine's Claude Governor token is not valid. Ask your admin for a new install code."
)


@pytest.fixture
def api(live, alice):
    return HookApi(live, token_for(alice))


def failures(cases, send, expect):
    """Sends every case and lists those whose reply does not meet `expect`, so one run shows them all."""
    found = []
    for case in cases:
        reply = send(case)
        try:
            expect(reply)
        except AssertionError as problem:
            found.append((case, reply.status, reply.text[:160], str(problem).splitlines()[0]))
    return found


def assert_json_error(reply, status, error=None):
    assert reply.status == status, reply.text
    assert reply.headers["content-type"].startswith("application/json"), reply.text[:200]
    assert isinstance(reply.json.get("error"), str)
    assert reply.json["error"]
    if error is not None:
        assert reply.json["error"] == error


def assert_check_error_blocks(reply):
    """A v1 client shows `reason`; `status: killed` would log the user out of Claude Code."""
    assert reply.json["allowed"] is False
    assert isinstance(reply.json["reason"], str)
    assert reply.json["reason"]
    assert "status" not in reply.json


def error_for(endpoint, status, error=None):
    def expect(reply):
        assert_json_error(reply, status, error)
        if endpoint == "check":
            assert_check_error_blocks(reply)

    return expect


@pytest.mark.parametrize("endpoint", POST_ENDPOINTS)
def test_malformed_json_is_a_400(api, endpoint):
    bodies = [b"{", b"{'model': 'opus'}", b'{"model": "opus",}', b"\xff\xfe\x00", b"opus", b"NaN]"]
    send = lambda raw: api.post(endpoint, raw=raw)  # noqa: E731
    assert failures(bodies, send, error_for(endpoint, 400, "Malformed JSON")) == []


@pytest.mark.parametrize("endpoint", POST_ENDPOINTS)
def test_json_that_is_not_an_object_is_a_400(api, endpoint):
    bodies = [[], ["opus"], "opus", 42, 1.5, None, True]
    send = lambda body: api.post(endpoint, raw=json.dumps(body).encode())  # noqa: E731
    assert failures(bodies, send, error_for(endpoint, 400, "Request body must be a JSON object")) == []


def test_killed_seat_sending_junk_to_check_is_blocked_without_a_logout(api, alice):
    services.seat_set_status(seat=alice, status=Seat.KILLED, by="admin")
    reply = api.post("check", raw=b"[")
    assert_json_error(reply, 400)
    assert_check_error_blocks(reply)


STRING_FIELDS = {
    "register": ["code"],
    "sync": [
        "model",
        "hostname",
        "platform",
        "arch",
        "os_version",
        "node_version",
        "claude_version",
        "session_id",
    ],
    "check": ["model", "project_dir", "session_id"],
    "count": ["model", "timestamp", "session_id"],
}
COUNT_FIELDS = {"check": ["prompt_length"], "count": ["response_length"]}
NOT_STRINGS = [42, 1.5, True, ["opus"], {"name": "opus"}]
NOT_COUNTS = [-1, 1.5, "42", True, [1], {"n": 1}, 2**31, 10**30]


@pytest.mark.parametrize("endpoint", list(STRING_FIELDS))
def test_a_string_field_of_another_type_is_named_in_a_400(api, endpoint):
    cases = [(field, value) for field in STRING_FIELDS[endpoint] for value in NOT_STRINGS]
    problems = failures(
        cases,
        lambda case: api.post(endpoint, {case[0]: case[1]}),
        lambda reply: error_for(endpoint, 400)(reply) or assert_error_names(reply, STRING_FIELDS[endpoint]),
    )
    assert problems == []


def assert_error_names(reply, fields):
    assert any(reply.json["error"] == f"{field}: must be a string" for field in fields), reply.json["error"]


@pytest.mark.parametrize(("endpoint", "field"), [("check", "prompt_length"), ("count", "response_length")])
def test_a_count_that_is_not_a_small_whole_number_is_a_400(api, endpoint, field):
    def expect(reply):
        error_for(endpoint, 400)(reply)
        assert reply.json["error"].startswith(f"{field}: must be an integer from 0 to ")

    send = lambda value: api.post(endpoint, {"model": "opus", "session_id": "s1", field: value})  # noqa: E731
    assert failures(NOT_COUNTS, send, expect) == []
    assert not UsageEvent.objects.exists()


@pytest.mark.parametrize(
    ("endpoint", "field"), [("sync", "hostname"), ("check", "project_dir"), ("count", "session_id")]
)
def test_strings_a_database_cannot_store_are_a_400(api, endpoint, field):
    def expect(reply):
        error_for(endpoint, 400)(reply)
        assert reply.json["error"].startswith(f"{field}: ")

    texts = ["dev\x00box", "\ud800", "a\udfffb"]  # NUL, lone high and low surrogates
    send = lambda text: api.post(endpoint, raw=json.dumps({"model": "opus", field: text}).encode())  # noqa: E731
    assert failures(texts, send, expect) == []


def test_an_unstorable_install_code_is_a_400(api):
    reply = api.post("register", raw=b'{"code": "CLM-\\ud800"}')
    assert reply.status in (400, 404), reply.text
    assert_json_error(reply, reply.status)


def test_an_unstorable_body_token_is_refused(api):
    reply = api.post("check", raw=b'{"auth_token": "\\ud800"}', token="")
    assert_json_error(reply, 401, "Invalid auth_token")


def test_deeply_nested_json_is_a_400(api):
    reply = api.post("check", raw=b'{"local_usage": ' + b"[" * 30000 + b"]" * 30000 + b"}")
    assert_json_error(reply, 400)
    assert_check_error_blocks(reply)


def test_over_long_informational_strings_are_cut_not_rejected(api, alice):
    reply = api.post("sync", {"hostname": "h" * 1000, "platform": "p" * 300, "session_id": "s" * 400})
    assert reply.status == 200, reply.text
    device = alice.devices.get()
    assert (len(device.hostname), len(device.platform)) == (255, 255)


def test_unknown_fields_are_ignored(api):
    assert api.post("check", {"model": "opus", "future_field": {"x": [1]}}).json["allowed"] is True
    assert (
        api.post("count", {"model": "opus", "usage": {"input_tokens": 5, "thinking_tokens": 9}}).status == 200
    )


def test_event_id_must_be_a_canonical_uuid(api):
    event_ids = [
        "not-a-uuid",
        "",
        42,
        True,
        "6f1c1f4e3b8e4c439a550f6c1d3c2a10",
        "{6f1c1f4e-3b8e-4c43-9a55-0f6c1d3c2a10}",
        "urn:uuid:6f1c1f4e-3b8e-4c43-9a55-0f6c1d3c2a10",
        "6f1c1f4e-3b8e-4c43-9a55-0f6c1d3c2a10-0",
        ["6f1c1f4e-3b8e-4c43-9a55-0f6c1d3c2a10"],
    ]
    send = lambda event_id: api.post("count", {"model": "opus", "event_id": event_id})  # noqa: E731
    expect = lambda reply: assert_json_error(reply, 400, "event_id must be a UUID")  # noqa: E731
    assert failures(event_ids, send, expect) == []
    assert not UsageEvent.objects.exists()


def test_event_id_accepts_any_uuid_version_in_either_case(api):
    for event_id in ("6F1C1F4E-3B8E-4C43-9A55-0F6C1D3C2A10", "00000000-0000-0000-0000-000000000000"):
        assert api.post("count", {"model": "opus", "event_id": event_id}).status == 200
    assert UsageEvent.objects.count() == 2


def test_bad_token_usage_is_a_400_naming_the_key(api):
    cases = [
        ([1, 2], "usage"),
        ("lots", "usage"),
        ({"input_tokens": -1}, "usage.input_tokens"),
        ({"output_tokens": "12"}, "usage.output_tokens"),
        ({"cache_read_input_tokens": 10**10 + 1}, "usage.cache_read_input_tokens"),
        ({"cache_creation_input_tokens": 1.5}, "usage.cache_creation_input_tokens"),
        ({"input_tokens": True}, "usage.input_tokens"),
    ]
    wrong = []
    for usage, key in cases:
        reply = api.post("count", {"model": "opus", "usage": usage})
        if reply.status != 400 or not reply.json["error"].startswith(f"{key}: "):
            wrong.append((usage, reply.status, reply.text))
    assert wrong == []
    assert not UsageEvent.objects.exists()


def test_token_usage_is_stored_with_missing_keys_as_zero(api):
    usage = {"input_tokens": 1856, "output_tokens": 1575, "cache_read_input_tokens": 10**10}
    assert api.post("count", {"model": "opus", "usage": usage}).status == 200
    event = UsageEvent.objects.get()
    assert (event.input_tokens, event.output_tokens) == (1856, 1575)
    assert (event.cache_creation_input_tokens, event.cache_read_input_tokens) == (0, 10**10)


@pytest.mark.parametrize("endpoint", POST_ENDPOINTS)
def test_a_body_over_64_kib_is_a_413(api, endpoint):
    reply = api.post(endpoint, raw=json.dumps({"model": "x" * MAX_BODY}).encode())
    assert_json_error(reply, 413, "Request body too large")
    if endpoint == "check":
        assert_check_error_blocks(reply)


def test_a_body_just_under_64_kib_is_read(api):
    body = json.dumps({"model": "opus", "project_dir": ""}).encode()
    padded = body[:-1] + b" " * (MAX_BODY - len(body)) + b"}"
    assert len(padded) == MAX_BODY
    assert api.post("check", raw=padded).json["allowed"] is True


def raw_exchange(live, request: bytes) -> tuple[int, bytes, bytes]:
    with socket.create_connection(("127.0.0.1", live.port), timeout=10) as conn:
        conn.sendall(request)
        conn.shutdown(socket.SHUT_WR)
        data = b""
        while chunk := conn.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), head, body


def test_a_nonsense_content_length_is_not_a_server_fault(api, live):
    for length in ["abc", "-5", "1e3", "\u00b2"]:
        status, head, body = raw_exchange(
            live,
            f"POST /api/v1/check HTTP/1.0\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {api.token}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {length}\r\n\r\n{{}}".encode("latin-1"),
        )
        assert status == 400, (length, head)
        assert b"application/json" in head
        assert json.loads(body)["allowed"] is False


@pytest.mark.parametrize("endpoint", TOKEN_ENDPOINTS)
def test_missing_token_is_a_401(live, endpoint):
    reply = HookApi(live).post(endpoint, {"model": "opus"})
    assert_json_error(reply, 401, "auth_token required")
    if endpoint == "check":
        assert_check_error_blocks(reply)
        assert reply.json["reason"] != CHECK_DENY_REASON


@pytest.mark.parametrize("endpoint", TOKEN_ENDPOINTS)
def test_unknown_token_is_a_401(live, alice, endpoint):
    def expect(reply):
        error_for(endpoint, 401, "Invalid auth_token")(reply)
        if endpoint == "check":
            assert reply.json["reason"] == CHECK_DENY_REASON

    tokens = ["gvt_unknown", "6f1c1f4e-3b8e-4c43-9a55-0f6c1d3c2a10", "é", token_for(alice) + "x"]
    send = lambda token: HookApi(live, token).post(endpoint, {"model": "opus"})  # noqa: E731
    assert failures(tokens, send, expect) == []


@pytest.mark.parametrize("endpoint", [*TOKEN_ENDPOINTS, "status"])
def test_revoked_token_is_a_401_everywhere(api, alice, endpoint):
    services.token_revoke(token=alice.tokens.get())
    reply = api.get("status") if endpoint == "status" else api.post(endpoint, {})
    assert_json_error(reply, 401, "Invalid auth_token")


def test_status_takes_the_token_only_from_the_header(api):
    reply = api.request("GET", "/api/v1/status", raw=json.dumps({"auth_token": api.token}).encode(), token="")
    assert_json_error(reply, 401, "auth_token required")
    assert api.get("status").status == 200


def test_an_authorization_header_without_a_bearer_token_is_a_401(live):
    headers = ["Basic dXNlcjpwYXNz", "Bearer", "Bearer   ", "bearer", "Token abc"]
    send = lambda header: HookApi(live).post("sync", {}, headers={"Authorization": header})  # noqa: E731
    assert failures(headers, send, lambda reply: assert_json_error(reply, 401, "auth_token required")) == []


def test_bearer_scheme_is_case_insensitive(api):
    assert api.post("sync", {}, headers={"Authorization": f"bearer {api.token}"}).status == 200


def test_register_without_a_code_is_a_400(live):
    bodies = [{}, {"code": ""}, {"code": "   "}, {"code": None}]
    send = lambda body: HookApi(live).post("register", body)  # noqa: E731
    assert failures(bodies, send, lambda reply: assert_json_error(reply, 400, "Install code required")) == []


def test_used_expired_and_unknown_install_codes_get_the_same_404(live, alice):
    api = HookApi(live)
    used = services.install_code_issue(seat=alice)
    assert api.post("register", {"code": used}).status == 200
    expired = services.install_code_issue(seat=alice, now=timezone.now() - timedelta(hours=73))
    replies = [api.post("register", {"code": code}) for code in (used, expired, "CLM-alice-zzzzzzzzzz")]
    for reply in replies:
        assert_json_error(reply, 404, "Invalid or already used install code")
    assert len({r.text for r in replies}) == 1


def test_an_install_code_works_until_it_expires(live, alice):
    code = services.install_code_issue(seat=alice, now=timezone.now() - timedelta(hours=71))
    assert HookApi(live).post("register", {"code": f"  {code}  "}).status == 200
    assert InstallCode.objects.get().used_at is not None


def test_wrong_method_is_a_405(api):
    cases = [
        ("GET", "register"),
        ("GET", "sync"),
        ("GET", "check"),
        ("PUT", "count"),
        ("DELETE", "count"),
        ("PATCH", "check"),
        ("POST", "status"),
        ("POST", "health"),
        ("DELETE", "register"),
    ]
    send = lambda case: api.request(case[0], f"/api/v1/{case[1]}", raw=b"{}")  # noqa: E731
    assert failures(cases, send, lambda reply: assert_json_error(reply, 405, "Method not allowed")) == []


def test_unknown_paths_under_the_api_are_json_404s(api):
    paths = ["nope", "check/extra", "v2/check", "", "checks", "admin", "register//", "%00"]
    cases = [(method, path) for method in ("GET", "POST", "PUT", "DELETE") for path in paths]
    send = lambda case: api.request(case[0], f"/api/v1/{case[1]}", raw=b"{}")  # noqa: E731
    assert failures(cases, send, lambda reply: assert_json_error(reply, 404, "Not found")) == []


@pytest.mark.parametrize("endpoint", POST_ENDPOINTS)
def test_a_trailing_slash_is_accepted(api, alice, endpoint):
    body = {"code": services.install_code_issue(seat=alice)} if endpoint == "register" else {"model": "opus"}
    reply = api.request("POST", f"/api/v1/{endpoint}/", body)
    assert reply.status == 200, reply.text
    assert api.request("GET", "/api/v1/status/").status == 200
    assert api.request("GET", "/api/v1/health/").status == 200


def test_an_empty_body_means_an_empty_object(api):
    reply = api.post("check", raw=b"")
    assert reply.status == 200
    assert reply.json["allowed"] is True
    assert api.post("count", raw=b"  \n").json["recorded"] is True
    # No model named: charged as the costliest family (the team's default policy for unknown names).
    assert UsageEvent.objects.get().family == "opus"


def test_local_usage_is_ignored_whatever_it_holds(api):
    for local_usage in (None, {}, {"opus": 99}, [1, 2], "lots", 5):
        reply = api.post("check", {"model": "opus", "local_usage": local_usage})
        assert (reply.status, reply.json["allowed"]) == (200, True), (local_usage, reply.text)
