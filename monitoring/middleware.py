"""An identity provider that is down or answers garbage gets a clear page, not a server error."""

import logging

import requests
from django.conf import settings
from django.contrib import admin
from django.shortcuts import render
from django.utils import timezone

log = logging.getLogger(__name__)


class IdentityProviderErrorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        # allauth fetches the provider's discovery document while starting a login and lets failures escape.
        if not isinstance(exception, requests.RequestException) or not request.path.startswith("/accounts/"):
            return None
        log.warning("Single sign-on: the identity provider failed: %s", exception)
        context = {
            **admin.site.each_context(request),
            "title": "Single sign-on is unavailable",
            "local_login": settings.LOCAL_LOGIN_ENABLED,
        }
        return render(request, "monitoring/idp_unreachable.html", context, status=502)


class TeamTimezoneMiddleware:
    """Admin pages show times in the team's zone (team settings), read once per request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # Signed-in people only: the login pages show no times and must not need the database.
        if not request.path.startswith("/admin/") or not request.user.is_authenticated:
            return self.get_response(request)
        from .pages import team_zone

        with timezone.override(team_zone()):
            return self.get_response(request)
