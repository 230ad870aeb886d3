"""The API's Swagger page renders its operations under the site's strict CSP (issue 18 item 7:
it was blank, its scripts were on a CDN the CSP blocks)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_api_docs_render_operations_from_this_site(page, live_server):
    origin = live_server.url
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(f"{origin}/api/v1/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("OpenIOP API")
    operations = page.locator(".opblock")
    expect(operations.first).to_be_visible()
    assert operations.count() > 10
    expect(page.locator(".opblock-summary-path").first).to_contain_text("/api/v1/")
    assert [url for url in requested if not url.startswith(origin)] == []
    blocked = [e for e in page.console_errors if "Content Security Policy" in e]
    assert blocked == []
