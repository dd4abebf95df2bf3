"""Shared fixtures: a sans-IO core harness and a real server on an ephemeral loopback port.

Tests that need a program from outside Python (a browser, another IRC server) skip with a
reason that starts with "needs " where it is missing. CI installs those programs, so under
`CI=true` such a skip fails the run: a test that did not run cannot pass there.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness import CoreHarness
from liveserver import LiveServer
from ngircd import NgircdHub


@pytest.fixture(autouse=True)
def state_invariants_hold() -> Iterator[None]:
    """After every test that drove the core, every invariant of core.state still holds."""
    CoreHarness.made.clear()
    yield
    for harness in CoreHarness.made:
        assert harness.server.state.check() == []
    CoreHarness.made.clear()


@pytest.fixture(autouse=True)
def no_server_left_behind() -> Iterator[None]:
    """Whatever a test started is stopped, even when the test failed half-way."""
    yield
    for server in list(LiveServer.running):
        server.stop()
    for hub in list(NgircdHub.running):
        hub.stop()


@pytest.fixture
def core() -> CoreHarness:
    return CoreHarness()


@pytest.fixture
def live(tmp_path: Path) -> Iterator[LiveServer]:
    server = LiveServer(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


NEEDS = "needs "  # how the reason of a skip for a missing program starts


def _skipped_for_missing_program(config: pytest.Config) -> int:
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter is not None else []
    return sum(NEEDS in str(report.longrepr) for report in skipped)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if os.environ.get("CI") == "true" and _skipped_for_missing_program(session.config):
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    count = _skipped_for_missing_program(terminalreporter.config)
    if count and os.environ.get("CI") == "true":
        terminalreporter.write_line(
            f"CI=true: {count} test(s) skipped for a missing program, which CI must run: FAILED",
            red=True,
        )
