"""Shared fixtures: a sans-IO core harness and a real server on an ephemeral loopback port."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from harness import CoreHarness
from liveserver import LiveServer


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
