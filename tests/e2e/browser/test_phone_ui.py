"""Phone first, in a real browser: no page wider than the screen from 360 to 430 px; a share link's visitor lands on
"Find your photos" (picks their name, or adds themselves with a selfie) without one refused request; the
full-screen viewer on a group photo whose faces are close together (arrows off the faces, names that do not cover
each other, swipe and arrows); the owner's start page (the last album, or the list of albums)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import httpx
import numpy as np
import pytest
from conftest import add_member_in_ui, open_album
from people_images import shot
from PIL import Image
from service_support import Server, jpeg, upload, wait_analysed, wait_idle

pytestmark = [pytest.mark.browser, pytest.mark.integration]

LIVE = 120_000  # ms: analysis and re-matching, face models loading included
STEP = 30_000  # ms: any other UI step
WIDTHS = (360, 390, 430)
DOCS_SCREENSHOT = Path(__file__).resolve().parents[3] / "docs" / "album-phone.png"


def phone(width: int, height: int = 800) -> dict:
    return {"viewport": {"width": width, "height": height}, "device_scale_factor": 2, "is_mobile": True,
            "has_touch": True}


def crowd() -> bytes:
    """A wide photo of four faces side by side, close together (the astronaut and the cameraman, each twice): small
    on a screen, so that names placed naively under each face would cover each other."""
    from skimage import data

    canvas = Image.new("RGB", (3200, 1500), (120, 140, 170))
    astronaut = Image.fromarray(data.astronaut()).crop((170, 30, 330, 250))
    cameraman = Image.fromarray(np.stack([data.camera()] * 3, -1)).crop((200, 50, 340, 220))
    x = 1200
    for face in (astronaut, cameraman, astronaut.transpose(Image.Transpose.FLIP_LEFT_RIGHT),
                 cameraman.transpose(Image.Transpose.FLIP_LEFT_RIGHT)):
        canvas.paste(face, (x, 600))
        x += face.width
    return jpeg(np.asarray(canvas))


def album_with(client: httpx.Client, name: str, photos: list[tuple[str, bytes]], member: str) -> tuple[str, str]:
    """A new album with ``photos`` analysed and a member of that name (the astronaut); returns both ids."""
    album_id = client.post("/v1/albums", json={"name": name}).json()["id"]
    reply = upload(client, album_id, photos)
    assert reply.status_code == 202, reply.text
    wait_analysed(client, [p["id"] for p in reply.json()["photos"]])
    reply = client.post(f"/v1/albums/{album_id}/members", data={"name": member},
                        files=[("files", ("selfie.jpg", shot("astronaut", 0), "image/jpeg"))])
    assert reply.status_code == 201, reply.text
    wait_idle(client)
    return album_id, reply.json()["id"]


def member_files(client: httpx.Client, album_id: str, member_id: str) -> set[str]:
    items = client.get(f"/v1/albums/{album_id}/photos", params={"member": member_id, "limit": 500}).json()["items"]
    return {p["filename"] for p in items}


def shown_files(page) -> set[str]:  # noqa: ANN001 - a Playwright page
    return set(page.locator("#photo-grid [data-testid=photo]").evaluate_all("cs => cs.map(c => c.dataset.filename)"))


def assert_fits(page, width: int) -> None:  # noqa: ANN001
    """Nothing wider than the screen: no horizontal scroll (and the layout viewport is the screen)."""
    assert page.evaluate("window.innerWidth") == width
    assert page.evaluate("document.documentElement.scrollWidth") <= width


def rect(box: dict) -> tuple[float, float, float, float]:
    return box["x"], box["y"], box["x"] + box["width"], box["y"] + box["height"]


def intersects(a: tuple, b: tuple) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def check_viewer_faces(page) -> None:  # noqa: ANN001
    """The names do not cover each other, and the arrows cover no face and no name."""
    boxes = page.locator("#viewer [data-testid=facebox]")
    faces = [rect(b) for b in boxes.evaluate_all("bs => bs.map(b => b.getBoundingClientRect().toJSON())")]
    labels = [rect(b) for b in boxes.evaluate_all(
        "bs => bs.map(b => b.querySelector('span').getBoundingClientRect().toJSON())")]
    for i, a in enumerate(labels):
        assert not any(intersects(a, b) for b in labels[i + 1:]), labels
    for arrow in ("viewer-prev", "viewer-next"):
        box = page.get_by_test_id(arrow).bounding_box()
        if box is not None:
            assert not any(intersects(rect(box), r) for r in faces + labels), (arrow, box, faces, labels)


def swipe(page, towards: str) -> None:  # noqa: ANN001
    """A finger swipe across the photo (``towards`` "left": the next photo)."""
    page.locator("#viewer-scroll").evaluate("""(node, left) => {
        const r = node.getBoundingClientRect(), y = r.top + r.height / 2;
        const [from, to] = left ? [r.right - 30, r.left + 30] : [r.left + 30, r.right - 30];
        const at = (x) => new Touch({ identifier: 1, target: node, clientX: x, clientY: y });
        node.dispatchEvent(new TouchEvent("touchstart", { touches: [at(from)], changedTouches: [at(from)],
          bubbles: true }));
        node.dispatchEvent(new TouchEvent("touchend", { touches: [], changedTouches: [at(to)], bubbles: true }));
    }""", towards == "left")


def test_visitor_finds_their_photos(browser, keyed_server: Server, screenshots: Path) -> None:
    from playwright.sync_api import expect

    expect.set_options(timeout=STEP)
    server = keyed_server
    client = server.client()
    photos = [("eileen-1.jpg", shot("astronaut", 1)), ("cam-1.jpg", shot("cameraman", 1)), ("crowd.jpg", crowd()),
              ("eileen-2.jpg", shot("astronaut", 2)), ("cam-2.jpg", shot("cameraman", 2))]
    album_id, eileen = album_with(client, "Jeju trip with the whole family", photos, "Eileen")
    link = client.post(f"/v1/albums/{album_id}/shares", json={"can_upload": True}).json()["url"]
    refused: list[str] = []  # every 4xx / 5xx answer and console error of the visitors' pages
    errors: list[str] = []

    def visitor(width: int):  # noqa: ANN202
        context = browser.new_context(**phone(width))
        page = context.new_page()
        page.set_default_timeout(STEP)
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on("response", lambda r: refused.append(f"{r.status} {r.request.method} {r.url}") if r.status >= 400
                else None)
        page.on("console", lambda m: refused.append(m.text) if m.type == "error" else None)
        page.goto(link)
        expect(page.get_by_test_id("members-title")).to_have_text("Find your photos")
        expect(page.locator("#photo-grid [data-testid=photo]")).to_have_count(len(photos))
        return page

    # The link opens on "Find your photos", on every phone width, with nothing wider than the screen and the
    # header's text whole.
    pages = {}
    for width in WIDTHS:
        page = pages[width] = visitor(width)
        expect(page.get_by_test_id("members-hint")).to_have_text(
            "Tap your name to see your photos, or add yourself with a selfie.")
        assert page.get_by_test_id("members-panel").evaluate("d => d.open")
        assert_fits(page, width)
        text = page.get_by_test_id("access-text")
        assert text.evaluate("n => n.scrollWidth <= n.clientWidth && n.scrollHeight <= n.clientHeight + 1")
        expect(text).to_contain_text("Jeju trip with the whole family")
        page.wait_for_function("[...document.querySelectorAll('#photo-grid img')].slice(0, 2)"
                               ".every(i => i.complete && i.naturalWidth > 0)")
        page.screenshot(path=screenshots / f"1-landing-{width}.png")
        if width == 390 and os.environ.get("PHOTOSIFT_DOCS_SCREENSHOT"):
            shutil.copyfile(screenshots / "1-landing-390.png", DOCS_SCREENSHOT)
    pages[360].context.close()
    pages[430].context.close()
    page = pages[390]

    # Her name: her photos; she is remembered (the album opens on her photos, the panel folded).
    page.get_by_test_id("member").filter(has_text="Eileen").click()
    expect(page.locator("#photo-grid [data-testid=photo]")).to_have_count(len(member_files(client, album_id, eileen)))
    assert shown_files(page) == member_files(client, album_id, eileen)
    expect(page.locator("#photo-grid")).to_be_in_viewport()
    page.reload()
    expect(page.locator("#filters [data-filter=member]")).to_have_attribute("aria-pressed", "true")
    assert shown_files(page) == member_files(client, album_id, eileen)
    assert not page.get_by_test_id("members-panel").evaluate("d => d.open")

    # The full-screen viewer: the photo fills the screen's width, nothing of the page around it.
    page.locator("#photo-grid [data-testid=photo][data-filename='crowd.jpg']").click()
    viewer = page.get_by_test_id("viewer")
    assert viewer.bounding_box() == {"x": 0, "y": 0, "width": 390, "height": 800}
    expect(page.get_by_test_id("viewer-img")).to_have_js_property("complete", True)
    image = page.get_by_test_id("viewer-img").bounding_box()
    assert image is not None and image["x"] == 0 and abs(image["width"] - 390) < 1, image
    expect(viewer.get_by_test_id("facebox")).to_have_count(4)
    check_viewer_faces(page)
    page.screenshot(path=screenshots / "2-viewer-crowd.png")
    position = page.get_by_test_id("viewer-position").inner_text()
    at, total = (int(n) for n in position.split(" / "))
    if at < total:
        swipe(page, "left")
        expect(page.get_by_test_id("viewer-position")).to_have_text(f"{at + 1} / {total}")
        page.get_by_test_id("viewer-prev").click()
    else:
        swipe(page, "right")
        expect(page.get_by_test_id("viewer-position")).to_have_text(f"{at - 1} / {total}")
        page.get_by_test_id("viewer-next").click()
    expect(page.get_by_test_id("viewer-position")).to_have_text(position)
    check_viewer_faces(page)
    page.get_by_test_id("viewer-close").click()

    # Another visitor, not in the album yet: adds himself with a selfie and sees his photos as they are found.
    other = visitor(360)
    add_member_in_ui(other, "Cam", "selfie.jpg", shot("cameraman", 0))
    expect(other.get_by_test_id("member-message")).to_contain_text("Cam added", timeout=LIVE)
    wait_idle(client)
    cam = next(m["id"] for m in client.get(f"/v1/albums/{album_id}/members").json() if m["name"] == "Cam")
    found = member_files(client, album_id, cam)
    assert {"cam-1.jpg", "cam-2.jpg"} <= found
    expect(other.locator("#filters [data-filter=member][aria-pressed=true]")).to_have_text("Cam")
    expect(other.locator("#photo-grid [data-testid=photo]")).to_have_count(len(found), timeout=LIVE)
    assert shown_files(other) == found
    assert_fits(other, 360)
    other.screenshot(path=screenshots / "3-added-himself.png")

    assert errors == [] and refused == []  # the visitors never asked for what their link may not reach
    page.context.close()
    other.context.close()


def test_viewer_names_start_page_and_widths(browser, server: Server, screenshots: Path) -> None:
    from playwright.sync_api import expect

    client = server.client()
    photos = [("crowd.jpg", crowd()), ("eileen-1.jpg", shot("astronaut", 1)), ("cam-1.jpg", shot("cameraman", 1))]
    album_id, _ = album_with(client, "Houston", photos, "Eileen Collins")
    other_album = client.post("/v1/albums", json={"name": "Empty"}).json()["id"]
    errors: list[str] = []

    # Desktop: the names of close faces do not cover each other; the arrows beside the photo cover no face.
    page = open_album(browser, server, album_id, errors, viewport={"width": 1280, "height": 800})
    page.locator("#photo-grid [data-testid=photo][data-filename='crowd.jpg']").click()
    expect(page.get_by_test_id("viewer-img")).to_have_js_property("complete", True)
    expect(page.locator("#viewer [data-testid=facebox]").filter(has_text="Eileen Collins").first).to_be_visible()
    check_viewer_faces(page)
    page.screenshot(path=screenshots / "1-desktop-crowd.png")
    page.get_by_test_id("viewer-zoom").click()  # zoomed in, the names are placed again
    check_viewer_faces(page)
    page.keyboard.press("Escape")

    # The grid's order is by date taken by default; a choice stays (here, after a reload).
    expect(page.get_by_test_id("sort-select")).to_have_value("taken")
    page.get_by_test_id("sort-select").select_option("uploaded")
    page.reload()
    expect(page.get_by_test_id("sort-select")).to_have_value("uploaded")

    # "/" again: the album opened last; without one, the list of albums.
    page.goto(server.url + "/")
    expect(page.locator("#album")).to_be_visible()
    assert page.url.endswith(f"#album={album_id}")
    expect(page.locator("#photo-grid [data-testid=photo]")).to_have_count(len(photos))  # opened (and remembered)
    page.evaluate("localStorage.clear()")
    page.goto(server.url + "/")
    expect(page.get_by_test_id("album-item")).to_have_count(2)
    expect(page.locator(f"[data-testid=album-item][data-album-id='{other_album}']")).to_contain_text("Empty")
    expect(page.locator(f"[data-album-id='{album_id}'] img.cover")).to_have_js_property("complete", True)
    assert page.locator(f"[data-album-id='{album_id}'] img.cover").evaluate("i => i.naturalWidth") > 0
    expect(page.locator(f"[data-album-id='{other_album}'] img.cover")).to_have_count(0)  # no photo: no cover
    page.screenshot(path=screenshots / "2-albums.png")
    page.locator(f"[data-testid=album-item][data-album-id='{album_id}']").click()
    expect(page.locator("#album")).to_be_visible()
    page.close()

    # Phones: no horizontal scroll on either tab, the viewer included.
    for width in WIDTHS:
        small = open_album(browser, server, album_id, errors, **phone(width, 740 if width == 360 else 844))
        expect(small.locator("#photo-grid [data-testid=photo]")).to_have_count(len(photos))
        assert_fits(small, width)
        small.get_by_test_id("tab-people").click()
        expect(small.get_by_test_id("member-card")).to_have_count(1)
        assert_fits(small, width)
        small.get_by_test_id("tab-photos").click()
        small.locator("#photo-grid [data-testid=photo][data-filename='crowd.jpg']").click()
        expect(small.locator("#viewer [data-testid=facebox]")).to_have_count(4)
        check_viewer_faces(small)
        assert_fits(small, width)
        small.screenshot(path=screenshots / f"3-viewer-{width}.png")
        small.close()
    assert errors == []
