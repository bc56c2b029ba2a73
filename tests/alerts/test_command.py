"""`manage.py alerts`: channel-add, subscribe, test and silence from scripts, each with readable refusals."""

import json

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from alerts.models import Channel, Silence, Subscription
from tests.fakes.alert_receivers import Reply

from .pipeline import account

pytestmark = pytest.mark.django_db


@pytest.fixture
def config_file(tmp_path, receivers):
    path = tmp_path / "hook.json"
    path.write_text(json.dumps({"url": f"{receivers.url}/hook/secret-path-token"}))
    return path


def test_channel_add_reads_the_config_from_a_file_and_prints_it_masked(config_file, capsys):
    call_command(
        "alerts", "channel-add", "--kind", "webhook", "--name", "ops", "--config-file", str(config_file)
    )
    out = capsys.readouterr().out
    assert out.startswith("channel ops (webhook) added: ") and "secret-path-token" not in out
    assert Channel.objects.get(name="ops").config["url"].endswith("/hook/secret-path-token")


def test_channel_add_refuses_a_bad_config_in_words(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text('{"room_id": "no-bang"}')
    with pytest.raises(CommandError, match="config: The room id starts with '!'"):
        call_command("alerts", "channel-add", "--kind", "matrix", "--name", "m", "--config-file", str(path))
    assert not Channel.objects.exists()


def test_subscribe_parses_thresholds_durations_and_quiet_hours(config_file):
    call_command(
        "alerts", "channel-add", "--kind", "webhook", "--name", "ops", "--config-file", str(config_file)
    )
    acct = account("team-max")
    call_command(
        "alerts",
        "subscribe",
        *("--name", "hot", "--channel", "ops", "--account", "team-max"),
        *(
            "--thresholds",
            "session=80,95",
            "--thresholds",
            "weekly=90",
            "--cooldown",
            "2h",
            "--repeat",
            "30m",
        ),
        *("--send-resolved", "--quiet", "mon-fri 22:00-07:00 Europe/Berlin"),
    )
    sub = Subscription.objects.get(name="hot")
    assert sub.account == acct and sub.thresholds == {"session": [80, 95], "weekly": [90]}
    assert sub.cooldown.total_seconds() == 7200 and sub.repeat_interval.total_seconds() == 1800
    assert (sub.quiet_days, sub.quiet_tz, str(sub.quiet_start)) == ("mon-fri", "Europe/Berlin", "22:00:00")
    with pytest.raises(CommandError, match="No channel named 'nope'"):
        call_command("alerts", "subscribe", "--name", "x", "--channel", "nope")
    with pytest.raises(CommandError, match="thresholds: session: Each threshold is a percentage"):
        call_command("alerts", "subscribe", "--name", "x", "--channel", "ops", "--thresholds", "session=120")


def test_test_sends_once_and_fails_with_the_exact_error(config_file, receivers, capsys):
    call_command(
        "alerts", "channel-add", "--kind", "webhook", "--name", "ops", "--config-file", str(config_file)
    )
    call_command("alerts", "test", "ops")
    assert "ops: test sent" in capsys.readouterr().out
    receivers.script("/hook/", Reply(404, "no such hook"))
    with pytest.raises(CommandError, match=r"^ops: message refused \(HTTP 404\): HTTP 404 no such hook$"):
        call_command("alerts", "test", "ops")
    assert len(receivers.received("/hook/")) == 2


def test_silence_for_a_while_or_until_a_time(config_file):
    acct = account("team-max")
    call_command("alerts", "silence", "--account", "team-max", "--for", "3h", "--reason", "migrating")
    silence = Silence.objects.get()
    assert silence.account == acct and 10790 < (silence.until - timezone.now()).total_seconds() <= 10800
    with pytest.raises(CommandError, match="either --for or --until"):
        call_command("alerts", "silence", "--account", "team-max", "--reason", "x")
    with pytest.raises(CommandError, match="with a zone"):
        call_command(
            "alerts", "silence", "--account", "team-max", "--until", "2030-01-01T08:00", "--reason", "x"
        )
    with pytest.raises(CommandError, match="Choose an account, a subscription or a channel"):
        call_command("alerts", "silence", "--for", "1h", "--reason", "x")


@pytest.mark.parametrize("name", ["channel-add", "subscribe", "test", "silence"])
def test_each_subcommand_help_shows_an_example(name, capsys):
    with pytest.raises(SystemExit):
        call_command("alerts", name, "--help")
    example = capsys.readouterr().out.split("Example:\n", 1)[1]
    assert f"manage.py alerts {name} " in example


def test_subscribe_turns_on_the_opt_in_events(config_file):
    call_command(
        "alerts", "channel-add", "--kind", "webhook", "--name", "ops", "--config-file", str(config_file)
    )
    call_command(
        "alerts", "subscribe", "--name", "all", "--channel", "ops", "--forecast", "--credits", "--seats"
    )
    sub = Subscription.objects.get(name="all")
    assert (sub.notify_forecast, sub.notify_credits, sub.notify_seats) == (True, True, True)
