"""One exception handler for the hook API: every failure is JSON `{"error": ...}`, never an HTML page."""

import logging

from django.db import InterfaceError, OperationalError
from django.http import Http404
from rest_framework import exceptions
from rest_framework.response import Response

from ..errors import LimiterError, TooManyAttempts

logger = logging.getLogger(__name__)

REASON_BAD_REGISTRATION = (
    "This machine's Claude Governor token is not valid. Ask your admin for a new install code."
)
REASON_UNREGISTERED = (
    "This machine is not registered with Claude Governor. Run the installer with an install code."
)


class MalformedJSON(exceptions.ParseError):
    default_detail = "Malformed JSON"


class BodyTooLarge(exceptions.APIException):
    status_code = 413
    default_detail = "Request body too large"


def first_problem(errors: dict) -> str:
    """`{"field": ["problem"]}` → `field: problem`, descending into nested objects."""
    field, problems = next(iter(errors.items()))
    if isinstance(problems, dict):
        return f"{field}.{first_problem(problems)}"
    problem = problems[0] if isinstance(problems, list) else problems
    if field == "non_field_errors" or str(problem).startswith(f"{field} "):
        return str(problem)
    return f"{field}: {problem}"


def _body_for(exc: Exception) -> tuple[int, str, dict[str, str]]:
    if isinstance(exc, LimiterError):
        headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, TooManyAttempts) else {}
        return exc.status, exc.message, headers
    if isinstance(exc, exceptions.ValidationError):
        detail = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        return 400, first_problem(detail), {}
    if isinstance(exc, exceptions.MethodNotAllowed):
        return 405, "Method not allowed", {}
    if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
        return 401, str(exc.detail), {"WWW-Authenticate": "Bearer"}
    if isinstance(exc, Http404 | exceptions.NotFound):
        return 404, "Not found", {}
    if isinstance(exc, exceptions.APIException):
        return exc.status_code, str(exc.detail), {}
    if isinstance(exc, OperationalError | InterfaceError):
        # Unreachable, stalled past the request deadline (config/db/deadline.py) or locked: not a verdict.
        logger.warning("hook API: database unavailable: %s", exc)
        return 503, "Database unavailable; try again shortly", {"Retry-After": "5"}
    logger.exception("hook API fault")
    return 503, "Service unavailable", {}


def exception_handler(exc: Exception, context: dict) -> Response:
    status, message, headers = _body_for(exc)
    body: dict[str, object] = {"error": message}
    view = context.get("view")
    if getattr(view, "deny_on_error", False):
        # The v1 client shows `reason` and blocks; without it the block message would be empty.
        if status == 401:
            reason = REASON_UNREGISTERED if message == "auth_token required" else REASON_BAD_REGISTRATION
        else:
            reason = f"Claude Governor could not check this prompt: {message}"
        body.update(allowed=False, reason=reason, resets_at=None)
    return Response(body, status=status, headers=headers)
