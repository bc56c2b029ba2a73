"""Hook API v1: one view per endpoint. Each parses, authenticates, calls one service, and renders."""

import ipaddress
import json

from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions
from rest_framework.parsers import JSONParser
from rest_framework.response import Response
from rest_framework.views import APIView

from .. import engine, selectors, services, turns
from ..windows import WINDOWS, window_bounds
from . import serializers as s
from .authentication import HookTokenAuthentication
from .body import read_body
from .errors import MalformedJSON
from .presenters import iso, rule_json, seat_json

VERSION = "0.1.0"
ERRORS = {
    400: OpenApiResponse(s.ErrorOut, description="Malformed JSON or a field of the wrong type"),
    401: OpenApiResponse(s.ErrorOut, description="Missing, unknown or revoked token"),
    405: OpenApiResponse(s.ErrorOut, description="Method not allowed"),
    413: OpenApiResponse(s.ErrorOut, description="Body over 64 KiB"),
}


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def client_ip(request) -> str | None:
    """REMOTE_ADDR, or the nearest X-Forwarded-For hop that is not one of our trusted proxies."""
    remote = request.META.get("REMOTE_ADDR") or None
    if remote not in settings.TRUSTED_PROXIES:
        return remote
    hops = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if h.strip()]
    for hop in reversed(hops):
        if hop not in settings.TRUSTED_PROXIES:
            # The header is client-supplied text; anything but an address is stored nowhere.
            return hop if _is_ip(hop) else remote
    return remote


class HookView(APIView):
    authentication_classes = [HookTokenAuthentication]
    # The body is parsed by _payload (the token may be inside it); this declares JSON for the schema.
    parser_classes = [JSONParser]
    input_serializer: type[s.serializers.Serializer]  # set by the endpoints that read a body
    deny_on_error = False

    def initial(self, request, *args, **kwargs):
        if request.method.lower() not in self.http_method_names or not hasattr(self, request.method.lower()):
            raise exceptions.MethodNotAllowed(request.method)
        # The body is parsed before authentication because the token may travel inside it.
        request._request.hook_payload = self._payload(request) if request.method == "POST" else {}
        super().initial(request, *args, **kwargs)

    @staticmethod
    def _payload(request) -> dict:
        raw = read_body(request._request)
        if not raw.strip():
            return {}
        try:
            payload = json.loads(raw)
        # RecursionError: nesting deeper than the parser's stack, which no client of ours sends.
        except (ValueError, UnicodeDecodeError, RecursionError) as exc:
            raise MalformedJSON() from exc
        if not isinstance(payload, dict):
            raise exceptions.ValidationError({"non_field_errors": ["Request body must be a JSON object"]})
        return payload

    def validated(self, request) -> dict:
        serializer = self.input_serializer(data=request._request.hook_payload)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    @staticmethod
    def limits_and_credits(rules, usage) -> dict:
        position = engine.tightest_credit_position(rules, usage)
        return {
            "limits": [rule_json(r) for r in rules],
            "credit_balance": position.balance if position else None,
            "credit_budget": position.budget if position else None,
        }


class RegisterView(HookView):
    authentication_classes = []
    input_serializer = s.RegisterIn

    @extend_schema(
        request=s.RegisterIn,
        responses={
            200: s.RegisterOut,
            400: ERRORS[400],
            404: OpenApiResponse(s.ErrorOut, description="Unknown, used or expired install code"),
            405: ERRORS[405],
            413: ERRORS[413],
            429: OpenApiResponse(s.ErrorOut, description="Too many attempts from this address"),
        },
        auth=[],
    )
    def post(self, request):
        code = self.validated(request)["code"]
        token, seat = services.register(code=code, ip=client_ip(request))
        rules = selectors.effective_rules(seat)
        return Response(
            {
                "auth_token": token,
                "user": seat_json(seat),
                "limits": [rule_json(r) for r in rules],
                "credit_weights": seat.team.credit_weights,
                "user_name": seat.name,
                "status": seat.status,
            }
        )


class SyncView(HookView):
    input_serializer = s.SyncIn

    @extend_schema(request=s.SyncIn, responses={200: s.SyncOut, **ERRORS})
    def post(self, request):
        data = self.validated(request)
        token, now = request.auth, timezone.now()
        session_id = data.get("session_id") or ""
        services.record_sync(
            token=token,
            model=data.get("model") or "default",
            device=services.DeviceInfo(
                hostname=data.get("hostname") or "",
                platform=data.get("platform") or "",
                arch=data.get("arch") or "",
                os_version=data.get("os_version") or "",
                client_version=data.get("client_version") or data.get("node_version") or "",
                claude_version=data.get("claude_version") or "",
            ),
            session_id=session_id,
            ip=client_ip(request),
            now=now,
        )
        seat, team = token.seat, token.seat.team
        rules = selectors.effective_rules(seat)
        usage = selectors.seat_usage(seat, now=now, rules=rules, exclude_session=session_id or None)
        return Response(
            {
                "status": seat.status,
                **self.limits_and_credits(rules, usage),
                "credit_weights": team.credit_weights,
                "usage": selectors.daily_usage_report(usage),
                "message": None,
                "team_timezone": team.timezone,
                "model_aliases": team.model_aliases,
                "extra_families": team.extra_families,
                "unknown_model_policy": team.unknown_model_policy,
                "offline_grace_seconds": team.offline_grace_minutes * 60,
                "server_time": iso(now),
            }
        )


