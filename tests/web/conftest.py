"""Fixtures for the browser tests: one Chromium per module, a fresh server and page per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from browser import Page, start_chromium

from liveserver import LiveServer, unlimited_config

if TYPE_CHECKING:
    from selenium.webdriver import Chrome


@pytest.fixture(scope="module")
def chromium(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chrome]:
    """One browser for the whole module (starting one takes about a second)."""
    driver = start_chromium(tmp_path_factory.mktemp("chromium-profile"))
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    """A server with its web page; flood control off so the test users can talk fast."""
    live = LiveServer(tmp_path, "--config", str(unlimited_config(tmp_path)))
    live.start()
    try:
        if not live.web_port:
            pytest.fail("the server serves no web page (no 'web page on' line in its log)")
        yield live
    finally:
        live.stop()


@pytest.fixture
def page(chromium: Chrome, server: LiveServer) -> Iterator[Page]:
    """The chat page, freshly loaded from this test's server, at 1280x800."""
    web = Page(chromium, server.web_port)
    web.viewport(1280, 800)
    web.driver.get_log("browser")  # forget what earlier tests left in the console
    web.load()
    yield web
    problems = web.console_problems()
    web.driver.get("about:blank")  # closes this page's socket before the server stops
    web.reset_viewport()
    assert problems == [], problems
