"""Issue 13, accounts and errors in Chromium, in English and Korean: sign-up with an e-mail, a GET logout that
asks, a password reset by e-mail in the site's own look, the site's own error pages."""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.journeys import keep_screenshot, log_in, open_page

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

TEXT = {
    "en": {"not_found": "Page not found", "reset_done": "Check your e-mail", "csrf": "The form has expired"},
    "ko": {
        "not_found": "페이지를 찾을 수 없습니다",
        "reset_done": "이메일을 확인하세요",
        "csrf": "양식이 만료되었습니다",
    },
}


@pytest.mark.parametrize("language", ["en", "ko"])
def test_sign_up_log_out_reset_the_password_and_meet_the_error_pages(browser, asgi_server, mailoutbox, language):
    text = TEXT[language]
    page = open_page(browser, asgi_server, language=language)
    username = f"walker-{language}"

    page.goto("/no/such/page/")
    expect(page.locator("#error-404 h1")).to_have_text(text["not_found"])
    expect(page.locator(".brand")).to_be_visible()
    keep_screenshot(page, f"error-404-{language}")

    page.goto("/accounts/signup/")
    page.fill("#id_username", username)
    page.fill("#id_email", f"{username}@example.org")
    page.fill("#id_password1", "first-long-password-1")
    page.fill("#id_password2", "first-long-password-1")
    page.locator("form button[type=submit]").click()
    expect(page.locator(".nav-user")).to_have_text(username)

    page.goto("/accounts/logout/")
    keep_screenshot(page, f"logout-confirm-{language}")
    page.click("#logout-submit")
    expect(page.locator(".nav-user")).to_have_count(0)

    page.goto("/accounts/login/")
    page.click("#forgot-password")
    page.fill("#id_email", f"{username}@example.org")
    keep_screenshot(page, f"password-reset-{language}")
    page.click("#password-reset-submit")
    expect(page.locator("#password-reset-done h1")).to_have_text(text["reset_done"])
    assert len(mailoutbox) == 1
    link = re.search(r"https?://[^/\s]+(/accounts/reset/\S+/)", mailoutbox[0].body).group(1)
    page.goto(link)
    page.fill("#id_new_password1", "second-long-password-2")
    page.fill("#id_new_password2", "second-long-password-2")
    page.click("#password-reset-confirm-submit")
    expect(page.locator("#password-reset-complete")).to_be_visible()
    log_in(page, username, "second-long-password-2")
    expect(page.locator(".nav-user")).to_have_text(username)

    # A form posted after its CSRF cookie is gone (another tab logged out, cookies cleared).
    page.goto("/accounts/logout/")
    page.context.clear_cookies()
    page.click("#logout-submit")
    expect(page.locator("#error-csrf h1")).to_have_text(text["csrf"])
    expect(page.locator("body")).not_to_contain_text("DEBUG")
    keep_screenshot(page, f"error-csrf-{language}")
