"""The admin's own pages: dashboard (the index), seat, account, trends (+ CSV) and limit hits.

Views adapt: they read through limiter/accounts report selectors and this app's selectors, shape numbers for
the templates and charts, and never query another app's models. Times are in the team's zone
(TeamTimezoneMiddleware); the zone is named on every page.
"""

import csv
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone

from accounts import reports as account_reports
from limiter import history
from limiter import reports as seat_reports

from . import charts, eventlog, feed, selectors
from .presenting import account_cards, seat_cards_view

FEED_ROWS = 50
FEED_KINDS = [
    ("user_check", "prompts"), ("user_blocked", "blocks"), ("user_counted", "turns counted"),
    ("user_status", "sessions"), ("user_status_change", "status changes"), ("user_killed", "kills"),
    ("rule.changed", "rules"), ("setting.changed", "settings"), ("install_code.issued", "install codes"),
    ("token.revoked", "tokens"), ("poll.result", "polls"), ("credential.state", "credentials"),
    ("window.reset", "window resets"), ("seat.blocked", "seats blocked"),
    ("seat.credits", "credit budget steps"), ("alert.fired", "alerts fired"),
    ("alert.delivered", "alerts delivered"), ("alert.failed", "alerts failed"),
]


def team_zone() -> ZoneInfo:
    """The team's zone, read once per admin request (one single-row query) so a change shows at once."""
    return seat_reports.team().tz


def team_zone_name() -> str:
    """The zone admin pages render in: TeamTimezoneMiddleware activated the team's for this request."""
    return timezone.get_current_timezone_name()


def _context(request: HttpRequest, site, title: str, **extra) -> dict:
    return {**site.each_context(request), "title": title, **extra}


def _site():
    from django.contrib import admin

    return admin.site


def dashboard(request: HttpRequest, site) -> HttpResponse:
    user, now = request.user, timezone.now()
    context = _context(request, site, "Dashboard", now=now)
    if user.has_perm("limiter.view_seat"):
        context["seats"] = seat_cards_view(seat_reports.seat_cards(now))
    if user.has_perm("accounts.view_claudeaccount"):
        context["accounts"] = account_cards(account_reports.account_gauges(now), now)
    if user.has_perm("monitoring.view_event"):
        messages, cursor = selectors.recent_feed(limit=FEED_ROWS)
        context |= {"feed": feed_rows(messages), "cursor": str(cursor), "kinds": FEED_KINDS}
    return render(request, "monitoring/dashboard.html", context)


def feed_rows(messages: list[dict]) -> list[dict]:
    """Feed messages as the templates list them: with their text and their local time."""
    return [
        {**m, "text": feed.describe(m), "at": timezone.localtime(datetime.fromisoformat(m["timestamp"]))}
        for m in messages
    ]


def seat_page(request: HttpRequest, seat_id) -> HttpResponse:
    if not request.user.has_perm("limiter.view_seat"):
        raise PermissionDenied
    seat = seat_reports.seat_detail(seat_id)
    if seat is None:
        raise Http404("No such seat.")
    now = timezone.now()
    card = seat_cards_view(seat_reports.seat_cards(now, seat_ids=[seat.pk]))[0]
    usage = history.daily_usage(days=30, now=now, seat_id=seat.pk)
    labels = [f"{d:%m-%d}" for d in usage.days]
    context = _context(
        request,
        _site(),
        seat.name,
        seat=seat,
        card=card,
        turns_chart=charts.stacked_bars(labels, usage.turns, caption="Turns per day by model", unit="turns"),
        credits_chart=charts.stacked_bars(
            labels, usage.credits, caption="Credits per day by model", unit="credits"
        ),
        devices=seat_reports.seat_devices(seat.pk),
        blocks=seat_reports.recent_blocks(seat.pk),
        trail=eventlog.events_of_seat(seat.pk, limit=50),
        can_edit=request.user.has_perm("limiter.change_seat"),
        edit_url=reverse("admin:limiter_seat_change", args=[seat.pk]),
    )
    return render(request, "monitoring/seat.html", context)


def seat_card(request: HttpRequest, seat_id) -> HttpResponse:
    """One seat's dashboard card, as the dashboard renders it: dashboard.js re-reads it after a counted turn
    for the figures a live message cannot carry (credits left depend on the seat's open holds)."""
    if not request.user.has_perm("limiter.view_seat"):
        raise PermissionDenied
    cards = seat_cards_view(seat_reports.seat_cards(timezone.now(), seat_ids=[seat_id]))
    if not cards:
        raise Http404("No such seat.")
    return render(request, "monitoring/_seat_card.html", {"s": cards[0], "c": cards[0]["card"]})


def account_page(request: HttpRequest, account_id: int) -> HttpResponse:
    if not request.user.has_perm("accounts.view_claudeaccount"):
        raise PermissionDenied
    now = timezone.now()
    found = account_reports.account_gauges(now, account_id=account_id)
    if not found:
        raise Http404("No such account.")
    since = now - timedelta(days=7)
    points = account_reports.account_history(account_id, since=since)
    resets = account_reports.account_resets(account_id, since=since)
    series: dict[str, list[tuple[float, float | None]]] = {}
    for point in points:
        series.setdefault(point.limit_type, []).append((point.taken_at.timestamp(), point.utilization))
    markers = [(r.detected_at.timestamp(), f"{r.limit_type} {r.get_kind_display()}") for r in resets]
    table = [[timezone.localtime(p.taken_at), p.limit_type, p.utilization] for p in points[-200:]]
    chart = charts.lines(
        series,
        span=(since.timestamp(), now.timestamp()),
        markers=markers,
        caption="Utilization per window, last 7 days (vertical lines: resets)",
        table=table,
        headers=["time", "window", "utilization %"],
    )
    kinds = (eventlog.POLL_RESULT,)
    today = timezone.localdate(now)
    context = _context(
        request,
        _site(),
        found[0].label,
        account=account_cards(found, now)[0],
        chart=chart,
        resets=resets,
        polls=eventlog.events_of_account(account_id, limit=50, kinds=kinds),
        credential_events=eventlog.events_of_account(
            account_id, limit=50, kinds=(eventlog.CREDENTIAL_STATE, eventlog.WINDOW_RESET)
        ),
        edit_url=reverse("admin:accounts_claudeaccount_change", args=[account_id]),
        # The page's seven days, as whole days of the team's zone (the counters' days).
        top_seats=history.account_seats(account_id, first=today - timedelta(days=6), last=today),
        can_see_seats=request.user.has_perm("limiter.view_seat"),
    )
    return render(request, "monitoring/account.html", context)


