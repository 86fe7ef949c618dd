"""A real Chromium, driven by Playwright, against the archive served by waitress on a free port."""
from __future__ import annotations

import shutil
import threading
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright
from waitress import create_server

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture
def live_server(app):
    server = create_server(app, host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.effective_port}"
    server.close()
    thread.join(timeout=5)


@pytest.fixture
def page(request):
    """A Chromium page; its language is the parameter, when a test gives one (indirect), else Chinese."""
    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is not installed: scripts/test installs the Debian package 'chromium'")
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run"],
        )
        context = browser.new_context(accept_downloads=True, locale=getattr(request, "param", "zh-CN"))
        yield context.new_page()
        context.close()
        browser.close()
