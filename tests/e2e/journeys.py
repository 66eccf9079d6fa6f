"""Helpers shared by the journey tests of issue 13: pages in a language, log-in, screenshots kept as artifacts."""

import os
import re
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.e2e.conftest import REPO

ARTIFACTS = Path(os.environ.get("HULIC_E2E_ARTIFACTS", str(REPO / "test-artifacts" / "e2e")))


def open_page(browser, server, *, language: str = "en", width: int = 1280, height: int = 800) -> Page:
    context = browser.new_context(
        base_url=server.url,
        viewport={"width": width, "height": height},
        locale="ko-KR" if language == "ko" else "en-US",
    )
    context.set_default_timeout(10_000)
    return context.new_page()


def log_in(page: Page, username: str, password: str) -> None:
    page.goto("/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.locator("form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/$"))


def keep_screenshot(page: Page, name: str) -> Path:
    """Saves a full-page screenshot under test-artifacts/e2e (HULIC_E2E_ARTIFACTS) for people to look at."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def pass_onboarding(page: Page, slug: str, questions: list[dict]) -> None:
    page.goto(f"/evaluate/{slug}/")
    page.click("#consent-submit")
    for number, question in enumerate(questions):
        page.check(f"#id_q{number}_{question['answer']}")
    page.click("#onboarding-submit")
    expect(page.locator("#start-submit")).to_be_visible()
