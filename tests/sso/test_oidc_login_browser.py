"""A member signs in through the provider in headless Chromium and gets an install code for their own seat."""

import re

import pytest

from limiter import services

pytestmark = [pytest.mark.service, pytest.mark.django_db(transaction=True)]


def test_a_member_signs_in_in_the_browser_and_issues_an_install_code_for_their_seat(live, idp, browser):
    seat = services.seat_create(slug="bob-laptop", name="Bob", email="bob@example.test")
    page = browser.new_page()
    page.goto(f"{live.url}/admin/")
    page.wait_for_url(re.compile(re.escape(idp.url) + r"/interaction/"))
    page.fill("input[name=login]", "bob")
    page.fill("input[name=password]", "any password")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live.url}/admin/")

    page.click("text=My seat")
    page.wait_for_url(f"{live.url}/admin/my-seat/")
    assert "bob-laptop" in page.locator("#content").inner_text()
    page.click("text=Issue a new install code")
    code = page.locator("#install-code").inner_text()
    _, registered = services.register(code=code, ip="127.0.0.1")
    assert registered == seat

    page.goto(f"{live.url}/admin/limiter/seat/add/")
    assert "Not allowed" in page.locator("#content").inner_text()
    page.close()
