"""Shared fixtures. Keep this small: feature-specific helpers live in tests/support/."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest

from support.botocore_data import share_loaded_data
from support.fake_slack import FakeSlack
from support.scheduling import E2eFirst, yield_cpu_outside_e2e
from support.terraform import INSTALL_HINT, terraform_env


def pytest_configure(config: pytest.Config) -> None:
    """boto3 clients of any test (moto's included) read botocore's data files once per process
    (support/botocore_data.py)."""
    share_loaded_data()


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    """A running FakeSlack webhook, stopped after the test."""
    with FakeSlack() as fake:
        yield fake


@pytest.fixture(scope="session")
def tf_env() -> dict[str, str]:
    """The offline Terraform environment; a missing terraform fails (never skips) with an
    install hint."""
    if shutil.which(os.environ.get("TERRAFORM", "terraform")) is None:
        pytest.fail(f"terraform is not on PATH. {INSTALL_HINT}")
    return terraform_env()


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
    "test_terraform.py",
    "test_terraform_errors.py",
    "test_terraform_suites.py",
)


def _grouped(path: str) -> bool:
    """True for a test file whose tests form one xdist group (`path`: a file path or node id)."""
    parts = path.split("::", 1)[0].split("/")
    return parts[-1] in SHARED_FIXTURE_FILES or (len(parts) > 1 and parts[-2] == "e2e")


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """`--dist loadgroup` with the e2e groups handed out first (support/scheduling.py)."""
    if config.getvalue("dist") != "loadgroup":
        return None
    return E2eFirst(config, log)


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Under xdist, a worker lowers its CPU priority once it runs a test outside tests/e2e/
    (support/scheduling.py): the e2e deployments are the run's longest chain."""
    if os.environ.get("PYTEST_XDIST_WORKER"):
        yield_cpu_outside_e2e(item.path)


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook reads the groups
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Give the tests of each SHARED_FIXTURE_FILES file and each e2e file one xdist group."""
    for item in items:
        if _grouped(item.path.as_posix()):
            item.add_marker(pytest.mark.xdist_group(item.path.stem))


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_node_collection_finished(node: Any, ids: list[str]) -> None:
    """Under `--dist loadgroup` each worker tags a grouped test's node id with `@<group>` and the
    controller schedules by that tag. Where it cannot (pytest-xdist 3.8 with pytest 9), a group's
    tests are silently spread over the workers and every worker builds the group's Terraform
    plans and moto deployments again: measured, twice the CPU. Stop the run instead."""
    if node.config.getvalue("dist") != "loadgroup":
        return
    untagged = [nodeid for nodeid in ids if _grouped(nodeid) and "@" not in nodeid]
    if untagged:
        pytest.exit(
            f"pytest-xdist did not tag {len(untagged)} grouped tests with their group (e.g."
            f" {untagged[0]}), so their shared fixtures would be built once per worker. Use the"
            " pytest and pytest-xdist versions pinned in requirements-dev.txt.",
            returncode=pytest.ExitCode.USAGE_ERROR,
        )
