""".pre-commit-config.yaml: local hooks only, and every hook's command exists and runs offline."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from support import REPO_ROOT

CONFIG = REPO_ROOT / ".pre-commit-config.yaml"


def _hooks() -> list[dict]:
    config = yaml.safe_load(CONFIG.read_text(encoding="utf-8"))
    return [hook for repo in config["repos"] for hook in repo["hooks"]]


def _venvs() -> dict[str, Path]:
    """Where the virtualenvs the hooks name live in this run (the Makefile's VENV/CHECKOV_VENV)."""
    return {
        ".venv/": Path(os.environ.get("VENV", sys.prefix)),
        ".venv-checkov/": Path(os.environ.get("CHECKOV_VENV", REPO_ROOT / ".venv-checkov")),
    }


def _command(entry: str) -> list[str]:
    """The hook's argv, with .venv/ and .venv-checkov/ resolved as the Makefile would."""
    argv = shlex.split(entry)
    program = argv[0]
    for prefix, venv in _venvs().items():
        if program.startswith(prefix):
            argv[0] = str(venv / program.removeprefix(prefix))
    return argv


def test_every_hook_is_local_and_runs_on_the_system() -> None:
    config = yaml.safe_load(CONFIG.read_text(encoding="utf-8"))
    assert [repo["repo"] for repo in config["repos"]] == ["local"]
    ids = {hook["id"] for hook in _hooks()}
    assert {"ruff", "ruff-format", "terraform-fmt", "readme-tables", "checkov"} <= ids
    assert {hook["language"] for hook in _hooks()} == {"system"}


@pytest.mark.parametrize("hook", _hooks(), ids=lambda hook: hook["id"])
def test_hook_program_exists(hook: dict) -> None:
    argv = _command(hook["entry"])
    if argv[0] == "env":  # env VAR= program ...
        argv = [arg for arg in argv[1:] if "=" not in arg]
    program = argv[0]
    found = shutil.which(program) if "/" not in program else program
    hint = "`make venv checkov` creates .venv and .venv-checkov (or set VENV / CHECKOV_VENV)"
    assert found is not None, f"{hook['id']}: {program} not found on PATH"
    assert os.access(found, os.X_OK), f"{hook['id']}: {found} is missing or not executable: {hint}"
    if found.endswith("python") or found.endswith("python3"):
        assert (REPO_ROOT / argv[1]).is_file(), f"{hook['id']}: {argv[1]} is missing"


@pytest.mark.parametrize("hook_id", ["readme-tables", "release-check"])
def test_check_hooks_pass_on_the_committed_tree(hook_id: str) -> None:
    (hook,) = [hook for hook in _hooks() if hook["id"] == hook_id]
    result = subprocess.run(
        _command(hook["entry"]),
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("hook_id", ["ruff", "ruff-format"])
def test_ruff_hooks_run_on_a_file(hook_id: str, tmp_path: Path) -> None:
    (hook,) = [hook for hook in _hooks() if hook["id"] == hook_id]
    source = tmp_path / "ok.py"
    source.write_text('"""A clean module."""\n\nVALUE = 1\n')
    result = subprocess.run(
        [*_command(hook["entry"]), "--no-cache", str(source)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_terraform_hook_answers_its_version() -> None:
    (hook,) = [hook for hook in _hooks() if hook["id"] == "terraform-fmt"]
    program = next(arg for arg in _command(hook["entry"]) if "=" not in arg and arg != "env")
    result = subprocess.run(
        [program, "-version"], capture_output=True, text=True, check=False, timeout=60
    )
    assert result.returncode == 0, result.stderr


def test_checkov_hook_script_has_its_interpreter() -> None:
    # Importing checkov takes tens of seconds: `make lint` runs it; here its launcher is checked.
    (hook,) = [hook for hook in _hooks() if hook["id"] == "checkov"]
    launcher = Path(_command(hook["entry"])[0])
    shebang = launcher.read_text(encoding="utf-8", errors="replace").splitlines()[0]
    assert shebang.startswith("#!"), shebang
    interpreter = shlex.split(shebang[2:])[0]
    assert os.access(interpreter, os.X_OK), f"{launcher}: interpreter {interpreter} is missing"
