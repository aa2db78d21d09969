"""The documents list at /: create (name, size, background), open, rename, delete."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.web.browser import PageLog, wait_ready

pytestmark = pytest.mark.browser


def test_create_open_rename_delete_from_the_home_page(browser: Any, web_server: str) -> None:
    log = PageLog()
    context = browser.new_context()
    page = context.new_page()
    log.attach(page)
    page.goto(f"{web_server}/?user=carol&name=Carol")
    assert page.get_by_role("link", name="API docs").get_attribute("href") == "/api-docs"
    page.get_by_role("button", name="New canvas").first.click()
    page.get_by_label("Name").fill("Harbour sketch")
    page.get_by_label("Width").fill("320")
    page.get_by_label("Height").fill("200")
    page.get_by_role("button", name="Create").click()
    page.wait_for_url("**/d/**")
    wait_ready(page)
    doc_id = page.url.rsplit("/d/", 1)[1].split("?")[0]
    meta = httpx.get(f"{web_server}/api/docs/{doc_id}").json()
    assert (meta["name"], meta["width"], meta["height"]) == ("Harbour sketch", 320, 200)
    page.goto(f"{web_server}/?user=carol&name=Carol")
    card = page.get_by_test_id("doc-card").filter(has_text="Harbour sketch")
    card.wait_for()
    # The thumbnail is the server's render of the canvas, loaded (not a broken image).
    page.wait_for_function(
        "(el) => el.complete && el.naturalWidth > 0", arg=card.locator("img").element_handle()
    )
    card.get_by_label("Rename 'Harbour sketch'").click()
    field = page.get_by_label("Document name")
    field.fill("Harbour at dusk")
    field.press("Enter")
    page.get_by_text("Harbour at dusk").first.wait_for()
    listed = httpx.get(f"{web_server}/api/docs").json()["documents"]
    assert [d["name"] for d in listed if d["id"] == doc_id] == ["Harbour at dusk"]
    card = page.get_by_test_id("doc-card").filter(has_text="Harbour at dusk")
    card.get_by_label("Delete 'Harbour at dusk'").click()
    page.get_by_role("button", name="Delete", exact=True).last.click()
    card.wait_for(state="detached")
    assert httpx.get(f"{web_server}/api/docs/{doc_id}").status_code == 404
    context.close()
    log.assert_clean()
