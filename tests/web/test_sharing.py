"""Accounts and sharing in the browser (token mode): the owner signs in on the sign-in page and
creates a viewer share link in the Share dialog; a fresh browser opens the link and gets the
read-only app with its "View only" banner; a raw update sent from that page is refused by the
server and never reaches the owner; revoking the link disconnects the viewer at once (the
connection banner says so)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.servers import ServerProcess
from tests.web.browser import PageLog, require_browser, wait_for, wait_ready

pytestmark = pytest.mark.browser

SECRET = "s" * 40
PASSWORD = "correct horse battery"

# A document update made in the page by a throwaway Y.Doc (the page's own Yjs, through the
# session's doc constructor) and sent raw on the viewer's socket: sync message 0, update 2.
RAW_UPDATE = """() => {
    const s = window.__nexus.session;
    const Doc = s.doc.constructor;
    const other = new Doc();
    let update = null;
    other.on("update", (u) => { update = u; });
    other.getMap("meta").set("name", "hacked by a viewer");
    const varuint = (n) => {
        const out = [];
        while (n > 127) { out.push((n & 127) | 128); n >>>= 7; }
        out.push(n);
        return out;
    };
    const frame = new Uint8Array([0, 2, ...varuint(update.length), ...update]);
    s.provider.ws.send(frame);
    return frame.length;
}"""


@pytest.fixture
def token_server(tmp_path: Path) -> Iterator[str]:
    require_browser()
    proc = ServerProcess(tmp_path / "data", NEXUS_ROOM_IDLE_SECONDS="5", NEXUS_AUTH_SECRET=SECRET)
    proc.start()
    try:
        yield f"http://127.0.0.1:{proc.port}"
    finally:
        proc.stop()


def _doc_name(base_url: str, token: str, doc_id: str) -> str:
    r = httpx.get(
        f"{base_url}/api/docs/{doc_id}", headers={"Authorization": f"Bearer {token}"}, timeout=10
    )
    assert r.status_code == 200, r.text
    name: str = r.json()["name"]
    return name


def test_viewer_link_read_only_refused_and_revoked(browser: Any, token_server: str) -> None:
    base = token_server
    assert httpx.get(f"{base}/health", timeout=10).json()["auth"] == "tokens"
    r = httpx.post(f"{base}/api/auth/register", json={"name": "olive", "password": PASSWORD})
    assert r.status_code == 200, r.text
    owner_token = r.json()["access_token"]
    r = httpx.post(
        f"{base}/api/docs",
        json={"id": "plan", "name": "Plan", "width": 64, "height": 64},
        headers={"Authorization": f"Bearer {owner_token}"},
    )
    assert r.status_code == 201, r.text

    # the owner: sent to the sign-in page, signs in, lands back on the document
    owner_log = PageLog()
    owner_ctx = browser.new_context(viewport={"width": 1280, "height": 860})
    owner = owner_ctx.new_page()
    owner_log.attach(owner)
    owner.goto(f"{base}/d/plan")
    owner.wait_for_url("**/signin?next=%2Fd%2Fplan")
    owner.get_by_label("Name").fill("olive")
    owner.get_by_label("Password").fill(PASSWORD)
    owner.get_by_role("button", name="Sign in").click()
    owner.wait_for_url("**/d/plan")
    wait_ready(owner)
    assert owner.evaluate("() => window.__nexus.session.access().role") == "owner"
    assert owner.get_by_test_id("account-badge").inner_text().startswith("olive")

    # a viewer link, from the Share dialog
    owner.get_by_role("button", name="Share").click()
    dialog = owner.get_by_role("dialog", name="Share")
    dialog.get_by_label("Link role").select_option("viewer")
    dialog.get_by_role("button", name="Create link").click()
    link = dialog.get_by_test_id("share-link-url").input_value()
    assert "/d/plan#share=" in link
    assert dialog.get_by_test_id("share-link-row").count() == 1

    # a fresh browser opens the link: the read-only app
    viewer_log = PageLog()
    viewer_ctx = browser.new_context(viewport={"width": 1280, "height": 860})
    viewer = viewer_ctx.new_page()
    viewer_log.attach(viewer)
    viewer.goto(link)
    wait_ready(viewer)
    assert "#share=" not in viewer.url  # the token left the address bar
    assert viewer.evaluate("() => window.__nexus.session.readOnly") is True
    banner = viewer.get_by_test_id("view-only-banner")
    banner.wait_for()
    assert "View only" in (banner.text_content() or "")
    assert viewer.get_by_role("button", name="Brush (B) — view only").is_disabled()
    assert viewer.evaluate("() => window.__nexus.store.getState().tool") == "pan"
    assert viewer.get_by_role("button", name="Share").count() == 0
    # presence still flows: the owner sees the viewer
    wait_for(owner, "() => window.__nexus.session.presence.peers().length >= 1")

    # a raw update from the viewer's page: refused by the server, never fanned out
    viewer.evaluate(RAW_UPDATE)
    wait_for(viewer, "() => (window.__nexus.session.permissionDenied || '').includes('read-only')")
    assert _doc_name(base, owner_token, "plan") == "Plan"
    assert owner.evaluate("() => window.__nexus.session.canvas.readMeta().name") == "Plan"

    viewer.screenshot(path="/tmp/sharing-viewer.png")
    owner.screenshot(path="/tmp/sharing-owner.png")

    # revoke: the viewer is disconnected within a second, and the page says so
    revoke = dialog.get_by_role("button", name="Revoke viewer link")
    started = time.monotonic()
    revoke.click()
    wait_for(
        viewer,
        """() => { const b = document.querySelector('[data-testid="connection-banner"]');
                   return b && /revoked/.test(b.textContent); }""",
        timeout=1_000,
    )
    wait_for(
        viewer,
        """() => document.querySelector('[data-testid="connection-indicator"]')
                   .dataset.phase === 'closed'""",
        timeout=3_000,
    )
    assert time.monotonic() - started < 3.5
    assert viewer.evaluate("() => window.__nexus.session.connection().retrying") is False
    dialog.get_by_text("Revoked").wait_for()
    viewer.screenshot(path="/tmp/sharing-revoked.png")

    owner_log.assert_clean()
    # the refused upgrade after the revocation is the browser's own network error line
    viewer_log.assert_clean(allow=("WebSocket connection to",))
    viewer_ctx.close()
    owner_ctx.close()
