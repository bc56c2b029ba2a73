"""Admin login (the identity provider, or the break-glass form) and the `user` role's "My seat" page."""

import hashlib
import logging
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth.views import LoginView
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme

from config import attempts
from limiter import reports as seat_reports
from limiter import selectors as limiter_selectors
from limiter import services as limiter_services
from limiter.api.views import client_ip
from limiter.hook_client import install_command, server_url

from . import pages
from . import selectors as monitoring_selectors
from .presenting import seat_cards_view

log = logging.getLogger(__name__)

OWN_FEED_LOOKBACK = 200  # newest feed messages searched for the user's own on "My seat"


def oidc_provider_id() -> str | None:
    """The configured OpenID Connect provider, read per request so tests and reloads see the current one."""
    providers: dict[str, dict] = settings.SOCIALACCOUNT_PROVIDERS
    configured = providers.get("openid_connect", {}).get("APPS", [])
    return configured[0]["provider_id"] if configured else None


def _safe_next(request: HttpRequest) -> str:
    target = request.POST.get(REDIRECT_FIELD_NAME) or request.GET.get(REDIRECT_FIELD_NAME, "")
    allowed = url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return target if allowed else reverse("admin:index")


def refused(request: HttpRequest) -> HttpResponse:
    context = {
        **admin.site.each_context(request),
        "title": "No access to Governor",
        "groups": [*settings.SSO_ADMIN_GROUPS, *settings.SSO_USER_GROUPS, *settings.SSO_READONLY_GROUPS],
    }
    return render(request, "monitoring/refused.html", context, status=403)


def admin_login(request: HttpRequest) -> HttpResponseBase:
    """Stands in for the admin's login page: sends people to the IdP; password form only without one."""
    user = request.user
    if user.is_authenticated and not (user.is_active and user.is_staff):
        return refused(request)
    if user.is_authenticated:
        return HttpResponseRedirect(_safe_next(request))
    provider_id = oidc_provider_id()
    if provider_id is None:
        return local_login(request)
    login_url = reverse("openid_connect_login", kwargs={"provider_id": provider_id})
    return HttpResponseRedirect(f"{login_url}?{urlencode({REDIRECT_FIELD_NAME: _safe_next(request)})}")


class BreakGlassAuthenticationForm(AdminAuthenticationForm):
    """Passwords are for superusers only; everyone else signs in through the identity provider."""

    def confirm_login_allowed(self, user) -> None:
        super().confirm_login_allowed(user)
        if not user.is_superuser:
            raise forms.ValidationError(
                "Password login is only for superusers (break-glass). Sign in through single sign-on.",
                code="not_superuser",
            )


def _attempt_keys(request: HttpRequest) -> list[tuple[str, int]]:
    """Failed-password counters and their limits: per address, and per name *from that address*.

    A counter per name alone would let anyone lock the real admin out by failing five times with the
    superuser's name; keyed with the address, an attacker locks out only themselves.
    """
    address = client_ip(request) or "unknown"
    name = request.POST.get("username", "").strip().lower()
    name_digest = hashlib.sha256(name.encode()).hexdigest()[:32]
    return [
        (f"break-glass:address:{address}", settings.BREAK_GLASS_ATTEMPTS_PER_ADDRESS),
        (f"break-glass:name:{name_digest}:{address}", settings.BREAK_GLASS_ATTEMPTS_PER_NAME),
    ]


def _break_glass_page(request: HttpRequest, template: str, title: str, status: int) -> HttpResponse:
    sso_enabled = oidc_provider_id() is not None
    context = {**admin.site.each_context(request), "title": title, "sso_enabled": sso_enabled}
    return render(request, template, context, status=status)


class BreakGlassLoginView(LoginView):
    """Failed attempts are limited per address and per (name, address), in the shared cache."""

    authentication_form = BreakGlassAuthenticationForm
    template_name = "monitoring/local_login.html"

    def post(self, request, *args, **kwargs):
        try:
            spent = any(attempts.count(key) >= limit for key, limit in _attempt_keys(request))
        except attempts.StoreUnavailable:
            # Without the counters the form would take unlimited guesses: closed, and saying why.
            log.warning("break-glass login refused: the attempt counters (cache) are unreachable")
            title = "Password sign-in unavailable"
            return _break_glass_page(request, "monitoring/login_unavailable.html", title, 503)
        if spent:
            return _break_glass_page(request, "monitoring/too_many_attempts.html", "Too many attempts", 429)
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form):
        window = settings.BREAK_GLASS_WINDOW_SECONDS
        try:
            for key, _ in _attempt_keys(self.request):
                attempts.record(key, window)
        except attempts.StoreUnavailable:
            log.warning("break-glass login: could not record a failed attempt (cache unreachable)")
        return super().form_invalid(form)


def local_login(request: HttpRequest) -> HttpResponseBase:
    if not settings.LOCAL_LOGIN_ENABLED:
        raise Http404("Password login is switched off (LOCAL_LOGIN_ENABLED=false).")
    if request.user.is_authenticated and request.user.is_active and request.user.is_staff:
        return HttpResponseRedirect(_safe_next(request))
    context = {
        **admin.site.each_context(request),
        "title": "Log in",
        "subtitle": None,
        "app_path": request.get_full_path(),
        "username": request.user.get_username(),
        "sso_enabled": oidc_provider_id() is not None,
        REDIRECT_FIELD_NAME: _safe_next(request),
    }
    return BreakGlassLoginView.as_view(extra_context=context)(request)


def signed_out(request: HttpRequest) -> HttpResponse:
    return render(request, "registration/logged_out.html", {**admin.site.each_context(request)})


def my_seat(request: HttpRequest) -> HttpResponse:
    """Seats whose email is the user's; POST issues one a new install code, shown only in this response."""
    if not request.user.has_perm("monitoring.see_own_seat"):
        raise PermissionDenied
    seats = limiter_selectors.seats_for_email(getattr(request.user, "email", ""))
    issued = None
    if request.method == "POST":
        if not request.user.has_perm("monitoring.issue_own_install_code"):
            raise PermissionDenied
        seat = next((s for s in seats if str(s.pk) == request.POST.get("seat", "")), None)
        if seat is None:
            raise PermissionDenied("That seat is not linked to your email address.")
        code = limiter_services.install_code_issue(seat=seat, by=request.user.get_username())
        issued = {"seat": seat, "code": code, "command": install_command(server_url(request), code)}
    context = {
        **admin.site.each_context(request),
        "title": "My seat",
        "rows": seats,
        "issued": issued,
        "can_issue": request.user.has_perm("monitoring.issue_own_install_code"),
    }
    if seats:
        # The same cards as the dashboard's, kept live by the "My seat" socket, which carries only these
        # seats' messages (consumers.OwnSeatConsumer); the initial list is theirs among the newest messages.
        ids = {str(seat.pk) for seat in seats}
        messages, cursor = monitoring_selectors.recent_feed(limit=OWN_FEED_LOOKBACK)
        own = [m for m in messages if m.get("seatId") in ids][: pages.FEED_ROWS]
        cards = seat_reports.seat_cards(timezone.now(), seat_ids=[seat.pk for seat in seats])
        context |= {"seats": seat_cards_view(cards), "feed": pages.feed_rows(own), "cursor": str(cursor)}
    # admin_view marks the page no-store: the code is kept only as a digest, so this response is its one copy.
    return render(request, "monitoring/my_seat.html", context)
