"""A deployed album in a real browser, on a server with API keys: the owner signs in (password) and makes share
links; a visitor in another browser opens one, sees that album only, adds themselves with a selfie and uploads; a
view-only visitor cannot write; after revocation the link, the session and the open page are refused."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from conftest import PASSWORD, add_member_in_ui
from people_images import shot
from service_support import Server

pytestmark = [pytest.mark.browser, pytest.mark.integration]

LIVE = 120_000  # ms: analysis, face models loading included
STEP = 30_000  # ms: any other UI step


def fetch_status(page, method: str, path: str) -> int:  # noqa: ANN001 - a Playwright page
    """The status of a same-origin fetch from the page (cookies included, as the app's own requests)."""
    return page.evaluate("async ([m, p]) => (await fetch(p, { method: m })).status", [method, path])


def test_owner_signs_in_and_shares_an_album(browser, keyed_server: Server, screenshots: Path) -> None:
    from playwright.sync_api import expect

    expect.set_options(timeout=STEP)
    server = keyed_server
    with server.client() as api:  # another album, which no share link may reveal
        private = api.post("/v1/albums", json={"name": "Private"}).json()["id"]

    # The owner: the UI asks to sign in (every API call is 401 without a session).
    owner_context = browser.new_context(viewport={"width": 1280, "height": 900})
    owner = owner_context.new_page()
    owner.set_default_timeout(STEP)
    errors: list[str] = []
    owner.on("pageerror", lambda exc: errors.append(str(exc)))
    owner.goto(server.url + "/")
    expect(owner.get_by_test_id("signin")).to_be_visible()
    expect(owner.locator("#welcome")).to_be_hidden()
    expect(owner.locator("#album-form")).to_be_hidden()  # signed out: the sign-in only, no album controls
    expect(owner.locator("#album-menu")).to_be_hidden()
    owner.get_by_test_id("signin-secret").fill("not it")
    owner.get_by_test_id("signin-submit").click()
    expect(owner.get_by_test_id("signin-message")).to_contain_text("wrong key or password")
    owner.get_by_test_id("signin-secret").fill(PASSWORD)
    owner.get_by_test_id("signin-submit").click()
    expect(owner.locator("#welcome")).to_be_visible()
    expect(owner.get_by_test_id("access-text")).to_contain_text("owner")
    cookie = next(c for c in owner_context.cookies() if c["name"] == "photosift_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    assert owner.evaluate("document.cookie") == ""  # HttpOnly: no script can read the session

    owner.get_by_test_id("album-name").fill("Jeju trip")
    owner.get_by_test_id("create-album").click()
    expect(owner.locator("#album")).to_be_visible()
    album = owner.url.split("#album=")[1]
    owner.get_by_test_id("upload-input").set_input_files(
        files=[{"name": "eileen-1.jpg", "mimeType": "image/jpeg", "buffer": shot("astronaut", 1)}])
    expect(owner.locator("#photo-grid [data-testid=photo]")).to_have_count(1)

    # A share link that may upload.
    owner.locator("#share-panel summary").click()
    owner.get_by_test_id("share-label").fill("the group chat")
    owner.get_by_test_id("share-create").click()
    expect(owner.get_by_test_id("share-url")).not_to_have_value("")
    expect(owner.get_by_test_id("share-url")).to_be_in_viewport()  # scrolled into view
    link = owner.get_by_test_id("share-url").input_value()
    assert link.startswith(f"{server.url}/#share=")
    expect(owner.get_by_test_id("share-item")).to_have_count(1)
    expect(owner.get_by_test_id("share-item")).to_contain_text("the group chat")
    owner.screenshot(path=screenshots / "1-owner-share-link.png")

    # The visitor: another browser opens the link and lands in that album, signed in to it alone.
    visitor_context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    visitor = visitor_context.new_page()
    visitor.set_default_timeout(STEP)
    visitor.on("pageerror", lambda exc: errors.append(str(exc)))
    visitor.goto(link)
    expect(visitor.locator("#album")).to_be_visible()
    expect(visitor.get_by_test_id("access-text")).to_contain_text("Jeju trip · Shared album")
    assert visitor.url.endswith(f"/#album={album}") and "share=" not in visitor.url  # the token left the address
    expect(visitor.locator("#album-form")).to_be_hidden()  # no album list, no new albums
    expect(visitor.locator("#photo-grid [data-testid=photo]")).to_have_count(1)
    expect(visitor.locator("#share-panel")).to_be_hidden()
    assert fetch_status(visitor, "GET", "/v1/albums") == 403
    assert fetch_status(visitor, "GET", f"/v1/albums/{private}") == 404
    assert fetch_status(visitor, "GET", "/v1/status") == 403
    assert fetch_status(visitor, "GET", f"/v1/albums/{album}/shares") == 403

    # ... adds themselves as a member with a selfie, and uploads a photo.
    add_member_in_ui(visitor, "Eileen", "selfie.jpg", shot("astronaut", 0))
    expect(visitor.get_by_test_id("member-message")).to_contain_text("Eileen added", timeout=LIVE)
    expect(visitor.get_by_test_id("member")).to_have_count(1)
    visitor.get_by_test_id("upload-input").set_input_files(
        files=[{"name": "eileen-2.jpg", "mimeType": "image/jpeg", "buffer": shot("astronaut", 2)}])
    expect(visitor.locator("#photo-grid [data-testid=photo]")).to_have_count(2)
    expect(visitor.locator("#photo-grid [data-testid=photo][data-status=done]")).to_have_count(2, timeout=LIVE)
    # <img> requests carry the session cookie too: the viewer shows the photo itself.
    visitor.locator("#photo-grid [data-testid=photo]").first.click()
    expect(visitor.locator("#viewer-img")).to_have_js_property("complete", True)
    assert visitor.evaluate("document.getElementById('viewer-img').naturalWidth") > 0
    visitor.keyboard.press("Escape")
    visitor.get_by_test_id("member").click()  # her photos, matched live
    expect(visitor.locator("#photo-grid [data-testid=photo]")).to_have_count(2, timeout=LIVE)
    visitor.screenshot(path=screenshots / "2-visitor.png", full_page=True)

    # The owner sees the visitor's member and photo arrive live.
    expect(owner.locator("#photo-grid [data-testid=photo]")).to_have_count(2, timeout=LIVE)
    expect(owner.get_by_test_id("member")).to_have_count(1, timeout=LIVE)

    # A view-only link: its visitor sees the album but no upload or member form, and writes are refused.
    owner.get_by_test_id("share-upload").uncheck()
    owner.get_by_test_id("share-create").click()
    expect(owner.get_by_test_id("share-item")).to_have_count(2)
    view_link = owner.get_by_test_id("share-url").input_value()
    viewer_context = browser.new_context()
    viewer = viewer_context.new_page()
    viewer.set_default_timeout(STEP)
    viewer.goto(view_link)
    expect(viewer.get_by_test_id("access-text")).to_contain_text("view only")
    expect(viewer.locator("#photo-grid [data-testid=photo]")).to_have_count(2)
    expect(viewer.locator("#upload-panel")).to_be_hidden()
    expect(viewer.locator("#member-form")).to_be_hidden()
    assert fetch_status(viewer, "POST", f"/v1/albums/{album}/photos") == 403
    assert fetch_status(viewer, "DELETE", f"/v1/albums/{album}") == 403

    # Revocation: the open page is signed out within seconds (its event stream ends), the link opens nothing.
    owner.get_by_test_id("share-item").filter(has_text="the group chat").get_by_test_id("share-revoke").click()
    expect(owner.get_by_test_id("share-item")).to_have_count(1)
    expect(visitor.get_by_test_id("signin")).to_be_visible()
    expect(visitor.get_by_test_id("signin-message")).to_contain_text("no longer works")
    expect(visitor.locator("#album")).to_be_hidden()
    assert fetch_status(visitor, "GET", f"/v1/albums/{album}") == 401
    fresh = browser.new_context().new_page()
    fresh.goto(link)
    expect(fresh.get_by_test_id("signin-message")).to_contain_text("revoked")
    expect(fresh.locator("#album")).to_be_hidden()
    visitor.screenshot(path=screenshots / "3-revoked.png")
    expect(viewer.locator("#album")).to_be_visible()  # the other link still works

    # Signing out (in the header's menu) ends the owner's session on the server.
    owner.locator("#album-menu summary").click()
    owner.get_by_test_id("sign-out").click()
    expect(owner.get_by_test_id("signin")).to_be_visible()
    assert fetch_status(owner, "GET", "/v1/albums") == 401
    assert errors == []
    log = server.log.read_text()
    assert link.split("#share=")[1] not in log and view_link.split("#share=")[1] not in log
    with httpx.Client(base_url=server.url, headers=server.headers) as api:
        assert [s["label"] for s in api.get(f"/v1/albums/{album}/shares").json()] == [None]
    for context in (owner_context, visitor_context, viewer_context, fresh.context):
        context.close()
