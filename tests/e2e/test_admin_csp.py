"""Every admin page carries a Content-Security-Policy, and loads in a real Chromium without one violation.

Violations are collected two ways: the page's `securitypolicyviolation` events (a listener installed before
any page script, outside the page's CSP) and Chromium's console reports. The pages are the admin sweep's:
every changelist, add, change, history and delete page and every custom admin view, with a row in every
table, as the admin and as a readonly viewer.
"""

import pytest
from django.test import Client

from monitoring import roles
from monitoring.tests.conftest import people, world  # noqa: F401  (fixtures shared with the admin sweep)
from monitoring.tests.test_admin_sweep import _every_admin_page, every_row  # noqa: F401

pytestmark = pytest.mark.usefixtures("every_row")

COLLECT = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => {
  const where = `${e.sourceFile}:${e.lineNumber}`;
  window.__csp.push(`${e.violatedDirective} blocked ${e.blockedURI || "inline"} (${where})`);
});
"""
# A CSV export is a download and "send test" a POST-only action (a GET is 405): neither is a page a policy
# applies to.
SKIPPED = ("logout", "no-such-page", ".csv", "/send-test/")


def _browser_session(browser, live, user):
    client = Client()
    client.force_login(user)
    context = browser.new_context()
    context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live.url}])
    context.add_init_script(COLLECT)
    return context


@pytest.mark.parametrize("role", [roles.ADMIN, roles.READONLY])
def test_no_admin_page_violates_its_content_security_policy(live, browser, people, role):  # noqa: F811
    pages = [path for path in _every_admin_page() if not any(word in path for word in SKIPPED)]
    context = _browser_session(browser, live, people[role])
    page = context.new_page()
    console: list[str] = []
    page.on("console", lambda m: console.append(m.text) if "Content Security Policy" in m.text else None)
    failures = []
    try:
        for path in pages:
            console.clear()
            response = page.goto(f"{live.url}{path}", wait_until="load")
            assert response is not None
            policy = response.headers.get("content-security-policy", "")
            if "script-src" not in policy:
                failures.append(f"{path}: no Content-Security-Policy")
            seen = page.evaluate("window.__csp") + console
            failures += [f"{path}: {violation}" for violation in seen]
    finally:
        context.close()
    assert not failures, "\n".join(failures)


def test_the_policy_allows_no_inline_script_and_no_framing(live, people):  # noqa: F811
    client = Client()
    client.force_login(people[roles.ADMIN])
    policy = client.get("/admin/")["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
    assert "'unsafe-inline'" not in directives["script-src"]
    assert "'unsafe-eval'" not in directives["script-src"]
    assert "'nonce-" in directives["script-src"] or directives["script-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'" and directives["object-src"] == "'none'"


def test_the_collector_sees_an_inline_script_being_blocked(live, browser, people):  # noqa: F811
    # The canary: without it, a collector that saw nothing would pass every page above.
    context = _browser_session(browser, live, people[roles.ADMIN])
    try:
        page = context.new_page()
        page.goto(f"{live.url}/admin/", wait_until="load")
        page.evaluate("""() => {
            const s = document.createElement("script");
            s.textContent = "window.__ran = true";
            document.body.appendChild(s);
        }""")
        page.wait_for_function("window.__csp.length > 0", timeout=5000)
        assert "script-src" in page.evaluate("window.__csp")[0]
        assert page.evaluate("window.__ran === undefined")
    finally:
        context.close()
