"""The shared headless browser (tests/browser.py) starts and renders a page."""

from __future__ import annotations


def test_the_shared_browser_renders_a_page(page):
    page.set_content("<p id=p style='font: 16px sans-serif'>kbquery</p>")
    assert page.inner_text("#p") == "kbquery"
    assert page.evaluate("window.devicePixelRatio") == 1
