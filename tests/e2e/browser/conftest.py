"""Fixtures of the browser tests: Debian's Chromium driven by Playwright against a real ``photosift serve``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from service_support import Server  # noqa: E402

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
OUTPUT = Path(__file__).resolve().parents[3] / "test-output" / "browser"
KEY = "browser-test-key-5f1c2a"
PASSWORD = "owner password for the trip"


@pytest.fixture(scope="session")
def browser() -> Iterator:
    """A headless Chromium (skips the test when /usr/bin/chromium is not installed)."""
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    """A real server on a free loopback port with its own data folder."""
    with Server(tmp_path / "data").running() as server:
        yield server


@pytest.fixture
def keyed_server(tmp_path: Path) -> Iterator[Server]:
    """A real server with an API key (``KEY``) and an owner password (``PASSWORD``): the browser must sign in, or
    open a share link."""
    from argon2 import PasswordHasher

    server = Server(tmp_path / "data", {"PHOTOSIFT_API_KEYS": KEY,
                                        "PHOTOSIFT_OWNER_PASSWORD_HASH": PasswordHasher().hash(PASSWORD)}, api_key=KEY)
    with server.running():
        yield server


@pytest.fixture
def screenshots(request: pytest.FixtureRequest) -> Path:
    """The folder this test's screenshots go to (test-output/browser/<test name>/)."""
    folder = OUTPUT / request.node.name
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def open_album(browser, server: Server, album_id: str, errors: list[str], step_ms: int = 30_000, **options):  # noqa: ANN001, ANN201
    """A new page on the album (desktop size unless ``options`` say otherwise) whose page errors go to ``errors``."""
    from playwright.sync_api import expect

    expect.set_options(timeout=step_ms)
    page = browser.new_page(**({"viewport": {"width": 1280, "height": 900}} | options))
    page.set_default_timeout(step_ms)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{server.url}/#album={album_id}")
    expect(page.locator("#album")).to_be_visible()
    return page


def add_member_in_ui(page, name: str, filename: str, photo: bytes) -> None:  # noqa: ANN001 - a Playwright page
    """Add a member in the UI: a name and one selfie through the file picker."""
    page.get_by_test_id("member-name").fill(name)
    page.get_by_test_id("member-file").set_input_files(
        files=[{"name": filename, "mimeType": "image/jpeg", "buffer": photo}])
    page.get_by_test_id("add-member").click()
