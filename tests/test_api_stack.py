"""The hook API's short middleware stack (config/api_stack.py): what it keeps, and that nothing else is
reachable through it."""

import json
import urllib.error
import urllib.request

from django.urls import resolve

from config.api_stack import API_PREFIX, api_middleware
from limiter import services
from limiter.api import views


def _post(url, body, headers=None):
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json", **(headers or {})}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, error.headers, json.loads(error.read())


def test_the_api_keeps_the_deadline_and_the_security_middleware():
    assert api_middleware() == [
        "config.db.deadline.DatabaseDeadlineMiddleware",
        "django.middleware.security.SecurityMiddleware",
        "django.middleware.common.CommonMiddleware",
        "django.middleware.clickjacking.XFrameOptionsMiddleware",
    ]


def test_every_path_under_the_prefix_resolves_to_a_hook_api_view():
    # Without sessions, CSRF and authentication middleware, no admin or sign-in page may be reachable here.
    for path in ("admin/", "../admin/", "accounts/login/", "/admin/", "check/../../admin/"):
        match = resolve(API_PREFIX + path)
        assert match.func.__module__.startswith("limiter."), path
    assert resolve(API_PREFIX + "../admin/").func is views.not_found


def test_hook_api_answers_keep_the_security_headers_and_set_no_cookie(live):
    seat = services.seat_create(slug="stack", name="Stack")
    token, _ = services.register(code=services.install_code_issue(seat=seat), ip=None)
    status, headers, body = _post(
        f"{live.url}/api/v1/check", {"model": "opus"}, {"Authorization": f"Bearer {token}"}
    )
    assert (status, body["allowed"]) == (200, True)
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["Content-Length"]
    assert "Set-Cookie" not in headers and "Cookie" not in headers.get("Vary", "")


def test_an_unknown_host_is_refused_on_the_api_too(live):
    request = urllib.request.Request(f"{live.url}/api/v1/health", headers={"Host": "evil.example"})
    try:
        urllib.request.urlopen(request, timeout=10)
        raise AssertionError("a request for an unknown host was answered")
    except urllib.error.HTTPError as error:
        assert error.code == 400
        assert json.loads(error.read()) == {"error": "Bad request"}


def test_pages_outside_the_api_keep_the_full_stack(live):
    with urllib.request.urlopen(f"{live.url}/admin/login/local/", timeout=10) as response:
        assert "Content-Security-Policy" in response.headers
        assert "csrftoken" in response.headers.get("Set-Cookie", "")

