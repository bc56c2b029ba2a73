"""Shapes report rows for the dashboard templates: meters, sparklines, forecast sentences, countdowns."""

from datetime import datetime, timedelta

from django.utils import timezone

from . import charts


def countdown(until: datetime | None, now: datetime) -> str:
    if until is None:
        return ""
    left = until - now
    if left <= timedelta(0):
        return "now"
    minutes = int(left.total_seconds() // 60)
    days, hours = divmod(minutes // 60, 24)
    if days:
        return f"{days} d {hours} h"
    return f"{hours} h {minutes % 60} min" if hours else f"{minutes % 60} min"


def ago(moment: datetime | None, now: datetime) -> str:
    if moment is None:
        return "never"
    spent = countdown(now, moment) if now > moment else "now"
    return "just now" if spent in ("now", "0 min") else f"{spent} ago"


def forecast_text(forecast, now: datetime) -> str:
    """ "hits 100% at 14:20, before reset", "lasts to reset", "at 100 %", or "" with too little data."""
    if forecast.withheld:
        return "not forecast: numbers are stale"
    if forecast.utilization is None:
        return "unknown"
    if forecast.utilization >= 100:
        return "at 100 %"
    if forecast.will_last:
        return "lasts to reset"
    if forecast.eta_full is not None:
        local = timezone.localtime(forecast.eta_full)
        when = f"{local:%H:%M}" if local.date() == timezone.localtime(now).date() else f"{local:%a %H:%M}"
        return f"hits 100% at {when}, before reset"
    return ""


def seat_cards_view(cards) -> list[dict]:
    shaped = []
    for card in cards:
        bars = [
            {
                "bar": bar,
                "svg": charts.meter(
                    bar.used, bar.limit, label=f"{bar.label}: {bar.used} of {bar.limit or 'no limit'}"
                ),
            }
            for bar in card.bars
        ]
        spark = charts.sparkline(card.hourly, label=f"{card.name}: turns per hour today")
        # "opus=2;sonnet=1": what dashboard.js adds a live turn to before rewriting the text beside it.
        today_counts = ";".join(f"{family}={count}" for family, count in card.today.items())
        shaped.append({"card": card, "bars": bars, "spark": spark, "today_counts": today_counts})
    return shaped


def account_cards(accounts, now: datetime) -> list[dict]:
    shaped = []
    for account in accounts:
        gauges = [
            {
                "gauge": gauge,
                "svg": charts.meter(
                    gauge.utilization or 0, 100, label=f"{gauge.label}: {gauge.utilization} %"
                ),
                "forecast": forecast_text(gauge.forecast, now),
                "resets_in": countdown(gauge.resets_at, now),
            }
            for gauge in account.gauges
        ]
        shaped.append({"account": account, "gauges": gauges, "updated": ago(account.updated_at, now)})
    return shaped
