"""Error pages: JSON `{"error": ...}` for the hook API wherever Django answers for it, HTML elsewhere.

The API's views answer their own errors (limiter/api/errors.py); these cover what happens around them: an
exception in a middleware, a bad Host header, a path outside the API's URL list, a CSRF refusal. What the
app server (gunicorn, daphne) refuses before Django sees the request is listed in docs/hardening.md.
"""

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import csrf, defaults

API_PREFIX = "/api/"


def _is_api(request: HttpRequest) -> bool:
    return request.path_info.startswith(API_PREFIX)


def _json(status: int, message: str) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _is_api(request):
        return _json(400, "Bad request")
    return defaults.bad_request(request, exception)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _is_api(request):
        return _json(403, "Forbidden")
    return defaults.permission_denied(request, exception)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _is_api(request):
        return _json(404, "Not found")
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    if _is_api(request):
        # A fault outside the views (a middleware, the database under them) is an outage to the hook client.
        return _json(503, "Service unavailable")
    return defaults.server_error(request)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    if _is_api(request):
        return _json(403, "CSRF verification failed")
    return csrf.csrf_failure(request, reason=reason)
