"""The generic webhook: templates, firing/resolved URLs, Idempotency-Key, redirects, outcome classes."""

import pytest

from alerts import templating
from alerts.transports import get
from alerts.transports.base import ConfigError, Outcome, TransportError
from tests.fakes.alert_receivers import Reply

from .conftest import firing, message


def hook(receivers, **overrides):
    return get("webhook").validate({"url": f"{receivers.url}/hook/{{account}}"} | overrides)


def test_webhook_default_body_is_json_with_bare_pct_and_stable_idempotency_key(receivers):
    config = hook(receivers, headers={"Authorization": "Bearer s3cret"})
    get("webhook").send(config, message(firing('acct "q"'), key="0b5e-delivery"))
    (request,) = receivers.received("/hook/")
    assert request.path == "/hook/acct%20%22q%22"
    assert request.headers["idempotency-key"] == "0b5e-delivery"
    assert request.headers["authorization"] == "Bearer s3cret"
    assert request.json() == {
        "title": 'acct "q": 90% of 5-hour limit',
        "message": 'acct "q" reached 90% of its 5-hour limit (threshold 90%).',
        "account": 'acct "q"',
        "pct": 90,
        "limit_type": "5-hour",
    }


def test_substitution_leaves_other_braces_alone():
    rendered = templating.render_json(
        '{"a": {"b": "{account}"}, "c": "{unknown}", "p": {pct}}', {"account": "x"}
    )
    assert rendered == '{"a": {"b": "x"}, "c": "{unknown}", "p": null}'


def test_invalid_json_template_is_refused_on_save(receivers):
    with pytest.raises(ConfigError, match="not valid JSON"):
        hook(receivers, body='{"pct": "{pct}}')


def test_header_with_line_break_is_refused(receivers):
    with pytest.raises(ConfigError, match="line break"):
        hook(receivers, headers={"X-A": "a\r\nX-B: b"})


def test_resolved_goes_to_its_own_url_and_empty_url_is_a_noop(receivers):
    config = hook(
        receivers,
        resolved_url=f"{receivers.url}/resolved",
        resolved_body="{state} {account}",
        content_type="text/plain",
    )
    transport = get("webhook")
    assert not transport.is_noop(config, "resolved")
    transport.send(config, message(firing(state="resolved")))
    assert receivers.received("/resolved")[0].body == b"resolved acct-42"
    firing_only = hook(receivers)
    assert transport.is_noop(firing_only, "resolved")


def test_webhook_follows_redirects_and_checks_each_target(receivers):
    receivers.script("/hook/", Reply(307, "", {"Location": "/moved"}))
    get("webhook").send(hook(receivers), message())
    assert [r.path for r in receivers.received()] == ["/hook/acct-42", "/moved"]


@pytest.mark.parametrize(
    ("reply", "outcome", "retry_after"),
    [
        (Reply(429, "", {"Retry-After": "Wed, 21 Oct 2099 07:28:00 GMT"}), Outcome.RATE_LIMITED, "future"),
        (Reply(429, "", {"Retry-After": "20"}), Outcome.RATE_LIMITED, 20.0),
        (Reply(410, "gone"), Outcome.PERMANENT, None),
        (Reply(422, "bad field"), Outcome.REJECTED, None),
        (Reply(503, "busy"), Outcome.TRANSIENT, None),
        (Reply(408, "slow"), Outcome.TRANSIENT, None),
    ],
)
def test_webhook_outcome_classes(receivers, reply, outcome, retry_after):
    receivers.script("/hook/", reply)
    with pytest.raises(TransportError) as caught:
        get("webhook").send(hook(receivers), message())
    assert caught.value.outcome == outcome
    if retry_after == "future":
        assert caught.value.retry_after > 86400
    else:
        assert caught.value.retry_after == retry_after
