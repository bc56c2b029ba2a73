"""Checks on a good poll beyond thresholds (issue 10): a window projected to run out before it resets
(opt-in, once per window, withdrawn when the projection recovers), paid usage credits starting this month
(opt-in) and a session cookie near the end of its usual lifetime (with the credential alerts). Rows: limit
type "forecast:<limit>" or "cookie", threshold 0; the credits alert needs no row (accounts tells the first
snapshot of the month that spends)."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from functools import cached_property

from monitoring.models import Event

from . import texts, thresholds
from .fanout import Item
from .models import Subscription
from .state import Context, item, key, write

URGENT_LEAD = timedelta(minutes=30)  # a window running out sooner than this is urgent (through quiet hours)
COOKIE = "cookie"


@dataclass(frozen=True)
class Projection:
    limit_type: str
    eta: datetime
    resets_at: datetime


class Outlook:
    """What accounts' own forecasts, cookie age and spend say right after one poll. Each part is read once
    per event and only when a subscription asks for it (forecasts cost several queries)."""

    def __init__(self, account, runtime, snapshot_id: int, at: datetime) -> None:
        # `account` and the polling settings (`runtime`) come preloaded, once per evaluator pass.
        self.account, self.runtime, self.snapshot_id, self.at = account, runtime, snapshot_id, at

    @cached_property
    def forecasts(self) -> tuple[dict[str, Projection], set[str]]:
        """limit type → projection for windows that run out before they reset; the limit types that last."""
        from accounts.selectors import account_forecasts

        projections, recovered = {}, set()
        for forecast in account_forecasts(self.account, self.at):
            if forecast.withheld or forecast.resets_at is None or forecast.will_last is None:
                continue  # stale or unknown: says nothing either way
            if forecast.will_last:
                recovered.add(forecast.limit_type)
            elif forecast.eta_full is not None and (forecast.utilization or 0) < 100:
                # At 100 % the threshold alert has said it already.
                projections[forecast.limit_type] = Projection(
                    forecast.limit_type, forecast.eta_full, forecast.resets_at
                )
        return projections, recovered

    @cached_property
    def cookie_warning(self) -> str:
        from accounts.selectors import cookie_warning

        return cookie_warning(self.account, self.runtime, self.at)

    @cached_property
    def spend_started(self) -> tuple[Decimal, str] | None:
        """Amount and currency when this poll is the month's first to show paid usage."""
        from accounts.selectors import spend_started

        return spend_started(self.snapshot_id)


def forecasts(
    context: Context, subscription: Subscription, event: Event, label: str, seen: Outlook
) -> list[Item]:
    items = []
    projections, recovered = seen.forecasts
    for limit_type in sorted(set(projections) | recovered):
        row_key = key(subscription, event, f"forecast:{limit_type}")
        row = context.states.get(row_key)
        projection = projections.get(limit_type)
        if projection is not None:
            window = thresholds.window_key(projection.resets_at)
            if (
                row is not None
                and row.last_notified_at is not None
                and not thresholds.is_new_window(row.window_key, window)
            ):
                continue  # once per window
            fired = {"state": thresholds.FIRING, "fired_at": event.at, "notified": True}
            if not write(context, row_key, fired | {"last_notified_at": event.at, "window_key": window}):
                continue
            name = texts.limit_label(limit_type)
            title, message = texts.forecast(label, name, projection.eta, projection.resets_at, context.tz)
            urgent = projection.eta - event.at < URGENT_LEAD
            forecast_key = f"forecast:{limit_type}"
            items.append(
                item(subscription, event, "forecast", title, message, label, key=forecast_key, urgent=urgent)
            )
        elif row is not None and row.state == thresholds.FIRING:
            if not write(context, row_key, {"state": thresholds.ARMED, "resolved_at": event.at}):
                continue
            if subscription.send_resolved:
                title, message = texts.forecast_withdrawn(label, texts.limit_label(limit_type))
                forecast_key = f"forecast:{limit_type}"
                items.append(
                    item(
                        subscription,
                        event,
                        "forecast",
                        title,
                        message,
                        label,
                        key=forecast_key,
                        state="resolved",
                    )
                )
    return items


def cookie(
    context: Context, subscription: Subscription, event: Event, label: str, seen: Outlook
) -> list[Item]:
    row_key = key(subscription, event, COOKIE)
    row = context.states.get(row_key)
    # The cookie's issue time is the "window": a new cookie pasted in re-arms the warning.
    if seen.account.source != "cookie":
        return []
    same_cookie = row is not None and row.window_key == seen.account.cookie_issued_at
    if not seen.cookie_warning:
        if row is not None and row.state == thresholds.FIRING:
            write(context, row_key, {"state": thresholds.ARMED, "resolved_at": event.at})
        return []
    if same_cookie and row is not None and row.state == thresholds.FIRING:
        return []
    notify = subscription.notify_credentials
    values = {"state": thresholds.FIRING, "fired_at": event.at, "notified": notify}
    values |= {"last_notified_at": event.at if notify else None, "window_key": seen.account.cookie_issued_at}
    if not write(context, row_key, values) or not notify:
        return []
    title, message = texts.credential(label, "cookie_expiring", seen.cookie_warning)
    return [item(subscription, event, "credential", title, message, label, key=COOKIE)]


def credits(subscription: Subscription, event: Event, label: str, seen: Outlook) -> list[Item]:
    if seen.spend_started is None:
        return []
    amount, currency = seen.spend_started
    title, message = texts.credits_started(label, f"{amount:.2f} {currency}".strip())
    return [item(subscription, event, "credits", title, message, label, key="credits")]
