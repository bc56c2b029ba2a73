"""The dashboard in a real Chromium updates without a reload: two daphne web processes, the hook API on one,
the browser on the other, and account polls written by a third process (this one), then by a real Celery
worker and beat.

Runs in whichever mode the suite runs: embedded (each web process tails the log) or Redis (channels-redis).
Prints the latency from sending /api/v1/count to the seat bar changing in the page; saves screenshots of the
dashboard, a seat page, an account page and the trends page under var/test-artifacts/.
"""

import json
import os
import statistics
import time
import urllib.request
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import timezone

from accounts.models import ClaudeAccount
from accounts.services import account_poll
from accounts.tests.celery_procs import CeleryProcesses
from accounts.tests.conftest import fake  # noqa: F401 - the loopback Claude API fixture
from accounts.tests.helpers import cookie_account
from limiter import reports, services
from monitoring import eventlog, feed
from tests.app_servers import AppServer
from tests.fakes.claude_api import legacy_usage

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "live-dashboard-pw"
COUNTS = 20
ARTIFACTS = Path(os.environ.get("TEST_ARTIFACTS_DIR", settings.BASE_DIR / "var" / "test-artifacts"))


@pytest.fixture
def webs(tmp_path):
    started = [
        AppServer(
            "daphne", tmp_path, name=name, GOVERNOR_VAR_DIR=str(tmp_path), ALLOWED_HOSTS="127.0.0.1"
        ).start()
        for name in ("web-a", "web-b")
    ]
    yield started
    for web in started:
        web.stop()


