"""Discord and Slack webhooks against the loopback fakes: exact requests and every outcome class."""

import pytest

from alerts.transports import get
from alerts.transports.base import ConfigError, Outcome, TransportError
from tests.fakes.alert_receivers import Reply, discord_rate_limited, slack_error

from .conftest import firing, message


def discord_config(receivers, webhook="1100/tok-good_1"):
    return get("discord").validate({"url": f"{receivers.url}/api/webhooks/{webhook}"})


def test_discord_posts_one_embed_with_wait_and_no_mentions(receivers):
    sent = get("discord").send(discord_config(receivers), message(firing("@everyone")))
    (request,) = receivers.received("/api/webhooks/")
    assert request.method == "POST"
    assert request.path == "/api/webhooks/1100/tok-good_1"
    assert request.query == {"wait": "true"}
    assert request.headers["content-type"] == "application/json"
    assert request.headers["user-agent"].startswith("ClaudeGovernor/")
    body = request.json()
    assert body["allowed_mentions"] == {"parse": []}
    (embed,) = body["embeds"]
    assert embed["title"] == "@everyone: 90% of 5-hour limit"
    assert {"name": "Usage", "value": "90%", "inline": True} in embed["fields"]
    assert sent.provider_id.isdigit()


def test_discord_escapes_markdown_in_account_names(receivers):
    get("discord").send(discord_config(receivers), message(firing("team_*max*")))
    embed = receivers.received()[0].json()["embeds"][0]
    assert embed["title"].startswith(r"team\_\*max\*")


def test_discord_groups_alerts_of_one_cycle_into_embeds_of_one_message(receivers):
    alerts = [firing(f"acct-{n}") for n in range(12)]
    get("discord").send(discord_config(receivers), message(*alerts))
    (request,) = receivers.received()
    body = request.json()
    assert len(body["embeds"]) == 10
    assert body["content"] == "…and 2 more alerts"


def test_discord_rewrites_the_legacy_host_and_refuses_other_urls(dns):
    dns["discord.com"] = dns["discordapp.com"] = "162.159.128.233"
    cleaned = get("discord").validate({"url": "https://discordapp.com/api/webhooks/1/abc"})
    assert cleaned["url"] == "https://discord.com/api/webhooks/1/abc"
    with pytest.raises(ConfigError, match="not a Discord webhook"):
        get("discord").validate({"url": "https://discord.com/channels/1/2"})


def test_discord_unknown_webhook_is_permanent(receivers):
    with pytest.raises(TransportError) as caught:
        get("discord").send(discord_config(receivers, "999/tok"), message())
    assert caught.value.outcome == Outcome.PERMANENT
    assert "deleted (404, code 10015)" in caught.value.message


def test_discord_bad_token_is_permanent(receivers):
    with pytest.raises(TransportError) as caught:
        get("discord").send(discord_config(receivers, "1100/wrong"), message())
    assert caught.value.outcome == Outcome.PERMANENT
    assert "50027" in caught.value.message


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        (discord_rate_limited(64.57, header="65"), 65.0),  # the larger of header and body wins
        (discord_rate_limited(2.5, header=None), 2.5),  # body retry_after / X-RateLimit-Reset-After only
        (Reply(429, {"message": "slow down"}, {"Retry-After": "7"}), 7.0),  # header only
    ],
)
def test_discord_429_carries_the_providers_retry_time(receivers, reply, expected):
    receivers.script("/api/webhooks/", reply)
    with pytest.raises(TransportError) as caught:
        get("discord").send(discord_config(receivers), message())
    assert caught.value.outcome == Outcome.RATE_LIMITED
    assert caught.value.retry_after == pytest.approx(expected)


def test_discord_5xx_is_transient_and_bad_form_is_rejected(receivers):
    receivers.script("/api/webhooks/", Reply(502, {"message": "bad gateway"}))
    with pytest.raises(TransportError) as caught:
        get("discord").send(discord_config(receivers), message())
    assert caught.value.outcome == Outcome.TRANSIENT
    receivers.script("/api/webhooks/", Reply(400, {"message": "Invalid Form Body", "code": 50035}))
    with pytest.raises(TransportError) as caught:
        get("discord").send(discord_config(receivers), message())
    assert caught.value.outcome == Outcome.REJECTED
    assert "50035" in caught.value.message


def slack_config(receivers):
    return get("slack").validate({"url": f"{receivers.url}/services/T000/B000/XXXX"})


def test_slack_posts_text_and_accepts_ok(receivers):
    get("slack").send(slack_config(receivers), message(firing("a<b>&c")))
    (request,) = receivers.received("/services/")
    assert request.json() == {
        "text": "*a&lt;b&gt;&amp;c: 90% of 5-hour limit*\na&lt;b&gt;&amp;c reached 90% of its 5-hour limit "
        "(threshold 90%)."
    }


@pytest.mark.parametrize(
    ("reply", "outcome"),
    [
        (slack_error(404, "no_service"), Outcome.PERMANENT),
        (slack_error(410, "channel_is_archived"), Outcome.PERMANENT),
        (slack_error(403, "action_prohibited"), Outcome.PERMANENT),
        (slack_error(400, "invalid_token"), Outcome.PERMANENT),
        (slack_error(400, "invalid_payload"), Outcome.REJECTED),
        (slack_error(500, "rollup_error"), Outcome.TRANSIENT),
    ],
)
def test_slack_classifies_its_plain_text_errors(receivers, reply, outcome):
    receivers.script("/services/", reply)
    with pytest.raises(TransportError) as caught:
        get("slack").send(slack_config(receivers), message())
    assert caught.value.outcome == outcome


def test_slack_429_waits_for_retry_after(receivers):
    receivers.script("/services/", Reply(429, "rate_limited", {"Retry-After": "30"}, "text/plain"))
    with pytest.raises(TransportError) as caught:
        get("slack").send(slack_config(receivers), message())
    assert (caught.value.outcome, caught.value.retry_after) == (Outcome.RATE_LIMITED, 30.0)
