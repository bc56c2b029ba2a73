"""Pushover, ntfy and Matrix classification against the loopback fakes."""

import time

import pytest

from alerts.transports import get
from alerts.transports.base import ConfigError, Outcome, TransportError
from tests.fakes.alert_receivers import (
    PUSHOVER_TOKEN,
    PUSHOVER_USER,
    Reply,
    matrix_rate_limited,
    pushover_over_quota,
)

from .conftest import firing, message


def pushover(**overrides):
    return get("pushover").validate({"token": PUSHOVER_TOKEN, "user": PUSHOVER_USER} | overrides)


def test_pushover_sends_a_form_and_keeps_the_request_id(receivers):
    sent = get("pushover").send(pushover(), message())
    (request,) = receivers.received("/1/messages.json")
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert request.form() == {
        "token": PUSHOVER_TOKEN,
        "user": PUSHOVER_USER,
        "title": "acct-42: 90% of 5-hour limit",
        "message": "acct-42 reached 90% of its 5-hour limit (threshold 90%).",
        "priority": "0",
    }
    assert len(sent.provider_id) == 36


def test_pushover_raises_priority_for_urgent_alerts(receivers):
    get("pushover").send(pushover(), message(firing(pct=100, urgent=True)))
    assert receivers.received()[0].form()["priority"] == "1"


def test_pushover_invalid_user_key_is_permanent(receivers):
    receivers.pushover_users.clear()
    with pytest.raises(TransportError) as caught:
        get("pushover").send(pushover(), message())
    assert caught.value.outcome == Outcome.PERMANENT
    assert "user key is invalid" in caught.value.message


def test_pushover_invalid_app_token_is_permanent(receivers):
    receivers.pushover_tokens.clear()
    with pytest.raises(TransportError) as caught:
        get("pushover").send(pushover(), message())
    assert "application token is invalid" in caught.value.message


def test_pushover_over_quota_waits_until_the_reset(receivers):
    reset = int(time.time()) + 600
    receivers.script("/1/messages.json", pushover_over_quota(reset))
    with pytest.raises(TransportError) as caught:
        get("pushover").send(pushover(), message())
    assert caught.value.outcome == Outcome.RATE_LIMITED
    assert 590 < caught.value.retry_after <= 600


def test_pushover_5xx_is_transient_and_not_retried_within_five_seconds(receivers):
    receivers.script("/1/messages.json", Reply(500, {"status": 0, "errors": ["internal"]}))
    with pytest.raises(TransportError) as caught:
        get("pushover").send(pushover(), message())
    assert (caught.value.outcome, caught.value.retry_after) == (Outcome.TRANSIENT, 5.0)


def test_pushover_emergency_resolve_cancels_by_tag(receivers):
    config = pushover(priority=2)
    get("pushover").send(config, message(firing()))
    assert receivers.received()[0].form()["tags"] == "gov-acct-42-5-hour-90"
    get("pushover").send(config, message(firing(state="resolved")))
    assert receivers.received("/1/receipts/cancel_by_tag/")[0].path.endswith("/gov-acct-42-5-hour-90.json")


def test_pushover_keys_are_validated_on_save():
    with pytest.raises(ConfigError, match="30 letters and digits"):
        get("pushover").validate({"token": "short", "user": PUSHOVER_USER})


def ntfy(receivers, **overrides):
    return get("ntfy").validate({"server": receivers.url + "/ntfy", "topic": "gov-alerts_42"} | overrides)


def test_ntfy_publishes_json_with_bearer_token(receivers):
    sent = get("ntfy").send(ntfy(receivers, token="tk_good"), message(firing(pct=100, urgent=True)))
    (request,) = receivers.received("/ntfy")
    assert request.headers["authorization"] == "Bearer tk_good"
    assert request.json() == {
        "topic": "gov-alerts_42",
        "title": "acct-42: 100% of 5-hour limit",
        "message": "acct-42 reached 100% of its 5-hour limit (threshold 90%).",
        "priority": 5,
        "tags": ["warning"],
    }
    assert sent.provider_id


