"""The reviewer page of kbquery serve in a real browser: uvicorn on a free loopback port in a
thread, Debian's chromium driven by Playwright (tests/browser.py), a screenshot of each state
kept under tests/artifacts/ and compared with the reviewed one in tests/golden/screenshots/."""

from __future__ import annotations

import copy
import json
import socket
import threading
import time

import pytest

from browser import VIEWPORT, compare_screenshot
from conftest import ROOT
from kbquery import decide

EXAMPLE = json.loads((ROOT / "examples" / "initial-diagnostic.json").read_text())
SHORT = json.loads((ROOT / "examples" / "therapy-too-short.json").read_text())
DOCS_SCREENSHOT = ROOT / "docs" / "reviewer-page.png"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server():
    """uvicorn serving the app on 127.0.0.1 in a thread; its base URL. Stopped after the module."""
    import uvicorn

    from kbquery.service import create_app

    port = free_port()
    config = uvicorn.Config(create_app(), host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    instance = uvicorn.Server(config)
    thread = threading.Thread(target=instance.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not instance.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start within 30 s"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    instance.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def reviewer(browser, server):
    """A page on the reviewer, 1280 x 900 at scale 1, allowed to reach this server and nothing else."""
    context = browser.new_context(viewport=VIEWPORT, device_scale_factor=1)
    context.route("http*://**", lambda route: route.continue_() if route.request.url.startswith(server + "/")
                  else route.abort())
    page = context.new_page()
    page.set_default_timeout(20_000)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(server + "/")
    page.wait_for_selector("body[data-loaded=yes]")
    yield page
    context.close()
    assert not errors, errors


def enter(page, case: dict) -> None:
    """Paste a case and decide it; wait until the page shows the determination and its graph."""
    page.fill("#case", json.dumps(case, indent=2))
    page.evaluate("document.body.dataset.state = 'deciding'")
    page.click("#decide")
    page.wait_for_selector("body[data-state=decided]")


def shot(page, name: str, update: bool, mask=()) -> bytes:
    png = page.screenshot(full_page=True, mask=[page.locator(m) for m in mask])
    compare_screenshot(png, name, update)
    return png


def test_a_pasted_case_shows_determination_criteria_and_graph(reviewer, update_golden):
    page = reviewer
    shot(page, "reviewer-new", update_golden, mask=["#case"])  # a new case is dated today
    enter(page, EXAMPLE)
    expected = decide(EXAMPLE)
    assert page.inner_text("#banner .outcome") == expected.determination.replace("_", " ").upper()
    rows = page.locator("#criteria tbody tr")
    assert rows.count() == len(expected.criteria)
    for i, c in enumerate(expected.criteria):
        assert rows.nth(i).locator("td").nth(0).inner_text() == c.id
        assert rows.nth(i).locator("td").nth(2).inner_text() == c.text  # the policy's words
    assert page.evaluate("document.getElementById('graph').naturalWidth") > 200
    assert page.is_hidden("#missing-box")
    shot(page, "reviewer-decided", update_golden)
    # The whole explanation page (kbquery's own HTML) opens beside it, its script running.
    errors: list[str] = []

    def watch(new_page):  # from its first moment: a script refused (say, by the CSP) is a console error
        new_page.on("pageerror", lambda e: errors.append(str(e)))
        new_page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

    page.context.on("page", watch)
    with page.context.expect_page() as opened:
        page.click("#page-link")
    explanation = opened.value
    explanation.wait_for_load_state()
    explanation.wait_for_function("document.querySelector('.tree .first')", timeout=5000)  # its script ran
    assert explanation.url.startswith("blob:")
    assert expected.determination.replace("_", " ").upper() in explanation.inner_text("body").upper()
    assert not errors, errors
    explanation.close()


def test_missing_fields_are_a_form_and_filling_them_decides_again(reviewer, update_golden):
    page = reviewer
    case = copy.deepcopy(EXAMPLE)
    case["case_id"] = "reviewer-missing"
    del case["pain"]["radiculopathy"], case["conservative_therapy"]
    expected = decide(case)
    assert expected.determination == "more_information_needed"
    enter(page, case)
    assert page.inner_text("#banner .outcome") == "MORE INFORMATION NEEDED"
    fields = page.locator("#missing [name]")
    missing = sorted({p for paths in expected.missing.values() for p in paths})
    assert sorted(fields.nth(i).get_attribute("name") for i in range(fields.count())) == missing
    png = shot(page, "reviewer-missing", update_golden)
    if update_golden:  # the README's picture is the reviewed screenshot of this state
        DOCS_SCREENSHOT.write_bytes(png)
    assert DOCS_SCREENSHOT.read_bytes() == (ROOT / "tests" / "golden" / "screenshots" / "reviewer-missing.png").read_bytes()

    # Fill the fields one by one, as a reviewer would: each change decides the case again.
    page.evaluate("document.body.dataset.state = 'deciding'")
    page.select_option("#missing select[name='pain.radiculopathy']", "false")
    page.wait_for_selector("body[data-state=decided]")
    assert "pain.radiculopathy" not in page.input_value("#case") or json.loads(page.input_value("#case"))["pain"]["radiculopathy"] is False
    filled = {"conservative_therapy.start_date": "2025-11-01", "conservative_therapy.end_date": "2026-01-15"}
    for name, value in filled.items():
        if page.locator(f"#missing [name='{name}']").count():
            page.evaluate("document.body.dataset.state = 'deciding'")
            page.fill(f"#missing [name='{name}']", value)
            page.dispatch_event(f"#missing [name='{name}']", "change")
            page.wait_for_selector("body[data-state=decided]")
    now = json.loads(page.input_value("#case"))
    assert page.inner_text("#banner .outcome") == decide(now).determination.replace("_", " ").upper()
    shot(page, "reviewer-filled", update_golden)


def test_what_would_change_it_is_offered_and_tried(reviewer, update_golden):
    page = reviewer
    enter(page, SHORT)
    assert page.inner_text("#banner .outcome") == "NOT MEDICALLY NECESSARY"
    assert "conservative_therapy.start_date" in page.inner_text("#change")
    shot(page, "reviewer-not-met", update_golden)
    page.evaluate("document.body.dataset.state = 'deciding'")
    page.click("#change li button")
    page.wait_for_selector("body[data-state=decided]")
    assert page.inner_text("#banner .outcome") == "MEDICALLY NECESSARY"


def test_an_invalid_case_is_refused_by_path(reviewer, update_golden):
    page = reviewer
    page.fill("#case", json.dumps(EXAMPLE).replace('"radiculopathy"', '"radiculopaty"'))
    page.click("#decide")
    page.wait_for_selector("body[data-state=invalid]")
    assert page.inner_text("#errors").startswith("pain.radiculopaty: unknown key 'radiculopaty'")
    shot(page, "reviewer-invalid", update_golden)


def test_an_uploaded_file_is_decided(reviewer):
    page = reviewer
    page.set_input_files("#upload", str(ROOT / "examples" / "lcd-therapeutic.json"))
    page.wait_for_selector("body[data-state=decided]")
    expected = decide(json.loads((ROOT / "examples" / "lcd-therapeutic.json").read_text()))
    assert page.inner_text("#banner .outcome") == expected.determination.replace("_", " ").upper()
    assert expected.policy["id"] in page.inner_text("#banner .sub")


def test_a_new_case_is_filled_in_from_the_request_on(reviewer, update_golden):
    """New case: the request's code and date, then the fields the determination says are missing."""
    page = reviewer
    page.click("#new")
    page.fill("#code", EXAMPLE["request"]["code"])
    page.dispatch_event("#code", "change")
    page.evaluate("document.body.dataset.state = 'deciding'")
    page.fill("#date", EXAMPLE["request"]["date"])
    page.dispatch_event("#date", "change")
    page.wait_for_selector("body[data-state=decided]")
    case = json.loads(page.input_value("#case"))
    assert case["request"] == {"date": EXAMPLE["request"]["date"], "code": EXAMPLE["request"]["code"]}
    expected = decide(case)
    assert page.inner_text("#banner .outcome") == expected.determination.replace("_", " ").upper()
    missing = sorted({p for paths in expected.missing.values() for p in paths})
    fields = page.locator("#missing [name]")
    assert fields.count() == len(missing) > 3
    shot(page, "reviewer-from-scratch", update_golden)
    first = next(p for p in missing if page.locator(f"#missing select[name='{p}']").count())
    option = page.locator(f"#missing select[name='{first}'] option").nth(1).get_attribute("value")
    page.evaluate("document.body.dataset.state = 'deciding'")
    page.select_option(f"#missing select[name='{first}']", option)
    page.wait_for_selector("body[data-state=decided]")
    now = json.loads(page.input_value("#case"))
    value = now
    for key in first.split("."):
        value = value[key]
    assert value == json.loads(option)
    assert page.locator(f"#missing [name='{first}']").count() == 0  # no longer missing


def test_the_api_documentation_reads_with_nothing_but_the_service(browser, server):
    """Swagger UI loads its script from the service itself: a browser that may reach nothing else
    still shows every operation (a CDN request would be refused, and logged)."""
    from browser import ARTIFACTS

    context = browser.new_context(viewport=VIEWPORT, device_scale_factor=1)
    elsewhere: list[str] = []

    def only_the_server(request_route):
        if request_route.request.url.startswith(server + "/"):
            return request_route.continue_()
        elsewhere.append(request_route.request.url)
        return request_route.abort()

    context.route("**/*", only_the_server)
    page = context.new_page()
    page.set_default_timeout(20_000)
    page.goto(server + "/docs")
    page.wait_for_selector(".opblock-summary-path[data-path='/v1/decide']")
    paths = set(page.eval_on_selector_all(".opblock-summary-path", "nodes => nodes.map(n => n.dataset.path)"))
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "service-docs.png"))
    context.close()
    assert not elsewhere, elsewhere
    assert {"/v1/decide", "/v1/explain", "/v1/policies", "/v1/policies/{policy}/schema", "/healthz"} <= paths