def _post(web: AppServer, token: str, path: str, body: dict) -> dict:
    request = urllib.request.Request(
        f"{web.url}{path}",
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def _count(web: AppServer, token: str, session: str) -> dict:
    body = {
        "model": "claude-opus-4-5",
        "timestamp": timezone.now().isoformat(),
        "session_id": session,
        "response_length": 100,
        "event_id": str(uuid.uuid4()),
    }
    return _post(web, token, "/api/v1/count", body)


def _check(web: AppServer, token: str, session: str) -> dict:
    body = {"model": "claude-opus-4-5", "session_id": session, "project_dir": "/src", "prompt_length": 5}
    return _post(web, token, "/api/v1/check", body)


WATCH = """([selector, name]) => {
  const el = document.querySelector(selector);
  window[name] = [];
  new MutationObserver(() => window[name].push({at: performance.timeOrigin + performance.now(),
    text: el.textContent})).observe(el, {childList: true, characterData: true, subtree: true});
}"""


def _wait_for_changes(page, name: str, count: int, timeout: float = 10) -> None:
    """Polls from here: the page's policy forbids eval, which Playwright's wait_for_function would need."""
    deadline = time.monotonic() + timeout
    while page.evaluate(f"window.{name}.length") < count:
        if time.monotonic() > deadline:
            raise AssertionError(f"{name}: fewer than {count} changes after {timeout} s")
        time.sleep(0.005)


def test_counts_polls_and_kills_reach_the_dashboard_without_a_reload(browser, fake, webs, tmp_path):  # noqa: F811
    web_a, web_b = webs
    get_user_model().objects.create_superuser("boss", password=PASSWORD)
    alice = services.seat_create(slug="alice", name="Alice")
    services.rule_add(owner=alice, type="per_model", model="opus", window="daily", value=500)
    services.rule_add(owner=alice, type="credits", window="daily", value=100000)
    token, _ = services.register(code=services.install_code_issue(seat=alice, by="boss"), ip="127.0.0.1")
    account, key = cookie_account(fake, legacy_usage(20.0, 30.0), label="team-max")
    account_poll(account_id=account.pk)

    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    page.goto(f"{web_b.url}/admin/login/?next=/admin/")
    page.fill("#id_username", "boss")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(f"{web_b.url}/admin/")
    page.wait_for_selector("#live-status:text('Live')", timeout=10_000)
    second_tab = browser.new_context().new_page()  # another admin's browser, for the kill below
    second_tab.context.add_cookies(page.context.cookies())
    second_tab.goto(f"{web_b.url}/admin/")
    second_tab.wait_for_selector("#live-status:text('Live')", timeout=10_000)

    credits = f'.card.seat[data-seat="{alice.pk}"] [data-role="credits"]'
    assert page.locator(credits).inner_text() == "100000 / 100000"
    assert _check(web_a, token, "running")["allowed"] is True  # holds 10 credits until its turn is counted

    bar = f'.card.seat[data-seat="{alice.pk}"] .bar[data-family="opus"] [data-role="used"]'
    page.evaluate(WATCH, [bar, "seatChanges"])
    latencies = []
    for i in range(COUNTS):
        sent = time.time()
        assert _count(web_a, token, f"s{i}")["recorded"] is True
        _wait_for_changes(page, "seatChanges", i + 1)
        latencies.append(page.evaluate(f"window.seatChanges[{i}].at") / 1000 - sent)
    assert page.locator(bar).inner_text() == str(COUNTS)
    today = f'.card.seat[data-seat="{alice.pk}"] [data-role="today"]'
    assert page.locator(today).inner_text() == f"opus {COUNTS}"  # was "no turns" when the page loaded
    assert page.locator("#feed li", has_text="turn counted").count() >= COUNTS
    # 20 turns of 10 credits counted and the running prompt's hold, as a first render of the card shows them.
    page.wait_for_selector(f'{credits}:text-is("99790 / 100000")', timeout=10_000)

    gauge = f'.card.account[data-account="{account.pk}"] .gauge[data-limit-type="session"] [data-role="pct"]'
    page.evaluate(WATCH, [gauge, "gaugeChanges"])
    fake.script(key, legacy_usage(64.0, 31.0))
    polled = time.time()
    account_poll(account_id=account.pk)  # another process than either web server, like a Celery worker
    _wait_for_changes(page, "gaugeChanges", 1)
    poll_latency = page.evaluate("window.gaugeChanges[0].at") / 1000 - polled
    assert page.locator(gauge).inner_text() == "64"
    assert page.locator("#feed li", has_text="team-max: poll ok").count() >= 1
    _a_real_workers_poll_reaches_the_page(page, fake, key, account, gauge, tmp_path / "celery")

    _alert_events_read_as_the_server_words_them(page, alice)

    services.seat_set_status(seat=alice, status="killed", by="boss")
    badge = f'.card.seat[data-seat="{alice.pk}"] [data-role="status"]'
    second_tab.wait_for_selector(f"{badge}.status-killed", timeout=10_000)

    mode = (
        "redis" if settings.CHANNEL_LAYERS["default"]["BACKEND"].startswith("channels_redis") else "embedded"
    )
    load = os.getloadavg()[0]
    ordered = sorted(latencies)
    p95 = ordered[max(0, round(0.95 * len(ordered)) - 1)]
    print(
        f"\nlive dashboard ({mode}, load {load:.2f}), /api/v1/count → seat bar, {COUNTS} counts: "
        f"p50 {statistics.median(latencies) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, "
        f"max {ordered[-1] * 1000:.0f} ms; poll commit → gauge {poll_latency * 1000:.0f} ms"
    )

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"dashboard-{mode}.png"), full_page=True)
    for name, url in (
        ("seat", f"/admin/seat/{alice.pk}/"),
        ("account", f"/admin/account/{account.pk}/"),
        ("trends", "/admin/trends/"),
    ):
        page.goto(f"{web_b.url}{url}")
        page.screenshot(path=str(ARTIFACTS / f"{name}-{mode}.png"), full_page=True)
    phone = browser.new_context(viewport={"width": 390, "height": 844}, color_scheme="dark").new_page()
    phone.context.add_cookies(page.context.cookies())
    phone.goto(f"{web_b.url}/admin/")
    phone.screenshot(path=str(ARTIFACTS / f"dashboard-phone-dark-{mode}.png"), full_page=True)
    _fits_a_phone_in_dark_mode(phone)
    for web in webs:
        assert "Traceback" not in web.log(), web.log()[-3000:]


