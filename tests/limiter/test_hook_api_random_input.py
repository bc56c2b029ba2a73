"""Property sweep: random JSON for every field of every endpoint never gets a 5xx or a non-JSON answer."""

import json
from datetime import UTC, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .conftest import HookApi, token_for

# Any text, lone surrogates and NUL included: JSON can carry them, databases cannot store them.
text = st.text(st.characters(exclude_categories=()), max_size=300)
scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | text
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(text, inner, max_size=4),
    max_leaves=12,
)
# Mostly well-typed values, so that most bodies get past validation and reach the database.
strings = text | st.sampled_from(["", "opus", "claude-opus-4-1[1m]", "best", "fable"]) | json_values
counts = st.integers(min_value=-(2**70), max_value=2**70) | json_values
event_ids = st.uuids().map(str) | st.uuids().map(lambda u: str(u).upper()) | json_values
timestamps = (
    st.datetimes(
        timezones=st.sampled_from([UTC, timezone(timedelta(hours=14)), timezone(-timedelta(hours=14))])
    ).map(lambda moment: moment.isoformat())
    | strings
)
token_counts = st.dictionaries(
    st.sampled_from(
        ["input_tokens", "output_tokens", "cache_creation_input_tokens", "cache_read_input_tokens"]
    )
    | text,
    st.integers(min_value=-(2**40), max_value=2**40) | json_values,
    max_size=5,
)

FIELDS = {
    "register": {"code": strings, "auth_token": strings},
    "sync": {
        **dict.fromkeys(
            [
                "model",
                "hostname",
                "platform",
                "arch",
                "os_version",
                "node_version",
                "claude_version",
                "session_id",
            ],
            strings,
        ),
        "client_version": strings,
    },
    "check": {
        "model": strings,
        "local_usage": json_values,
        "prompt_length": counts,
        "project_dir": strings,
        "session_id": strings,
    },
    "count": {
        "model": strings,
        "timestamp": timestamps,
        "session_id": strings,
        "response_length": counts,
        "event_id": event_ids,
        "usage": token_counts | json_values,
    },
}


def bodies(endpoint):
    return st.fixed_dictionaries({}, optional=FIELDS[endpoint])


def assert_answered_in_json(reply, endpoint):
    assert reply.status < 500, reply.text
    assert reply.headers["content-type"].startswith("application/json"), reply.text[:200]
    if reply.status >= 400:
        assert isinstance(reply.json["error"], str)
        assert reply.json["error"]
        if endpoint == "check":
            assert reply.json["allowed"] is False
            assert reply.json["reason"]
            assert "status" not in reply.json
    elif endpoint == "check":
        assert reply.json["status"] == "active"
        assert reply.json["allowed"] in (True, False)


@pytest.mark.parametrize("endpoint", list(FIELDS))
def test_random_json_fields_never_break_an_endpoint(live, alice, endpoint):
    api = HookApi(live, token_for(alice))

    @settings(
        max_examples=120,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(body=bodies(endpoint))
    def sweep(body):
        assert_answered_in_json(api.post(endpoint, raw=json.dumps(body).encode()), endpoint)

    sweep()


@settings(
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    endpoint=st.sampled_from(list(FIELDS)),
    raw=st.binary(max_size=200) | json_values.map(lambda v: json.dumps(v).encode()),
)
def test_random_bodies_never_break_an_endpoint(live, alice, endpoint, raw):
    api = HookApi(live, token_for(alice))
    assert_answered_in_json(api.post(endpoint, raw=raw), endpoint)
