"""The module's `terraform test` suites (tests/*.tftest.hcl), each reported as a test of its own.

All suites run in one `terraform test` of one copy of the module, on one shared aws and archive
process: the fixed cost of a terraform process (about 2 s of CPU to load the aws schema) and of
its providers is paid once instead of once per suite. Measured on the seven suites: 49 s of CPU
and 39 s of wall time one by one, 29 s and 20 s together.
"""

from __future__ import annotations

import shutil
import subprocess
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from support.attached_providers import attached
from support.terraform import REPO_ROOT, json_messages, terraform

pytestmark = pytest.mark.terraform

TEST_FILES = sorted(
    path.relative_to(REPO_ROOT).as_posix() for path in (REPO_ROOT / "tests").glob("*.tftest.hcl")
)


def _module_copy(target: Path) -> Path:
    """The module's sources (root *.tf, lambda/, modules/, the tftest files and their fixtures)
    in a directory of their own: init and the zip's build/ never touch the working tree."""
    ignore = shutil.ignore_patterns(".terraform*", "build", "__pycache__", "*.pyc", "*.tfstate*")
    target.mkdir(parents=True)
    for tf_file in REPO_ROOT.glob("*.tf"):
        shutil.copy2(tf_file, target / tf_file.name)
    for directory in ("lambda", "modules", "tests/tf-fixtures"):
        shutil.copytree(REPO_ROOT / directory, target / directory, ignore=ignore)
    for test_file in TEST_FILES:
        shutil.copy2(REPO_ROOT / test_file, target / test_file)
    return target


@dataclass
class Suite:
    """What `terraform test -json` said of one test file."""

    runs: list[str] = field(default_factory=list)  # as declared, from the test_abstract message
    run_status: dict[str, str] = field(default_factory=dict)
    status: str | None = None  # the file's own final status
    problems: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Outcome:
    suites: dict[str, Suite]
    result: subprocess.CompletedProcess[str]


def _outcome(result: subprocess.CompletedProcess[str]) -> Outcome:
    suites: dict[str, Suite] = defaultdict(Suite)
    for message in json_messages(result.stdout):
        kind = message.get("type")
        if kind == "test_abstract":
            for path, runs in message["test_abstract"].items():
                suites[path].runs = list(runs)
        elif kind == "test_run" and message["test_run"].get("progress") == "complete":
            run = message["test_run"]
            suites[run["path"]].run_status[run["run"]] = run["status"]
        elif kind == "test_file" and message["test_file"].get("progress") == "complete":
            suites[message["test_file"]["path"]].status = message["test_file"]["status"]
        elif kind == "diagnostic" and "@testfile" in message:
            diagnostic = message["diagnostic"]
            suites[message["@testfile"]].problems.append(
                f"run {message.get('@testrun', '-')}: {diagnostic.get('severity')}:"
                f" {diagnostic.get('summary')} {diagnostic.get('detail', '')}".rstrip()
            )
    return Outcome(suites=dict(suites), result=result)


@pytest.fixture(scope="module")
def outcome(tf_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Outcome:
    """Every suite, run once (tf_env fails the run, never skips it, without terraform)."""
    root = _module_copy(tmp_path_factory.mktemp("tftest") / "module")
    # Every aws of the suites is a mock_provider, so one process serves them all; installing
    # providers is checked by tests/test_terraform.py's init.
    with attached(tf_env, root, aws=True) as env:
        terraform(["init", "-backend=false", "-no-color"], root, env=env)
        result = terraform(["test", "-json", "-no-color"], root, env=env, check=False)
    return _outcome(result)


def _failures(test_file: str, suite: Suite | None) -> list[str]:
    """Why `test_file` did not pass, from what terraform test said of it (empty: it passed)."""
    if suite is None:
        return [f"terraform test reported nothing of {test_file}"]
    failures = []
    if not suite.runs:
        failures.append(f"{test_file} declares no run block")
    not_passed = {run: status for run, status in suite.run_status.items() if status != "pass"}
    if not_passed:
        failures.append(f"{test_file}: runs not passed {not_passed}")
    unfinished = sorted(set(suite.runs) - set(suite.run_status))
    if unfinished:
        failures.append(f"{test_file}: runs that never finished {unfinished}")
    if suite.status != "pass":
        failures.append(f"{test_file} ended {suite.status}")
    return failures + suite.problems if failures else []


@pytest.mark.parametrize("test_file", TEST_FILES)
def test_module_terraform_test_suite_passes(outcome: Outcome, test_file: str) -> None:
    failures = _failures(test_file, outcome.suites.get(test_file))
    tail = (outcome.result.stderr or outcome.result.stdout)[-4000:]
    assert not failures, "\n".join(failures) + f"\n{tail}"


def test_a_suite_passes_only_when_every_declared_run_passed() -> None:
    passed = Suite(runs=["a", "b"], run_status={"a": "pass", "b": "pass"}, status="pass")
    assert _failures("t.tftest.hcl", passed) == []
    cut_short = Suite(runs=["a", "b"], run_status={"a": "pass"}, status="pass")
    assert _failures("t.tftest.hcl", cut_short) == ["t.tftest.hcl: runs that never finished ['b']"]
    failed = Suite(
        runs=["a"], run_status={"a": "fail"}, status="fail", problems=["run a: error: x"]
    )
    assert _failures("t.tftest.hcl", failed) == [
        "t.tftest.hcl: runs not passed {'a': 'fail'}",
        "t.tftest.hcl ended fail",
        "run a: error: x",
    ]
    assert _failures("t.tftest.hcl", Suite(status="pass")) == ["t.tftest.hcl declares no run block"]
    assert _failures("t.tftest.hcl", None) == ["terraform test reported nothing of t.tftest.hcl"]


def test_every_suite_ran_and_terraform_test_passed(outcome: Outcome) -> None:
    assert sorted(outcome.suites) == TEST_FILES
    not_passed = sorted(path for path, suite in outcome.suites.items() if suite.status != "pass")
    exit_code = outcome.result.returncode
    assert exit_code == 0, f"terraform test exited {exit_code}; files not passed: {not_passed}"
