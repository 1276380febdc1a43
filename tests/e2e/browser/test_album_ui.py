"""The web UI in a real browser: create an album, add a member with a selfie, drop a batch of photos (a blurry one
and a corrupt one among them), watch the filters fill in live, correct the people (split, merge, undo, name)."""

from __future__ import annotations

import base64
import os
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from conftest import add_member_in_ui
from people_images import group, shot
from PIL import Image, ImageFilter
from service_support import Server, jpeg

pytestmark = [pytest.mark.browser, pytest.mark.integration]

LIVE = 120_000  # ms: analysis of the whole batch, face models loading included
STEP = 30_000  # ms: any other UI step (generous: CI machines may be busy)
DOCS_SCREENSHOT = Path(__file__).resolve().parents[3] / "docs" / "album.png"


def blurry_scene() -> bytes:
    from skimage import data

    return jpeg(np.asarray(Image.fromarray(data.rocket()).filter(ImageFilter.GaussianBlur(8))))


def sharp_scene() -> bytes:
    from skimage import data

    return jpeg(data.rocket())


def drop_files(page, selector: str, files: list[tuple[str, bytes]]) -> None:
    """Drag and drop ``files`` onto ``selector`` as a user would (a DataTransfer carrying File objects)."""
    payload = [{"name": name, "b64": base64.b64encode(data).decode()} for name, data in files]
    page.evaluate(
        """([selector, files]) => {
            const transfer = new DataTransfer();
            for (const f of files) {
                const bytes = Uint8Array.from(atob(f.b64), (c) => c.charCodeAt(0));
                transfer.items.add(new File([bytes], f.name, { type: "image/jpeg" }));
            }
            const target = document.querySelector(selector);
            for (const type of ["dragenter", "dragover", "drop"]) {
                target.dispatchEvent(new DragEvent(type, { bubbles: true, cancelable: true, dataTransfer: transfer }));
            }
        }""",
        [selector, payload],
    )


def merge_into(page, person, target_name: str) -> None:
    """Merge ``person`` (a person card) into the person named ``target_name``, picked by face in the merge picker."""
    person.get_by_test_id("merge-open").click()
    page.get_by_test_id("dialog").locator(f"[data-testid=merge-target][data-name='{target_name}']").click()


def page_end_above_toast(page) -> bool:
    """Scrolled to its end, the page's content ends above the shown toast: nothing stays hidden under it."""
    return page.evaluate("""() => {
        window.scrollTo(0, document.documentElement.scrollHeight);
        const content = document.querySelector("main:not([hidden])").getBoundingClientRect();
        return content.bottom <= document.getElementById("toast").getBoundingClientRect().top;
    }""")


def shown_files(page) -> set[str]:
    cards = page.locator("#photo-grid [data-testid=photo]")
    return set(cards.evaluate_all("cards => cards.map(c => c.dataset.filename)"))


