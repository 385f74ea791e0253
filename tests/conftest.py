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


# Files whose tests share an expensive module- or session-scoped fixture (plans of every example,
# a Terraform root, a moto server with applied examples): under pytest-xdist (`make test` runs
# with --dist loadgroup) each such file runs whole in one worker, so the fixture is built once.
# Every other test is handed to whichever worker is free.
SHARED_FIXTURE_FILES = (
    "test_ec2_alarms.py",
    "test_examples.py",
    "test_moto_gaps.py",
    "test_soak.py",
    "test_terraform_errors.py",
)


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook reads the groups
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Give the tests of each SHARED_FIXTURE_FILES file and each e2e file one xdist group."""
    for item in items:
        path = item.path
        if path.name in SHARED_FIXTURE_FILES or path.parent.name == "e2e":
            item.add_marker(pytest.mark.xdist_group(path.stem))
