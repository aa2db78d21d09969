"""The readable API docs at /api-docs: Swagger UI from the app's build renders the server's own
/openapi.json, with everything it loads coming from this server."""

from __future__ import annotations

from typing import Any

import pytest

from collab.api.openapi import DOCS_PAGE
from tests.web.browser import PageLog

pytestmark = pytest.mark.browser


def test_the_docs_page_lists_the_operations(browser: Any, web_server: str) -> None:
    log = PageLog()
    context = browser.new_context()
    page = context.new_page()
    log.attach(page)
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    response = page.goto(f"{web_server}{DOCS_PAGE}")
    assert response is not None and response.status == 200
    # An operation of the description, rendered (its tag section is open: docExpansion list).
    login = page.locator('#swagger-ui .opblock-summary-path[data-path="/api/auth/login"]')
    login.wait_for()
    assert page.locator("#swagger-ui .opblock").count() > 30
    assert page.locator("#swagger-ui .info .title").inner_text().startswith("Nexus Canvas")
    assert f"{web_server}/openapi.json" in requested
    elsewhere = [url for url in requested if not url.startswith((web_server, "data:"))]
    assert not elsewhere, f"the docs page loaded from elsewhere: {elsewhere}"
    page.screenshot(path="/tmp/api-docs.png")
    context.close()
    log.assert_clean()
