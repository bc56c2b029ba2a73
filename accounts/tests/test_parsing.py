from datetime import UTC, datetime
from decimal import Decimal

import pytest

from accounts.parsing import PayloadError, parse_usage, percent, plan_from_org, plan_from_profile, timestamp
from tests.fakes.claude_api import legacy_usage, limits_usage

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def by_type(parsed):
    return {r.limit_type: r for r in parsed.readings}


def test_reads_legacy_windows_and_rounds_resets_to_the_minute():
    body = legacy_usage(48.0, 64.0, now=NOW)
    body["five_hour"]["resets_at"] = "2026-03-02T11:00:00.521744+00:00"
    readings = by_type(parse_usage(body))
    assert readings["session"].utilization == 48.0
    assert readings["session"].resets_at == datetime(2026, 3, 2, 11, 0, tzinfo=UTC)
    assert readings["weekly"].utilization == 64.0
    assert readings["weekly:sonnet"].utilization == 2.0
    assert readings["weekly:opus"].resets_at is None  # not started: 0 %, no reset time
    assert "weekly:cowork" not in readings  # null windows are absent, not 0 %


def test_fractional_second_noise_does_not_change_the_window():
    assert timestamp("2026-03-06T06:00:00.521764+00:00") == timestamp("2026-03-06T06:00:00.100000Z")
    assert timestamp("2026-03-06T06:00:00Z") == datetime(2026, 3, 6, 6, 0, tzinfo=UTC)
    assert timestamp(1772776800) == datetime(2026, 3, 6, 6, 0, tzinfo=UTC)
    assert timestamp("not a date") is None
    assert timestamp("2026-03-06T06:00:00") is None  # naive: unknown zone is unknown


def test_limits_array_wins_over_legacy_keys_and_names_scoped_models():
    body = limits_usage(session=47, weekly=12, scoped=88, now=NOW)
    body["five_hour"]["utilization"] = 5  # stale legacy value must not win
    parsed = parse_usage(body)
    readings = by_type(parsed)
    assert readings["session"].utilization == 47
    assert readings["weekly"].utilization == 12
    assert readings["weekly:fable"].utilization == 88
    assert readings["weekly:fable"].severity == "warning" and readings["weekly:fable"].is_active is True
    assert readings["extra_usage"].utilization == 12.25
    assert parsed.spend_used == Decimal("83.21") and parsed.spend_currency == "USD"


def test_limits_only_body_without_legacy_keys_parses():
    body = {"limits": limits_usage(now=NOW)["limits"]}
    assert set(by_type(parse_usage(body))) == {"session", "weekly", "weekly:fable"}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (48, 48.0),
        (48.5, 48.5),
        ("48.5", 48.5),
        (" 7 ", 7.0),
        (140, None),
        (-1, None),
        ("abc", None),
        (None, None),
        (True, None),
        (float("nan"), None),
        ({"x": 1}, None),
    ],
)
def test_odd_utilization_values_are_unknown_not_zero(raw, expected):
    assert percent(raw) == expected


def test_out_of_range_value_is_stored_as_unknown():
    readings = by_type(parse_usage(legacy_usage(140, "12", now=NOW)))
    assert readings["session"].utilization is None
    assert readings["weekly"].utilization == 12.0


def test_unknown_keys_are_reported_and_never_crash():
    body = legacy_usage(now=NOW, tangelo={"utilization": 3}, nimbus_quill=[1, 2], seven_day_juniper_tide=None)
    parsed = parse_usage(body)
    assert parsed.unknown_keys == ["nimbus_quill", "tangelo"]
    assert "session" in by_type(parsed)


def test_extra_usage_money_uses_decimal_places():
    parsed = parse_usage(legacy_usage(now=NOW))
    assert parsed.spend_used == Decimal("0.00") and parsed.spend_limit == Decimal("10.00")


@pytest.mark.parametrize("body", [[1, 2], "text", None, {"hello": 1}, {}])
def test_rejects_bodies_that_are_not_usage(body):
    with pytest.raises(PayloadError):
        parse_usage(body)


def test_plans_from_profile_and_org_list():
    assert plan_from_profile("claude_max", "default_claude_max_20x") == "Max 20x"
    assert plan_from_profile("claude_max", "default_claude_max_5x") == "Max 5x"
    assert plan_from_profile("claude_team", None) == "Team"
    assert plan_from_profile("claude_enterprise", None) == "Enterprise"
    assert plan_from_org({"capabilities": ["chat", "claude_pro"]}) == "Pro"
    assert plan_from_org({"capabilities": ["chat"], "raven_type": "team"}) == "Team"
