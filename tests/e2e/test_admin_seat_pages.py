"""The seat pages as an admin sees them, in a real headless Chromium against a live server."""

import re

from django.contrib.auth import get_user_model

from limiter import services
from limiter.models import Seat

PASSWORD = "browser-test-pw"


def log_in(page, live) -> None:
    get_user_model().objects.create_superuser("boss", password=PASSWORD)
    page.goto(f"{live.url}/admin/login/?next=/admin/")
    page.fill("#id_username", "boss")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(f"{live.url}/admin/")


def test_admin_kills_a_seat_and_issues_an_install_code_in_the_browser(live, browser, tmp_path):
    alice = services.seat_create(slug="alice", name="Alice")
    services.rule_add(owner=alice, type="credits", window="daily", value=100)
    page = browser.new_page()
    log_in(page, live)

    page.goto(f"{live.url}/admin/limiter/seat/")
    row = page.locator("#result_list tbody tr", has_text="Alice")
    assert "100 / 100" in row.inner_text()
    assert "Active" in row.inner_text()

    row.locator("input.action-select").check()
    page.select_option("select[name=action]", "kill")
    page.click("button[name=index]")
    assert "Killed 1 seat(s)." in page.locator("ul.messagelist").inner_text()
    assert "Killed" in page.locator("#result_list tbody tr", has_text="Alice").inner_text()
    alice.refresh_from_db()
    assert alice.status == Seat.KILLED

    page.locator("#result_list tbody tr", has_text="Alice").locator("input.action-select").check()
    page.select_option("select[name=action]", "issue_install_codes")
    page.click("button[name=index]")
    text = page.locator("#content").inner_text()
    code = re.search(r"CLM-alice-[a-z0-9]+", text).group(0)
    assert f"--code {code}" in text
    page.screenshot(path=str(tmp_path / "install-code.png"), full_page=True)
    _, seat = services.register(code=code, ip="127.0.0.1")
    assert seat == alice
    page.close()
