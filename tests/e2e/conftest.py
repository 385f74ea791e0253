"""Fixtures of the end-to-end test: one moto server per session and the three examples applied
into it at once, destroyed at the end whatever happened. Helpers live in e2e/harness.py."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
from e2e.harness import (
    EXAMPLE_NAMES,
    Deployment,
    Stack,
    copy_example,
    phase_timings,
    terraform_env_for,
    timed,
    variables_for,
)

from support.aws_override import write_aws_override
from support.moto_server import MotoServer

logger = logging.getLogger("e2e")


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Per-phase timings of the e2e run (figures for people, never asserted)."""
    timings = phase_timings()
    if not timings:
        return
    terminalreporter.section("e2e phase timings")
    for phase, seconds in timings:
        terminalreporter.write_line(f"{seconds:7.1f} s  {phase}")


@pytest.fixture(scope="session")
def moto_server() -> Iterator[MotoServer]:
    """One moto server for the whole session (requests recorded: the Lambda zip lives there)."""
    server = MotoServer(record_requests=True)
    with timed("moto_server start"):
        server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def stack(moto_server: MotoServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """The three examples applied into moto (concurrently); destroyed at the end in any case
    (test_destroy_leaves_nothing_behind destroys first and checks; this is the safety net)."""
    tmp = tmp_path_factory.mktemp("e2e")
    stack = Stack(moto=moto_server, deployments={}, tmp=tmp)
    env = terraform_env_for(moto_server.endpoint)
    stack.prepare()
    for example, name in EXAMPLE_NAMES.items():
        workdir = copy_example(example, tmp / example)
        write_aws_override(workdir)
        stack.deployments[example] = Deployment(
            example=example,
            name=name,
            workdir=workdir,
            variables=variables_for(example, name, stack),
            env=env,
        )
    try:
        stack.deploy_all()
        yield stack
    finally:
        for deployment in stack.deployments.values():
            try:
                deployment.destroy()
            except Exception:  # a failed apply may leave a state destroy cannot walk
                logger.exception("e2e: destroying %s failed", deployment.example)
