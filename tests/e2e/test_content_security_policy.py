"""The pages run under a Content-Security-Policy that refuses inline code, and the browser tests notice a breach."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_injected_inline_script_is_refused_and_reported(new_page, csp_violations):
    page = new_page()
    page.goto(reverse("home"))

    page.evaluate(
        """() => {
            const script = document.createElement("script");
            script.textContent = "window.injected = true";
            document.body.append(script);
        }"""
    )
    page.wait_for_timeout(200)

    assert page.evaluate("window.injected") is None
    assert any("script-src" in violation for violation in csp_violations)
    csp_violations.clear()  # seen and expected: the fixture fails a test only for unexpected ones


def test_the_language_menu_switches_without_an_inline_handler(new_page):
    page = new_page()
    page.goto(reverse("home"))

    page.select_option("#lang-select", "ko")

    expect(page.locator("html")).to_have_attribute("lang", "ko")
