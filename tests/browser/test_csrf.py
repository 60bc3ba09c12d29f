"""Cross-site request forgery in Chromium: a page on another port of the same host (same
site, so the SameSite=Lax session cookie travels with its requests) tries to upload as
the signed-in user. Nothing is stored; the same upload from Herdwatch's own page works."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tests.browser.test_viewer import browser, page, served  # noqa: F401
from tests.factories import make_feature

pytestmark = pytest.mark.browser

_ATTACK = """<!doctype html><html><body><h1>Free reindeer pictures</h1>
<form id="f" method="post" action="{target}/api/v1/observations/batch" enctype="text/plain">
<input name='{{"type":"FeatureCollection","features":[{feature}],"x":"' value='"}}'>
</form>
<script>
async function attack() {{
  const results = {{}};
  for (const type of ["text/plain", "application/json"]) {{
    try {{
      const r = await fetch("{target}/api/v1/observations/batch", {{
        method: "POST", credentials: "include", mode: "no-cors",
        headers: {{"Content-Type": type}}, body: JSON.stringify({body})}});
      results[type] = r.type;
    }} catch (e) {{ results[type] = "blocked: " + e; }}
  }}
  return results;
}}
</script></body></html>"""


@pytest.fixture
def attacker(served: Any) -> Iterator[tuple[str, str]]:  # noqa: F811
    """A page on another port of 127.0.0.1; yields (its URL, the feature id it tries)."""
    feature = make_feature(9000) | {"id": str(uuid.uuid4())}
    import json

    html = _ATTACK.format(
        target=served.url,
        feature=json.dumps(feature).replace("'", "&#39;"),
        body=json.dumps({"type": "FeatureCollection", "features": [feature]}),
    ).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(html)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/", feature["id"]
    server.shutdown()


def _stored(page: Any, served: Any, feature_id: str) -> int:  # noqa: F811
    """The status of a GET of the feature, asked from Herdwatch's own page."""
    status: int = page.evaluate(
        "async url => (await fetch(url, {credentials: 'include'})).status",
        f"{served.url}/api/v1/observations/{feature_id}",
    )
    return status


def test_a_page_on_another_port_cannot_upload_with_the_cookie(
    page: Any,  # noqa: F811
    served: Any,  # noqa: F811
    attacker: tuple[str, str],
) -> None:
    context = page.context
    # The admin signs in (the session the attack would ride on).
    page.goto(served.url + "/login")
    page.fill("#token", served.admin_token)
    page.click("#sign-in")
    page.wait_for_selector("path.hw-cell")
    cookies = [c for c in context.cookies() if c["name"] == "herdwatch_session"]
    assert cookies and cookies[0]["sameSite"] == "Lax"

    url, feature_id = attacker
    evil = context.new_page()
    answers: list[tuple[str, int]] = []
    evil.on("response", lambda r: answers.append((r.url, r.status)))
    evil.goto(url)
    results = evil.evaluate("attack()")
    with evil.expect_navigation():
        evil.evaluate("document.getElementById('f').submit()")
    uploads = [status for u, status in answers if u.endswith("/api/v1/observations/batch")]
    print(f"fetch results {results}; upload answers {uploads}")
    assert uploads and all(status == 403 for status in uploads), answers
    assert _stored(page, served, feature_id) == 404  # nothing was created

    # The same upload from Herdwatch's own page, with the cookie and JSON, is accepted.
    own = make_feature(9001) | {"id": str(uuid.uuid4())}
    status = page.evaluate(
        """async ([url, body]) => (await fetch(url, {method: "POST", credentials: "include",
            headers: {"Content-Type": "application/geo+json"}, body})).status""",
        [f"{served.url}/api/v1/observations/batch", _collection(own)],
    )
    assert status == 200
    assert _stored(page, served, own["id"]) == 200


def _collection(feature: dict[str, Any]) -> str:
    import json

    return json.dumps({"type": "FeatureCollection", "features": [feature]})