def test_album_in_the_browser(browser, server: Server, screenshots: Path) -> None:
    from playwright.sync_api import expect

    expect.set_options(timeout=STEP)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.set_default_timeout(STEP)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(server.url + "/")
    expect(page.locator("#welcome")).to_be_visible()

    # Create an album.
    page.get_by_test_id("album-name").fill("Houston trip")
    page.get_by_test_id("create-album").click()
    expect(page.locator("#album")).to_be_visible()
    assert re.search(r"#album=[0-9a-f]+$", page.url)
    page.evaluate("window.__sameDocument = true")  # gone if the page ever reloads

    # A member with a selfie (file picker).
    add_member_in_ui(page, "Eileen", "eileen-selfie.jpg", shot("astronaut", 0))
    expect(page.get_by_test_id("member-message")).to_contain_text("Eileen added", timeout=LIVE)
    expect(page.get_by_test_id("member")).to_have_count(1)
    page.screenshot(path=screenshots / "1-member.png")

    # Filter on the member first, then drop the batch: her photos must appear as they are analysed, live.
    page.locator("#filters [data-filter=member]").click()
    batch = [("eileen-1.jpg", shot("astronaut", 1)), ("eileen-2.jpg", shot("astronaut", 2)),
             ("cameraman-1.jpg", shot("cameraman", 1)), ("cameraman-2.jpg", shot("cameraman", 2)),
             ("cameraman-3.jpg", shot("cameraman", 3)), ("both.jpg", group()), ("rocket.jpg", sharp_scene()),
             ("shaky.jpg", blurry_scene()), ("corrupt.jpg", os.urandom(4000))]
    drop_files(page, "#upload-zone", batch)
    expect(page.get_by_test_id("upload-item")).to_have_count(len(batch))
    corrupt = page.locator("[data-testid=upload-item][data-filename='corrupt.jpg']")
    expect(corrupt.get_by_test_id("upload-error")).to_contain_text("not a recognised image format", timeout=LIVE)
    expect(page.locator("#photo-grid [data-testid=photo]")).to_have_count(3, timeout=LIVE)
    assert shown_files(page) == {"eileen-1.jpg", "eileen-2.jpg", "both.jpg"}
    expect(page.locator("#photo-grid [data-testid=photo][data-status=done]")).to_have_count(3, timeout=LIVE)
    page.screenshot(path=screenshots / "2-member-photos.png")

    # The blurry filter, while the rest of the batch may still be in analysis.
    page.locator("#filters [data-filter=blurry]").click()
    expect(page.locator("#photo-grid [data-testid=photo]")).to_have_count(1, timeout=LIVE)
    assert shown_files(page) == {"shaky.jpg"}
    page.locator("#filters [data-filter=all]").click()
    expect(page.locator("#photo-grid [data-testid=photo][data-status=done]")).to_have_count(len(batch) - 1,
                                                                                          timeout=LIVE)
    expect(page.get_by_test_id("upload-item").filter(has_text="analysed")).to_have_count(len(batch) - 1,
                                                                                       timeout=LIVE)
    page.locator("#filters [data-filter=nofaces]").click()
    expect(page.locator("#photo-grid [data-testid=photo]")).to_have_count(2)
    assert shown_files(page) == {"rocket.jpg", "shaky.jpg"}
    page.locator("#filters [data-filter=all]").click()
    page.get_by_test_id("sort-select").select_option("uploaded")  # upload order: the order the files were dropped in
    assert page.locator("#photo-grid [data-testid=photo]").evaluate_all(
        "cs => cs.map(c => c.dataset.filename)") == [name for name, _ in batch if name != "corrupt.jpg"]
    page.get_by_test_id("sort-select").select_option("taken")
    page.screenshot(path=screenshots / "3-album.png")
    if os.environ.get("PHOTOSIFT_DOCS_SCREENSHOT"):  # refresh the README's screenshot from this real run
        shutil.copyfile(screenshots / "3-album.png", DOCS_SCREENSHOT)

    # Face boxes with names on a photo of both.
    page.locator("[data-testid=photo][data-filename='both.jpg']").click()
    boxes = page.locator("#viewer [data-testid=facebox]")
    expect(boxes).to_have_count(2)
    expect(boxes.filter(has_text="Eileen")).to_have_count(1)
    expect(boxes.filter(has_text=re.compile(r"^Person \d+$"))).to_have_count(1)
    page.screenshot(path=screenshots / "4-face-boxes.png")
    page.keyboard.press("Escape")

    # People: the cameraman was grouped into one person (his shots plus his face in the group photo).
    page.get_by_test_id("tab-people").click()
    people = page.locator("[data-testid=person]")
    expect(people).to_have_count(1, timeout=LIVE)
    expect(people.first).to_contain_text("4 photos")
    # Split one face off into a new person, then merge the two people (and undo, and merge again).
    people.first.get_by_role("button", name="Faces").click()
    expect(people.first.get_by_test_id("face")).to_have_count(4)
    people.first.get_by_test_id("move-select").first.select_option("new")
    expect(people).to_have_count(2)
    page.screenshot(path=screenshots / "5-people-split.png")
    expect(page.get_by_test_id("undo")).to_be_visible()
    assert page_end_above_toast(page)  # the toast with Undo stays: what lies under it can be scrolled above it
    smaller = page.locator("[data-testid=person][data-photos='1']")
    expect(smaller).to_have_count(1)
    target_name = page.locator("[data-testid=person][data-photos='3'] h3").inner_text()
    merge_into(page, smaller, target_name)
    expect(people).to_have_count(1)
    expect(people.first).to_contain_text("4 photos")
    expect(page.get_by_test_id("toast")).to_contain_text("Merged")
    page.get_by_test_id("undo").click()
    expect(people).to_have_count(2)
    expect(page.get_by_test_id("toast")).to_contain_text("Undone")
    merge_into(page, smaller, target_name)
    expect(people).to_have_count(1)
    expect(people.first).to_have_attribute("data-photos", "4")
    page.screenshot(path=screenshots / "6-people-merged.png")

    # Naming the person makes him a member; his photos then have a filter of their own.
    people.first.get_by_test_id("rename-input").fill("Cameraman")
    page.evaluate("renderPeople()")  # a live update re-draws the cards while someone types: the text stays
    expect(people.first.get_by_test_id("rename-input")).to_have_value("Cameraman")
    expect(people.first.get_by_test_id("rename-input")).to_be_focused()
    people.first.get_by_test_id("rename-save").click()
    expect(page.get_by_test_id("toast")).to_contain_text("is now Cameraman")  # not an error
    expect(people).to_have_count(0)
    expect(page.get_by_test_id("member")).to_have_count(2)
    page.get_by_test_id("member").filter(has_text="Cameraman").click()
    expect(page.locator("#photo-grid [data-testid=photo]")).to_have_count(4, timeout=LIVE)
    assert shown_files(page) == {"cameraman-1.jpg", "cameraman-2.jpg", "cameraman-3.jpg", "both.jpg"}
    page.locator("#filters [data-filter=all]").click()
    page.screenshot(path=screenshots / "7-named.png")

    assert page.evaluate("window.__sameDocument") is True  # everything above happened without a reload
    assert errors == []

    # A phone-sized screen: the same album, one column, nothing wider than the screen.
    phone = browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True,
                             has_touch=True)
    phone.goto(page.url)
    expect(phone.locator("#photo-grid [data-testid=photo]")).to_have_count(len(batch) - 1)
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    phone.screenshot(path=screenshots / "9-phone.png", full_page=True)
    phone.close()
    page.close()
