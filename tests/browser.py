"""A real headless Chromium for the gallery's tests: Debian's /usr/bin/chromium driven by
Playwright's Python API (never Playwright's own browser download).

Use in a test module: `from browser import browser, gallery_page  # noqa: F401` (pytest
finds fixtures by name in the module). `gallery_page(name)` opens a fresh page that
records console errors, uncaught exceptions and failed requests; `shot(page, what)` saves a
screenshot under tests/artifacts/<test name>/ (or $EXODUS_ARTIFACTS/<test name>/).
A missing browser skips the test with the reason, except in CI (CI=true), where it fails.
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("EXODUS_CHROMIUM", "/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS = Path(os.environ.get("EXODUS_ARTIFACTS", Path(__file__).resolve().parent / "artifacts"))


def _missing() -> str | None:
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        return f"no Chromium at {CHROMIUM} (make tools installs Debian's chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright's Python package is not installed (pip install -e '.[test]')"
    return None


def _require() -> None:
    reason = _missing()
    if reason is None:
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"browser tests need a browser in CI: {reason}", pytrace=False)
    pytest.skip(reason)


@dataclass
class Watched:
    """One page and what went wrong on it."""
    page: object
    errors: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    def problems(self) -> list[str]:
        return [f"console: {e}" for e in self.errors] + [f"request failed: {f}" for f in self.failed]


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    """Chromium, started once per module, with a fresh user-data-dir."""
    _require()
    from playwright.sync_api import sync_playwright

    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_playwright() as driver:
        context = driver.chromium.launch_persistent_context(
            str(profile), executable_path=CHROMIUM, headless=True, args=FLAGS,
            viewport={"width": 1280, "height": 900})
        try:
            yield context
        finally:
            context.close()


@pytest.fixture
def gallery_page(browser):
    """gallery_page() -> Watched: a new tab whose console errors and failed requests are kept."""
    opened: list[Watched] = []

    def open_page() -> Watched:
        page = browser.new_page()
        watched = Watched(page)
        page.on("console", lambda msg: msg.type == "error" and watched.errors.append(msg.text))
        page.on("pageerror", lambda exc: watched.errors.append(str(exc)))
        page.on("requestfailed", lambda req: watched.failed.append(f"{req.url} {req.failure}"))
        page.on("response", lambda res: res.status >= 400 and watched.failed.append(f"{res.url} {res.status}"))
        opened.append(watched)
        return watched

    yield open_page
    for watched in opened:
        watched.page.close()


def artifacts(request) -> Path:
    """tests/artifacts/<test name>/, emptied for this run."""
    folder = ARTIFACTS / re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder


def shot(page, folder: Path, what: str) -> Path:
    target = folder / f"{what}.png"
    page.screenshot(path=str(target), full_page=True)
    return target