class CheckView(HookView):
    input_serializer = s.CheckIn
    deny_on_error = True

    @extend_schema(
        request=s.CheckIn,
        responses={
            200: s.CheckOut,
            **{
                code: OpenApiResponse(s.CheckErrorOut, description=r.description)
                for code, r in ERRORS.items()
            },
        },
    )
    def post(self, request):
        data = self.validated(request)
        token = request.auth
        outcome = turns.decide_check(
            token=token,
            model=data.get("model") or "default",
            session_id=data.get("session_id") or "",
            project_dir=data.get("project_dir") or "",
            prompt_length=data.get("prompt_length"),
            ip=client_ip(request),
            now=timezone.now(),
        )
        decision = outcome.decision
        return Response(
            {
                "allowed": decision.allowed,
                "reason": decision.reason,
                "status": token.seat.status,
                **self.limits_and_credits(outcome.rules, outcome.usage),
                "usage": selectors.daily_usage_report(outcome.usage),
                "message": None,
                "resets_at": iso(decision.resets_at),
            }
        )


class CountView(HookView):
    input_serializer = s.CountIn

    @extend_schema(request=s.CountIn, responses={200: s.CountOut, **ERRORS})
    def post(self, request):
        data = self.validated(request)
        outcome = turns.record_count(
            token=request.auth,
            model=data.get("model") or "default",
            session_id=data.get("session_id") or "",
            response_length=data.get("response_length"),
            event_id=data.get("event_id"),
            client_timestamp=data.get("timestamp") or "",
            client_time=data["client_time"],
            usage=data.get("usage"),
            now=timezone.now(),
        )
        body: dict[str, object] = {"recorded": True, "new_balance": outcome.new_balance}
        if outcome.duplicate:
            body["duplicate"] = True
        return Response(body)


class StatusView(HookView):
    @extend_schema(responses={200: s.StatusOut, 401: ERRORS[401], 405: ERRORS[405]})
    def get(self, request):
        seat, now = request.auth.seat, timezone.now()
        team = seat.team
        rules = selectors.effective_rules(seat)
        usage = selectors.seat_usage(seat, now=now, rules=rules, windows=WINDOWS)
        per_model: dict[str, dict[str, dict]] = {}
        for rule in rules:
            if rule.type != engine.PER_MODEL or rule.window is None or rule.value is None:
                continue
            counts = usage.counts.get(rule.window, {})
            used = counts.get(rule.model, 0) if rule.model else max(counts.values(), default=0)
            remaining = None if rule.value == engine.UNLIMITED else max(0, rule.value - used)
            per_model.setdefault(rule.model or "all", {})[rule.window] = {
                "used": used,
                "limit": rule.value,
                "remaining": remaining,
            }
        report = {}
        for window in WINDOWS:
            counts = {**dict.fromkeys(selectors.REPORTED_FAMILIES, 0), **usage.counts.get(window, {})}
            report[window] = {
                "counts": counts,
                "totalCredits": usage.credits.get(window, 0),
                "windowStart": iso(window_bounds(window, now, team.tz)[0]),
            }
        return Response(
            {
                "user": seat_json(seat),
                "credit_weights": team.credit_weights,
                **self.limits_and_credits(rules, usage),
                "per_model": per_model,
                "usage": report,
            }
        )


class RotateTokenView(HookView):
    """Ours, not v1: swap this machine's token for a new one; the old token stops working at once."""

    @extend_schema(request=None, responses={200: s.RotateOut, **ERRORS})
    def post(self, request):
        return Response({"auth_token": services.token_rotate(token=request.auth, by="hook client")})


class HealthView(APIView):
    authentication_classes = []

    @extend_schema(responses={200: s.HealthOut, 405: ERRORS[405]}, auth=[])
    def get(self, request):
        return Response({"status": "ok", "timestamp": iso(timezone.now())})


class RootHealthView(APIView):
    authentication_classes = []

    @extend_schema(responses={200: s.HealthOut, 405: ERRORS[405], 503: s.HealthOut}, auth=[])
    def get(self, request):
        body = {"status": "ok", "timestamp": iso(timezone.now()), "version": VERSION}
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
        except Exception:
            return Response({**body, "status": "database unavailable"}, status=503)
        return Response(body)


@csrf_exempt  # otherwise a POST to an unknown path gets Django's 403 CSRF page instead of a JSON 404
def not_found(request, *args, **kwargs):
    return JsonResponse({"error": "Not found"}, status=404)