def test_ntfy_revoked_token_is_permanent_and_429_is_rate_limited(receivers):
    with pytest.raises(TransportError) as caught:
        get("ntfy").send(ntfy(receivers, token="tk_revoked"), message())
    assert caught.value.outcome == Outcome.PERMANENT
    receivers.script(
        "/ntfy", Reply(429, {"code": 42901, "http": 429, "error": "limit reached"}, {"Retry-After": "12"})
    )
    with pytest.raises(TransportError) as caught:
        get("ntfy").send(ntfy(receivers), message())
    assert (caught.value.outcome, caught.value.retry_after) == (Outcome.RATE_LIMITED, 12.0)


def test_ntfy_5xx_is_transient_and_the_next_attempt_is_delivered(receivers):
    receivers.script("/ntfy", Reply(502, "bad gateway", content_type="text/plain"))
    with pytest.raises(TransportError) as caught:
        get("ntfy").send(ntfy(receivers), message())
    assert caught.value.outcome == Outcome.TRANSIENT
    assert "502" in str(caught.value)
    get("ntfy").send(ntfy(receivers), message())  # the script is spent: the server is back
    assert len(receivers.received("/ntfy")) == 2


def matrix(receivers):
    return get("matrix").validate(
        {
            "homeserver": receivers.url,
            "room_id": "!ZCygneTDQ2kOlWDh8Q-OW01Q8TfzNBQp0Vp4RBR6dHs",
            "access_token": "syt_x",
        }
    )


@pytest.mark.parametrize(
    ("reply", "wait"),
    [
        (matrix_rate_limited(4682, "5"), 5.0),  # Retry-After is preferred (spec v1.10)
        (matrix_rate_limited(4682, None), 4.682),  # the deprecated body field otherwise
    ],
)
def test_matrix_429_honours_retry_after_then_retry_after_ms(receivers, reply, wait):
    receivers.script("/_matrix/", reply)
    with pytest.raises(TransportError) as caught:
        get("matrix").send(matrix(receivers), message())
    assert caught.value.outcome == Outcome.RATE_LIMITED
    assert caught.value.retry_after == pytest.approx(wait)


def test_matrix_sends_to_the_encoded_room_with_the_delivery_txn_id(receivers):
    receivers.script("/_matrix/", Reply(200, {"event_id": "$abc"}))
    sent = get("matrix").send(matrix(receivers), message(key="delivery-17"))
    (request,) = receivers.received("/_matrix/")
    assert request.method == "PUT"
    assert request.path == (
        "/_matrix/client/v3/rooms/%21ZCygneTDQ2kOlWDh8Q-OW01Q8TfzNBQp0Vp4RBR6dHs/send/m.room.message/delivery-17"
    )
    assert request.headers["authorization"] == "Bearer syt_x"
    assert request.json()["msgtype"] == "m.text"
    assert sent.provider_id == "$abc"


@pytest.mark.parametrize(
    ("reply", "outcome"),
    [
        (
            Reply(401, {"errcode": "M_UNKNOWN_TOKEN", "error": "Invalid access token passed."}),
            Outcome.PERMANENT,
        ),
        (Reply(403, {"errcode": "M_FORBIDDEN", "error": "User not in room"}), Outcome.PERMANENT),
        (Reply(400, {"errcode": "M_NOT_JSON", "error": "Content not JSON."}), Outcome.REJECTED),
        (Reply(502, "bad gateway", content_type="text/plain"), Outcome.TRANSIENT),
    ],
)
def test_matrix_classifies_errors(receivers, reply, outcome):
    receivers.script("/_matrix/", reply)
    with pytest.raises(TransportError) as caught:
        get("matrix").send(matrix(receivers), message())
    assert caught.value.outcome == outcome


def test_matrix_room_id_needs_only_a_leading_bang():
    with pytest.raises(ConfigError, match="starts with '!'"):
        get("matrix").validate(
            {"homeserver": "http://127.0.0.1:1", "room_id": "#alerts:localhost", "access_token": "t"}
        )
