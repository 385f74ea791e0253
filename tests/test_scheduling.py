"""How `make test` hands out its work (tests/support/scheduling.py): the e2e groups first, then
the other groups, then single tests; workers outside tests/e2e/ at a lower CPU priority."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from types import SimpleNamespace

from support import REPO_ROOT
from support.scheduling import BACKGROUND_NICENESS, E2eFirst

CONFTEST = REPO_ROOT / "tests" / "conftest.py"

COLLECTION = [
    "tests/test_alarm.py::test_a",
    "tests/test_alarm.py::test_b",
    *(f"tests/test_examples.py::test_{n}@test_examples" for n in range(30)),
    *(f"tests/e2e/test_e2e_examples.py::test_{n}@test_e2e_examples" for n in range(20)),
    *(f"tests/test_terraform_suites.py::test_{n}@test_terraform_suites" for n in range(8)),
    *(f"tests/e2e/test_e2e_capture.py::test_{n}@test_e2e_capture" for n in range(4)),
    *(f"tests/e2e/test_e2e_appmode.py::test_{n}@test_e2e_appmode" for n in range(3)),
    "tests/test_zzz.py::test_last",
]


class FakeWorker:
    """The part of xdist's WorkerController a scheduler talks to."""

    def __init__(self, name: str) -> None:
        self.gateway = SimpleNamespace(id=name)
        self.shutting_down = False
        self.sent: list[list[int]] = []

    def send_runtest_some(self, indices: list[int]) -> None:
        self.sent.append(list(indices))

    def shutdown(self) -> None:
        self.shutting_down = True


def _first_units(workers: int) -> list[set[str]]:
    """The scopes each worker is sent first, for a run of COLLECTION on `workers` workers."""
    config = SimpleNamespace(
        getvalue=lambda name: [f"{workers}*popen"] if name == "tx" else None,
        option=SimpleNamespace(loadscopereorder=True),
    )
    scheduler = E2eFirst(config)  # type: ignore[arg-type]
    nodes = [FakeWorker(f"gw{i}") for i in range(workers)]
    for node in nodes:
        scheduler.add_node(node)  # type: ignore[arg-type]
        scheduler.add_node_collection(node, COLLECTION)  # type: ignore[arg-type]
    scheduler.schedule()
    return [{COLLECTION[i].rsplit("@", 1)[-1] for i in node.sent[0]} for node in nodes]


def test_the_e2e_groups_start_first_then_the_largest_other_group() -> None:
    # xdist alone orders by number of tests: test_examples, test_e2e_examples, the suites, ...
    assert _first_units(4) == [
        {"test_e2e_examples"},
        {"test_e2e_capture"},
        {"test_e2e_appmode"},
        {"test_examples"},
    ]


def test_single_tests_come_after_every_group() -> None:
    units = _first_units(6)
    assert units[3:5] == [{"test_examples"}, {"test_terraform_suites"}]
    assert units[5] == {COLLECTION[0]}  # single tests in collection order


def _niceness_after_setup(path: str, worker: str | None) -> int:
    """The niceness of a fresh process after tests/conftest.py's pytest_runtest_setup saw a
    test in `path`, run under xdist worker `worker` (None: no xdist)."""
    script = textwrap.dedent(f"""
        import importlib.util, os, sys
        from pathlib import Path
        from types import SimpleNamespace
        sys.path.insert(0, {str(REPO_ROOT / "tests")!r})
        spec = importlib.util.spec_from_file_location("root_conftest", {str(CONFTEST)!r})
        conftest = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(conftest)
        conftest.pytest_runtest_setup(SimpleNamespace(path=Path({path!r})))
        print(os.getpriority(os.PRIO_PROCESS, 0))
    """)
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_XDIST_WORKER"}
    if worker is not None:
        env["PYTEST_XDIST_WORKER"] = worker
    result = subprocess.run(
        [sys.executable, "-B", "-c", script], env=env, capture_output=True, text=True, check=True
    )
    return int(result.stdout)


def test_workers_outside_e2e_lower_their_priority_and_e2e_workers_do_not() -> None:
    base = os.getpriority(os.PRIO_PROCESS, 0)
    unit = REPO_ROOT / "tests" / "test_alarm.py"
    e2e = REPO_ROOT / "tests" / "e2e" / "test_e2e_examples.py"
    assert _niceness_after_setup(str(unit), "gw1") == max(base, BACKGROUND_NICENESS)
    assert _niceness_after_setup(str(e2e), "gw0") == base
    assert _niceness_after_setup(str(unit), None) == base  # a plain pytest run is left alone
