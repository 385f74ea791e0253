"""Shared fixtures. Keep this small: feature-specific helpers live in tests/support/."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from support.fake_slack import FakeSlack


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    """A running FakeSlack webhook, stopped after the test."""
    with FakeSlack() as fake:
        yield fake


@pytest.fixture(scope="session")
def httpserver_listen_address() -> tuple[str, int]:
    """pytest-httpserver binds loopback by address, on a free port."""
    return ("127.0.0.1", 0)
