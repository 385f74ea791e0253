"""Shared fixtures. Keep this small: feature-specific helpers live in tests/support/."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from xdist.scheduler import LoadGroupScheduling

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
    "test_terraform.py",
    "test_terraform_errors.py",
    "test_terraform_suites.py",
)


def _grouped(path: str) -> bool:
    """True for a test file whose tests form one xdist group (`path`: a file path or node id)."""
    parts = path.split("::", 1)[0].split("/")
    return parts[-1] in SHARED_FIXTURE_FILES or (len(parts) > 1 and parts[-2] == "e2e")


def _start_rank(scope: str) -> int:
    """Where a work unit of `--dist loadgroup` starts: the e2e files' groups first, then the
    other groups, then single tests (a single test's scope is its node id)."""
    if scope.startswith("test_e2e_"):
        return 0
    return 2 if "::" in scope else 1


class _E2eFirst(LoadGroupScheduling):
    """LoadGroupScheduling with its work queue in _start_rank order (stable within a rank)."""

    _ordered = False

    def _assign_work_unit(self, node: Any) -> None:
        if not self._ordered:  # the first call: schedule() has filled the whole work queue
            self._ordered = True
            units = sorted(self.workqueue.items(), key=lambda unit: _start_rank(unit[0]))
            self.workqueue.clear()
            self.workqueue.update(units)
        super()._assign_work_unit(node)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """`--dist loadgroup`, the e2e groups handed out first. Their moto deployments spend most of
    their time waiting on the aws provider (about 25 s on every SQS queue and queue policy it
    creates or deletes), so they must start at once and overlap the rest. xdist's own order,
    by number of tests, handed the 3- and 4-test e2e groups to workers after a minute of other
    work, and the run ended with them."""
    if config.getvalue("dist") != "loadgroup":
        return None
    return _E2eFirst(config, log)


# Niceness of a pytest-xdist worker once it runs its first test outside tests/e2e/.
BACKGROUND_NICENESS = 10


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Under xdist, a worker that runs a test outside tests/e2e/ lowers its CPU priority (and
    that of the terraform, provider and moto processes it starts) for good. The e2e groups start
    first (see _E2eFirst) and are the longest chain of the run; this way their CPU bursts
    between the aws provider's waits are served first, and the rest fills the gaps. A process
    cannot raise its priority again; with at least as many workers as e2e groups, no e2e test
    runs on a niced worker."""
    if (
        os.environ.get("PYTEST_XDIST_WORKER")
        and "e2e" not in item.path.parts
        and os.getpriority(os.PRIO_PROCESS, 0) < BACKGROUND_NICENESS
    ):
        os.setpriority(os.PRIO_PROCESS, 0, BACKGROUND_NICENESS)


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
