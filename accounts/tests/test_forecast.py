from datetime import UTC, datetime, timedelta
from decimal import Decimal

from accounts.forecast import burn_rate, detect_reset, forecast, month_projection, pace, pace_stage

NOW = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)


def test_half_week_at_80_percent_projects_160_and_runs_out_early():
    resets = NOW + timedelta(hours=84)  # mid-week
    p = pace(80.0, resets, 168, NOW)
    assert p.expected == 50.0 and p.delta == 30.0 and p.stage == "far ahead"
    assert p.projected_at_reset == 160.0
    assert p.will_last is False
    assert p.eta_full == NOW + timedelta(hours=20 / (80 / 84))


def test_on_pace_window_lasts_until_reset():
    p = pace(50.0, NOW + timedelta(hours=2.5), 5, NOW)
    assert p.stage == "on track" and p.will_last is True


def test_no_pace_without_a_usable_reset_time():
    assert pace(10.0, None, 5, NOW) is None
    assert pace(10.0, NOW - timedelta(minutes=1), 5, NOW) is None
    assert pace(10.0, NOW + timedelta(hours=6), 5, NOW) is None  # further away than the window is long
    assert pace(None, NOW + timedelta(hours=1), 5, NOW) is None


def test_pace_stages():
    assert [pace_stage(d) for d in (1, -4, 8, -20)] == ["on track", "slightly behind", "ahead", "far behind"]


def test_burn_rate_is_least_squares_slope_of_recent_points():
    points = [(NOW - timedelta(minutes=m), 40 - m / 6) for m in (60, 40, 20, 0)]  # +10 %/h
    assert abs(burn_rate(points, NOW) - 10.0) < 1e-9


def test_burn_rate_needs_three_points_over_half_an_hour():
    assert burn_rate([(NOW - timedelta(minutes=50), 1.0), (NOW, 2.0)], NOW) is None
    close = [(NOW - timedelta(minutes=m), float(m)) for m in (0, 5, 10, 15)]
    assert burn_rate(close, NOW) is None
    old = [(NOW - timedelta(hours=h), float(h)) for h in (7, 8, 9)]
    assert burn_rate(old, NOW) is None


def test_forecast_uses_burn_rate_for_eta_and_will_last():
    resets = NOW + timedelta(hours=3)
    history = [(NOW - timedelta(minutes=m), 70 - m / 6) for m in (60, 30, 0)]  # 10 %/h from 70 %
    f = forecast("session", 70.0, resets, 5, history, NOW)
    assert f.burn_rate_per_hour == 10.0
    assert f.eta_full == NOW + timedelta(hours=3)
    assert f.will_last is True
    faster = [(NOW - timedelta(minutes=m), 70 - m / 3) for m in (60, 30, 0)]  # 20 %/h
    assert forecast("session", 70.0, resets, 5, faster, NOW).will_last is False


def test_unknown_utilization_gives_no_forecast():
    f = forecast("weekly", None, NOW + timedelta(days=1), 168, [], NOW)
    assert f.pace is None and f.eta_full is None and f.will_last is None


def test_falling_usage_has_no_eta():
    history = [(NOW - timedelta(minutes=m), 30 + m / 6) for m in (60, 30, 0)]
    f = forecast("session", 30.0, None, 5, history, NOW)
    assert f.eta_full is None


def test_detects_scheduled_reset_early_reset_and_drift():
    old = NOW + timedelta(days=2)
    assert detect_reset(old, 60.0, old, 61.0, NOW) is None
    assert detect_reset(NOW - timedelta(minutes=5), 90.0, NOW + timedelta(days=7), 0.0, NOW) == "reset"
    assert detect_reset(old, 80.0, NOW + timedelta(days=7), 0.0, NOW) == "early"
    assert detect_reset(old, 80.0, old + timedelta(hours=1), 81.0, NOW) == "drift"
    assert detect_reset(old, 80.0, old - timedelta(hours=3), 81.0, NOW) == "drift"
    assert detect_reset(None, 0.0, old, 1.0, NOW) is None  # a window starting is not a reset


def test_month_end_projection_is_linear():
    now = datetime(2026, 4, 16, 0, 0, tzinfo=UTC)  # 15 of 30 days elapsed
    projection = month_projection(Decimal("150"), now)
    assert projection.rate_per_day == Decimal(10)
    assert projection.projected == Decimal(300)