def _a_real_workers_poll_reaches_the_page(page, fake, key, account, gauge, var_dir) -> None:  # noqa: F811
    """A Celery worker and beat, as `manage.py serve` runs them: the web process hears the worker's poll
    through the event log (embedded) or channels-redis, never through this test process."""
    var_dir.mkdir()
    fake.script(key, legacy_usage(77.0, 32.0))
    ClaudeAccount.objects.filter(pk=account.pk).update(next_poll_at=timezone.now())  # due at the next tick
    workers = CeleryProcesses(fake.url, var_dir)
    try:
        workers.worker("w1")
        workers.beat()
        try:
            page.wait_for_selector(f"{gauge}:text-is('77')", timeout=180_000)
        except Exception as exc:
            polls = list(ClaudeAccount.objects.filter(pk=account.pk).values())
            logs = "\n".join(f"--- {name}\n{workers.log(name)[-3000:]}" for name in ("w1", "beat"))
            raise AssertionError(f"the worker's poll never reached the page: {polls}\n{logs}") from exc
    finally:
        workers.stop()
    assert "Traceback" not in workers.log("w1"), workers.log("w1")[-3000:]


def _fits_a_phone_in_dark_mode(phone) -> None:
    """No sideways scrolling at 390 px, and light text on a dark page."""
    assert phone.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
    luminance = """(css) => { const [r, g, b] = css.match(/\\d+/g).map(Number); return (r + g + b) / 3; }"""
    page_bg = phone.evaluate(f"({luminance})(getComputedStyle(document.body).backgroundColor)")
    text = phone.evaluate(f"({luminance})(getComputedStyle(document.querySelector('.card')).color)")
    assert page_bg < 80 < text, (page_bg, text)


def _alert_events_read_as_the_server_words_them(page, seat) -> None:
    """dashboard.js words live rows itself; each must read as monitoring.feed words it on a first render."""
    now = timezone.now()
    resets, later = (now + timedelta(hours=3)).isoformat(), (now + timedelta(days=2)).isoformat()
    samples = [
        (
            eventlog.SEAT_BLOCKED,
            {
                "seat": "Alice",
                "cause": "per_model",
                "family": "opus",
                "limit": 5,
                "window": "daily",
                "resets_at": resets,
                "reason": "Daily opus limit reached.",
            },
        ),
        (
            eventlog.SEAT_BLOCKED,
            {
                "seat": "Alice",
                "cause": "time_of_day",
                "window": "day",
                "reason": "Opus is only available 08:00 - 20:00 (UTC).\nTry another model.",
            },
        ),
        (eventlog.SEAT_CREDITS, {"seat": "Alice", "window": "sliding_24h", "budget": 300, "used": 241}),
        (
            eventlog.ALERT_FIRED,
            {
                "alerts": [
                    {"title": "team-max: 90% of 5-hour limit", "channels": [1, 2]},
                    {"title": "team-max: 75% of weekly limit", "channels": [2]},
                ],
                "silenced": [{"channel": 3, "title": "t", "reason": "r"}],
                "deferred_until": later,
            },
        ),
        (eventlog.ALERT_DELIVERED, {"channel": "ops", "titles": ["team-max: 90% of 5-hour limit"]}),
        (eventlog.ALERT_FAILED, {"channel": "ops", "error": "temporary error (HTTP 502): HTTP 502"}),
    ]
    zone = reports.team().tz
    for kind, data in samples:
        event = eventlog.record(kind, seat_id=seat.pk if kind.startswith("seat.") else None, data=data)
        row = page.locator(f'#feed li[data-key="e{event.id}"]')
        row.wait_for(timeout=10_000)
        with timezone.override(zone):
            expected = feed.describe(feed.present_event(event))
        assert row.inner_text().endswith(expected), (row.inner_text(), expected)
