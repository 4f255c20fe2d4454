"""A real headless browser for tests that look at a page as a person does.

Playwright drives Debian's chromium (/usr/bin/chromium, or the executable named by
KBQUERY_CHROMIUM): Playwright cannot download its own browser here, and .ci/run installs
chromium with apt when it is absent. A missing browser fails the test that asks for it, with
the command that installs it; nothing is skipped.

    def test_page(page):             # a fresh page, 1280 x 900 CSS pixels at scale 1
        page.goto(url)
        compare_screenshot(page.screenshot(full_page=True), "name")

Screenshots of every run are kept under tests/artifacts/ (not in git); the reviewed ones
are in tests/golden/screenshots/. `pytest --update-golden` writes the reviewed ones anew:
look at every one before committing it.
"""

from __future__ import annotations

import io
import os
import shutil
from pathlib import Path

import pytest

HERE = Path(__file__).parent
ARTIFACTS = HERE / "artifacts"
SCREENSHOTS = HERE / "golden" / "screenshots"
CHROMIUM = os.environ.get("KBQUERY_CHROMIUM", "/usr/bin/chromium")
VIEWPORT = {"width": 1280, "height": 900}

# A pixel counts as different when a channel differs by more than PIXEL_TOLERANCE (0-255);
# a screenshot matches when at most DIFFERENT_SHARE of its pixels differ (anti-aliasing, a
# font hinting change) and its size is the same.
PIXEL_TOLERANCE = 40
DIFFERENT_SHARE = 0.01


def chromium_path() -> str:
    """The chromium to launch, or a failure saying how to install it."""
    path = shutil.which(CHROMIUM) or (CHROMIUM if os.access(CHROMIUM, os.X_OK) else None)
    if not path:
        pytest.fail(f"no chromium at {CHROMIUM}: the browser tests need it "
                    "(apt-get update -qq && apt-get install -y -qq chromium, as .ci/run does; "
                    "or set KBQUERY_CHROMIUM to another chromium)", pytrace=False)
    return path


@pytest.fixture(scope="session")
def browser():
    """One headless chromium for the whole session."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("the browser tests need Playwright: pip install -e '.[dev]'", pytrace=False)
    executable = chromium_path()
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=executable, args=["--font-render-hinting=none"])
        yield b
        b.close()


@pytest.fixture
def page(browser):
    """A fresh page: 1280 x 900 CSS pixels, device scale 1, no network beyond file: URLs."""
    context = browser.new_context(viewport=VIEWPORT, device_scale_factor=1, java_script_enabled=True)
    context.route("http*://**", lambda route: route.abort())  # a self-contained page needs none
    p = context.new_page()
    yield p
    context.close()


def save_artifact(png: bytes, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    path.write_bytes(png)
    return path


def compare_screenshot(png: bytes, name: str, update: bool = False) -> None:
    """Save the screenshot as an artefact and compare it with the reviewed one, within the tolerance.
    (Mask what changes by itself, such as a digest, when taking it: page.screenshot(mask=[...]).)"""
    import numpy as np
    from PIL import Image

    saved = save_artifact(png, name)
    golden = SCREENSHOTS / f"{name}.png"
    if update or not golden.exists():
        if not update:
            pytest.fail(f"no reviewed screenshot {golden}: look at {saved}, then run pytest --update-golden",
                        pytrace=False)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        golden.write_bytes(png)
        return
    now = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=np.int16)
    then = np.asarray(Image.open(golden).convert("RGB"), dtype=np.int16)
    assert now.shape == then.shape, (
        f"{name}: screenshot is {now.shape[1]}x{now.shape[0]}, the reviewed one {then.shape[1]}x{then.shape[0]}; "
        f"see {saved}")
    differs = (np.abs(now - then).max(axis=2) > PIXEL_TOLERANCE)
    share = differs.mean()
    if share > DIFFERENT_SHARE:
        diff = np.where(differs[..., None], np.array([255, 0, 0], dtype=np.uint8), (now // 3 + 170).astype(np.uint8))
        Image.fromarray(diff.astype(np.uint8)).save(ARTIFACTS / f"{name}.diff.png")
        pytest.fail(f"{name}: {share:.2%} of pixels differ from {golden} (at most {DIFFERENT_SHARE:.0%}); "
                    f"see {saved} and {ARTIFACTS / (name + '.diff.png')}", pytrace=False)