class BadRange(ValueError):
    pass


def _range(request: HttpRequest, default_days: int = 14) -> tuple[date, date]:
    today = timezone.localdate()
    try:
        end = date.fromisoformat(request.GET["to"]) if request.GET.get("to") else today
        start = (
            date.fromisoformat(request.GET["from"])
            if request.GET.get("from")
            else end - timedelta(days=default_days - 1)
        )
    except ValueError:
        raise BadRange("Dates are YYYY-MM-DD, e.g. ?from=2026-01-01&to=2026-01-31.") from None
    if start > end:
        raise BadRange("`from` must not be after `to`.")
    if (end - start).days > 366:
        raise BadRange("Choose a range of at most 366 days.")
    return start, end


def trends(request: HttpRequest) -> HttpResponse:
    if not request.user.has_perm("limiter.view_usageevent"):
        raise PermissionDenied
    try:
        start, end = _range(request)
    except BadRange as exc:
        return JsonResponse({"error": str(exc)}, status=400)
    seat_id = request.GET.get("seat") or None
    seats = seat_reports.seat_choices()
    if seat_id and seat_id not in {pk for pk, _ in seats}:
        return JsonResponse({"error": "Unknown seat."}, status=400)
    found = history.trends(first=start, last=end, now=timezone.now(), seat_id=seat_id)
    hours = [f"{h:02d}" for h in range(24)]
    mix = found.model_mix
    context = _context(
        request,
        _site(),
        "Trends",
        start=start,
        end=end,
        seat_id=seat_id or "",
        seats=seats,
        trends=found,
        peak_chart=charts.stacked_bars(
            hours, {"prompts": found.peak_hours}, caption="Prompts per hour of day", unit="prompts"
        ),
        mix_chart=charts.stacked_bars(
            list(mix), {"turns": list(mix.values())}, caption="Turns per model", unit="turns"
        ),
        per_seat=found.per_seat,
    )
    return render(request, "monitoring/trends.html", context)


def trends_csv(request: HttpRequest) -> HttpResponse:
    if not request.user.has_perm("limiter.view_usageevent"):
        raise PermissionDenied
    try:
        start, end = _range(request, default_days=30)
    except BadRange as exc:
        return JsonResponse({"error": str(exc)}, status=400)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="usage-{start}-{end}.csv"'
    writer = csv.writer(response)
    writer.writerow(
        [f"day ({team_zone_name()})", "seat", "model", "turns", "credits", "input tokens", "output tokens"]
    )
    for row in history.usage_per_seat_day(start=start, end=end):
        writer.writerow(
            [row.day, row.seat, row.family, row.turns, row.credits, row.input_tokens, row.output_tokens]
        )
    return response


def limit_hits(request: HttpRequest) -> HttpResponse:
    if not (
        request.user.has_perm("limiter.view_sessionevent")
        and request.user.has_perm("accounts.view_windowreading")
    ):
        raise PermissionDenied
    try:
        days = min(max(int(request.GET.get("days", "7")), 1), 90)
    except ValueError:
        return JsonResponse({"error": "`days` is a whole number of days (1-90)."}, status=400)
    now = timezone.now()
    since = now - timedelta(days=days)
    blocks = seat_reports.block_episodes(since=since, now=now)
    full = account_reports.full_windows(since=since)
    span = (since.timestamp(), now.timestamp())
    seat_lanes: dict[str, list] = {}
    for e in blocks:
        text = f"{timezone.localtime(e.started):%m-%d %H:%M}, {_duration(e.duration)}, {e.count} blocked"
        seat_lanes.setdefault(e.subject, []).append((e.started.timestamp(), e.ended.timestamp() + 60, text))
    account_lanes: dict[str, list] = {}
    for f in full:
        ended = f.ended or now
        text = f"{timezone.localtime(f.started):%m-%d %H:%M}, {_duration(ended - f.started)}"
        text += "" if f.ended else " (still full)"
        account_lanes.setdefault(f"{f.account} · {f.limit_type}", []).append(
            (f.started.timestamp(), ended.timestamp(), text)
        )
    context = _context(
        request,
        _site(),
        "Limit hits",
        days=days,
        blocks=blocks,
        full=full,
        now=now,
        seat_chart=charts.timeline(list(seat_lanes.items()), span=span, caption="Seats blocked"),
        account_chart=charts.timeline(
            list(account_lanes.items()), span=span, caption="Account windows at 100 %"
        ),
    )
    return render(request, "monitoring/limit_hits.html", context)


def _duration(span: timedelta) -> str:
    minutes = int(span.total_seconds() // 60)
    return f"{minutes // 60} h {minutes % 60} min" if minutes >= 60 else f"{minutes} min"
