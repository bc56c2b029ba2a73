"""Every error Django answers under /api/ is JSON `{"error": ...}`, wherever in the stack it arises;
the rest of the site keeps its HTML pages."""

import http.client

import pytest

from tests.live import LiveServer

from .conftest import HookApi


class ExplodingMiddleware:
    """Stands in for any fault around the views: a middleware that raises."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.headers.get("X-Explode"):
            raise RuntimeError("boom")
        return self.get_response(request)


def raw_get(live, path: str, headers: dict[str, str] | None = None) -> tuple[int, str, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", live.port, timeout=30)
    try:
        connection.request("GET", path, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.getheader("Content-Type", ""), response.read()
    finally:
        connection.close()


@pytest.mark.parametrize("path", ["/api/", "/api/v2/check", "/api/v1/no-such-endpoint"])
def test_an_unknown_api_path_is_a_json_404(live, path):
    reply = HookApi(live).request("GET", path)
    assert reply.status == 404
    assert reply.headers["content-type"] == "application/json"
    assert reply.json == {"error": "Not found"}


def test_a_forged_host_header_on_the_api_is_a_json_400(live):
    reply = HookApi(live).request("POST", "/api/v1/check", {}, headers={"Host": "evil.example"})
    assert reply.status == 400
    assert reply.json == {"error": "Bad request"}


def test_a_fault_in_a_middleware_is_a_json_503_on_the_api_and_a_page_elsewhere(transactional_db, settings):
    settings.ALLOWED_HOSTS = ["127.0.0.1"]
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, f"{__name__}.ExplodingMiddleware"]
    server = LiveServer().start()  # built after the override, so it loads the exploding middleware
    try:
        status, content_type, body = raw_get(server, "/api/v1/health", {"X-Explode": "1"})
        assert (status, content_type) == (503, "application/json")
        assert body == b'{"error": "Service unavailable"}'
        status, content_type, body = raw_get(server, "/admin/", {"X-Explode": "1"})
        assert status == 500 and content_type.startswith("text/html")
    finally:
        server.stop()


def test_pages_outside_the_api_keep_their_html_errors(live):
    status, content_type, _ = raw_get(live, "/no-such-page")
    assert status == 404 and content_type.startswith("text/html")
