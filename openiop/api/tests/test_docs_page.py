"""/api/v1/docs loads Swagger UI from this site only (issue 18 item 7): it used to load it from
a CDN that the site's own Content-Security-Policy blocks, so the page was blank."""

from __future__ import annotations

import re

import pytest
from django.contrib.staticfiles import finders

pytestmark = pytest.mark.django_db


def test_docs_page_references_only_same_origin_files_the_csp_allows(client):
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    html = response.content.decode()
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "style-src 'self'" in csp
    scripts = re.findall(r"<script[^>]*\ssrc=\"([^\"]+)\"", html)
    styles = re.findall(r"<link[^>]*\shref=\"([^\"]+)\"", html)
    assert scripts and styles
    for url in scripts + styles:
        assert url.startswith("/static/"), url  # same origin, no CDN
        assert finders.find(url.removeprefix("/static/")), url  # and actually served
    # No inline script the CSP would block (a JSON settings block is data, not script).
    for tag in re.findall(r"<script(?![^>]*\ssrc=)[^>]*>", html):
        assert 'type="application/json"' in tag, tag
    assert "cdn." not in html and "unpkg" not in html and "jsdelivr" not in html
