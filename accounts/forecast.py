"""Pacing, burn rate and resets for one window (contract §7). Pure: `now` is always a parameter."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

RATE_LOOKBACK = timedelta(hours=6)
MIN_POINTS = 3
MIN_SPAN = timedelta(minutes=30)


@dataclass(frozen=True)
class Pace:
    expected: float  # % a linear pace would have used by now
    delta: float  # actual - expected; positive = ahead of pace (burning fast)
    stage: str
    rate_per_hour: float  # average since the window started
    eta_full: datetime | None
    will_last: bool
    projected_at_reset: float


@dataclass(frozen=True)
class Forecast:
    limit_type: str
    utilization: float | None
    resets_at: datetime | None
    pace: Pace | None
    burn_rate_per_hour: float | None  # least-squares slope over recent snapshots of this window
    eta_full: datetime | None  # by burn rate when known, else by average pace
    will_last: bool | None
    withheld: str = ""  # why no pace or ETA is given (stale numbers), empty when forecast normally


def pace_stage(delta: float) -> str:
    size = abs(delta)
    if size <= 2:
        return "on track"
    direction = "ahead" if delta > 0 else "behind"
    if size <= 6:
        return f"slightly {direction}"
    if size <= 12:
        return direction
    return f"far {direction}"


def pace(
    utilization: float | None, resets_at: datetime | None, window_hours: float | None, now: datetime
) -> Pace | None:
    if utilization is None or resets_at is None or not window_hours or resets_at <= now:
        return None
    window = timedelta(hours=window_hours)
    remaining = resets_at - now
    if remaining > window:
        return None
    elapsed_hours = (window - remaining).total_seconds() / 3600
    if elapsed_hours <= 0:
        return None
    expected = 100 * elapsed_hours / window_hours
    rate = utilization / elapsed_hours
    eta = now + timedelta(hours=(100 - utilization) / rate) if rate > 0 else None
    return Pace(
        expected=round(expected, 2),
        delta=round(utilization - expected, 2),
        stage=pace_stage(utilization - expected),
        rate_per_hour=round(rate, 3),
        eta_full=eta if utilization < 100 else now,
        will_last=utilization < 100 and (eta is None or eta >= resets_at),
        projected_at_reset=round(utilization * window_hours / elapsed_hours, 1),
    )


def burn_rate(points: list[tuple[datetime, float]], now: datetime) -> float | None:
    """% per hour: least-squares slope over the last 6 h; ≥ 3 points spanning ≥ 30 min, else unknown."""
    recent = [(t, u) for t, u in points if u is not None and now - RATE_LOOKBACK <= t <= now]
    if len(recent) < MIN_POINTS:
        return None
    times = [t for t, _ in recent]
    if max(times) - min(times) < MIN_SPAN:
        return None
    origin = min(times)
    xs = [(t - origin).total_seconds() / 3600 for t in times]
    ys = [u for _, u in recent]
    mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
    var = sum((x - mean_x) ** 2 for x in xs)
    if var == 0:
        return None
    return sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / var


def eta_to(threshold: float, utilization: float, slope: float | None, now: datetime) -> datetime | None:
    if utilization >= threshold:
        return now
    if slope is None or slope <= 0:
        return None
    return now + timedelta(hours=(threshold - utilization) / slope)


def forecast(
    limit_type: str,
    utilization: float | None,
    resets_at: datetime | None,
    window_hours: float | None,
    history: list[tuple[datetime, float]],
    now: datetime,
) -> Forecast:
    """`history` holds (taken_at, utilization) of the same window (same resets_at) only."""
    if utilization is None:
        return Forecast(limit_type, None, resets_at, None, None, None, None)
    current_pace = pace(utilization, resets_at, window_hours, now)
    slope = burn_rate(history, now)
    will_last: bool | None
    if slope is not None:
        eta = eta_to(100, utilization, slope, now)
        will_last = utilization < 100 and (eta is None or resets_at is None or eta >= resets_at)
    elif current_pace is not None:
        eta, will_last = current_pace.eta_full, current_pace.will_last
    else:
        eta, will_last = (now, False) if utilization >= 100 else (None, None)
    return Forecast(
        limit_type,
        utilization,
        resets_at,
        current_pace,
        None if slope is None else round(slope, 3),
        eta,
        will_last,
    )


def detect_reset(
    previous_resets_at: datetime | None,
    previous_utilization: float | None,
    resets_at: datetime | None,
    utilization: float | None,
    now: datetime,
) -> str | None:
    """'reset', 'early' or 'drift' when the window's schedule changed between two readings, else None.

    A utilization drop alone is not a reset (limit resets restore usage without moving the schedule).
    """
    if previous_resets_at is None or resets_at == previous_resets_at:
        return None
    if now >= previous_resets_at:
        return "reset"
    dropped = (
        previous_utilization is not None and utilization is not None and utilization < previous_utilization
    )
    if resets_at is None or (resets_at > previous_resets_at and dropped):
        return "early"
    return "drift"


@dataclass(frozen=True)
class MonthProjection:
    rate_per_day: Decimal
    projected: Decimal


def month_projection(month_to_date: Decimal, now: datetime) -> MonthProjection:
    """Linear month-end projection of spend from the month-to-date total (calendar month in UTC)."""
    start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    next_month = (start + timedelta(days=32)).replace(day=1)
    elapsed_days = Decimal((now - start).total_seconds()) / 86400
    month_days = Decimal((next_month - start).days)
    if elapsed_days <= 0:
        return MonthProjection(Decimal(0), month_to_date)
    rate = month_to_date / elapsed_days
    return MonthProjection(rate, rate * month_days)
