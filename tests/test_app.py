"""The classroom app in a real headless browser, with the outside world blocked.

Debian's chromium, driven by Playwright through ``executable_path``. Every
request that leaves 127.0.0.1 is blocked and logged; the page must not need
any. Screenshots are saved in ``test-artifacts/``. Without chromium the browser
tests are skipped, except under CI (``CI=true``), where they fail.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from trustsim.simulate import warm_up

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
LOCAL = ("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:")


def offline(page: Any, blocked: list[str]) -> Any:
    """``page`` with every request that leaves 127.0.0.1 blocked and listed in ``blocked``."""

    def route(request_route: Any) -> None:
        if request_route.request.url.startswith(LOCAL):
            request_route.continue_()
        else:
            blocked.append(request_route.request.url)
            request_route.abort()

    page.route("**/*", route)
    return page


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def need_chromium() -> None:
    """Skip without chromium, except under CI (``CI=true``), where that fails."""
    if CHROMIUM is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed; .ci/run installs Debian's chromium")
        pytest.skip("chromium not installed (apt-get install chromium)")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    need_chromium()
    warm_up()  # compile here, without the start-up deadline; the server loads the cache
    port = free_port()
    log = tmp_path_factory.mktemp("app") / "server.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "trustsim.cli", "app", "--port", str(port)],
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            time.sleep(0.3)
    else:
        proc.kill()
        pytest.fail(f"the app did not start: {log.read_text()[-2000:]}")
    yield f"http://127.0.0.1:{port}/", log
    proc.terminate()
    proc.wait(timeout=20)


@pytest.mark.slow
def test_classroom_page_in_a_real_browser(server: tuple[str, Path]) -> None:
    from playwright.sync_api import sync_playwright

    url, log = server
    ARTIFACTS.mkdir(exist_ok=True)
    blocked: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        page = offline(browser.new_page(viewport={"width": 1500, "height": 1000}), blocked)
        page.goto(url, wait_until="networkidle")
        page.wait_for_selector("#trust-network", timeout=30_000)
        page.wait_for_selector("#trust-plots")

        # the network and the plots render (images decoded by the browser)
        for image in ("#trust-network", "#trust-plots"):
            width = page.eval_on_selector(image, "el => el.naturalWidth")
            assert width > 300, image
        page.screenshot(path=ARTIFACTS / "app-start.png", full_page=True)

        # projector-ready: no stray tab, no empty parameter card, one week counter
        assert page.get_by_text("Page 0", exact=False).count() == 0
        assert page.get_by_text("Model Parameters").count() == 0
        assert page.get_by_text("Week 0", exact=True).count() == 1
        # the shock buttons are on screen without scrolling
        for firm in ("short_term", "trust_first"):
            box = page.get_by_role("button", name=f"Data breach: {firm}").bounding_box()
            assert box is not None and box["y"] + box["height"] <= 1000, firm

        # a step advances the week, and no click is lost: 12 quick clicks, 12 more weeks
        step = page.get_by_role("button", name="Step")
        step.click()
        page.get_by_text("Week 1", exact=True).wait_for(timeout=10_000)
        for _ in range(12):
            step.click(delay=0, no_wait_after=True)
        page.get_by_text("Week 13", exact=True).wait_for(timeout=30_000)

        # moving a slider changes the model parameter (the label reads it back from the model)
        label = page.get_by_text("weight of neighbours' share (social proof): 1", exact=True)
        assert label.count() == 1
        slider = label.locator("xpath=following::div[contains(@class,'v-slider')][1]")
        slider.locator(".v-slider__thumb-container").focus()
        for _ in range(5):
            page.keyboard.press("ArrowRight")
        page.get_by_text("weight of neighbours' share (social proof): 1.5", exact=True).wait_for(
            timeout=10_000
        )

        # a shock changes what the plots show: the rating of that firm drops
        rating = page.locator("span.rating[data-firm='short_term']")
        before, plots_before = float(rating.inner_text()), page.get_attribute("#trust-plots", "src")
        page.get_by_role("button", name="Viral bad review: short_term").click()
        page.wait_for_function(
            "old => document.querySelector(\"span.rating[data-firm='short_term']\")"
            ".innerText != old",
            arg=rating.inner_text(),
            timeout=10_000,
        )
        assert float(rating.inner_text()) < before - 0.3
        assert page.get_attribute("#trust-plots", "src") != plots_before

        # clicking a node shows that customer's beliefs (try points until one hits a node)
        network = page.locator("#trust-network")
        for x in range(120, 360, 12):
            network.click(position={"x": x, "y": 234})
            if page.locator(".inspected").count():
                break
        page.locator(".inspected").wait_for(timeout=10_000)
        assert page.locator("table.inspector tr").count() == 3  # header and two firms
        page.screenshot(path=ARTIFACTS / "app-after-shock.png", full_page=True)
        browser.close()

    assert blocked == [], f"the page asked for outside resources: {blocked}"
    assert "Could not load URL" not in log.read_text()  # nor did the server, for the page


def test_app_refuses_other_hosts_unless_asked() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "trustsim.cli", "app", "--host", "0.0.0.0"],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
        timeout=60,
    )
    assert result.returncode == 2
    assert "--allow-remote" in result.stderr and "Traceback" not in result.stderr


def test_app_rejects_a_bad_config(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("network:\n  kind: moebius\n")
    result = subprocess.run(
        [sys.executable, "-m", "trustsim.cli", "app", "--config", str(bad)],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
        timeout=60,
    )
    assert result.returncode == 2 and "network.kind" in result.stderr
