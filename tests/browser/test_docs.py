"""/docs and /redoc in headless Chromium with no internet: they draw the API, every request
goes to the test server, and the page's Content-Security-Policy is not violated."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.test_viewer import _assert_only_test_server, browser, page, served  # noqa: F401

pytestmark = pytest.mark.browser


def test_swagger_ui_loads_from_this_server_only(page: Any, served: Any, artifacts_dir) -> None:  # noqa: F811
    response = page.goto(served.url + "/docs")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    page.wait_for_selector(".swagger-ui .opblock-tag", timeout=20_000)
    assert page.locator(".opblock").count() > 10  # the operations are listed
    page.screenshot(path=str(artifacts_dir / "docs.png"))
    assert page.locator('[data-path="/api/v1/observations/batch"]').count() >= 1
    assert page.errors == []
    _assert_only_test_server(page, served)


def test_redoc_loads_from_this_server_only(page: Any, served: Any, artifacts_dir) -> None:  # noqa: F811
    page.goto(served.url + "/redoc")
    page.wait_for_selector("h1", timeout=20_000)
    page.wait_for_selector("text=Upload Batch", state="attached", timeout=20_000)
    page.screenshot(path=str(artifacts_dir / "redoc.png"))
    assert "Something went wrong" not in page.inner_text("body")
    # ReDoc's sidebar credit loads a logo from cdn.redoc.ly: the policy blocks it, and that
    # is the one violation allowed (blocked means no request left the browser).
    logo = "https://cdn.redoc.ly/redoc/logo-mini.svg"
    assert [e for e in page.errors if logo not in e] == []
    page.requests[:] = [u for u in page.requests if u != logo or not page.errors]
    _assert_only_test_server(page, served)
