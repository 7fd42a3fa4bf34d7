"""Open a static page (file:// URL) in the Debian Chromium, as the web UI test does (test support).

Records console errors, page errors, failed requests and every request the page makes, so a test
can assert that a page works offline. Also runnable: `python -m stuut_pipeline_tests.e2e.static_page
<file.html> <out.png>` to screenshot a page.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@dataclass
class PageVisit:
    """What the browser saw while loading a page."""

    url: str
    requests: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    #: per `<section>` (its id): the number of `<svg>` in it, and the rendered size of the first
    sections: dict[str, dict] = field(default_factory=dict)
    text: str = ""


def visit(path: Path, screenshot: Path | None = None) -> PageVisit:
    """Load `path` in headless Chromium, wait for the load event, collect what happened."""
    from playwright.sync_api import sync_playwright

    url = Path(path).resolve().as_uri()
    seen = PageVisit(url)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            page.on("request", lambda r: seen.requests.append(r.url))
            page.on("requestfailed", lambda r: seen.failed_requests.append(r.url))
            page.on("pageerror", lambda e: seen.page_errors.append(str(e)))
            page.on(
                "console",
                lambda m: seen.console_errors.append(m.text) if m.type == "error" else None,
            )
            page.goto(url, wait_until="load")
            seen.sections = page.evaluate(
                """() => Object.fromEntries([...document.querySelectorAll('section')].map(s => {
                    const svg = s.querySelector('svg');
                    const box = svg ? svg.getBoundingClientRect() : null;
                    return [s.id, {svgs: s.querySelectorAll('svg').length,
                                   heading: (s.querySelector('h2') || {}).textContent || null,
                                   width: box ? box.width : 0, height: box ? box.height : 0}];
                }))"""
            )
            seen.text = page.inner_text("body")
            if screenshot is not None:
                screenshot.parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(screenshot), full_page=True)
        finally:
            browser.close()
    return seen


if __name__ == "__main__":
    result = visit(Path(sys.argv[1]), Path(sys.argv[2]))
    print(result.sections, result.console_errors, result.page_errors, result.requests)
