"""Run the terraform CLI offline: a filesystem mirror under build/ and a CLI config pointing at it.

The mirror holds every provider found in TF_PLUGIN_MIRROR (default /opt/tf-plugins; unpacked layout
HOST/NAMESPACE/TYPE/VERSION/OS_ARCH/) plus, when no real hashicorp/archive is there, the test-only
Python stand-in in tests/support/archive_provider/ as hashicorp/archive 99.0.0. Terraform accepts a
symlink only for the OS_ARCH leaf directory, so the VERSION directories are real and the leaves link
to the source mirror. When TF_PLUGIN_MIRROR is unset and the default path does not exist, or it is
set to the empty string, providers come from the registry (a machine with internet).

Nothing is written outside build/terraform/: not into $HOME, not into the source mirror.

    .venv/bin/python tests/support/terraform.py env    # prints `export ...` lines for a shell
"""

from __future__ import annotations

import contextlib
import fcntl
import importlib.util
import json
import os
import platform
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
BUILD_DIR = REPO_ROOT / "build" / "terraform"
CLI_CONFIG_FILE = BUILD_DIR / "terraformrc"
TESTS_DIR = REPO_ROOT / "tests"

DEFAULT_PLUGIN_MIRROR = "/opt/tf-plugins"
REGISTRY_HOST = "registry.terraform.io"
# The stand-in's version: one no real hashicorp/archive release has (the real ones are 2.x), so a
# .terraform.lock.hcl written against the offline mirror can never pass for a real one: a real
# `terraform init` with it fails naming 99.0.0 instead of a confusing checksum mismatch on a real
# version. It must satisfy the module's `>= 2.4` (a prerelease such as 2.7.1-offline would not:
# constraints never match prereleases); tests/test_terraform_support.py checks both.
ARCHIVE_VERSION = "99.0.0"
INSTALL_HINT = "Install Terraform >= 1.9: https://developer.hashicorp.com/terraform/install"

AUTOMATION_ENV = {"TF_IN_AUTOMATION": "1", "TF_INPUT": "0", "CHECKPOINT_DISABLE": "1"}


class TerraformSetupError(RuntimeError):
    """The offline Terraform setup cannot be built (missing provider, terraform or `tf`)."""


class TerraformError(RuntimeError):
    """A terraform command exited non-zero; the message carries its output."""

    def __init__(self, message: str, result: subprocess.CompletedProcess[str]) -> None:
        super().__init__(message)
        self.result = result


def os_arch() -> str:
    """Terraform's platform name for this machine, e.g. linux_amd64."""
    machine = platform.machine().lower()
    arch = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(
        machine, machine
    )
    return f"{sys.platform.removesuffix('2')}_{arch}"


def plugin_mirror_source(environ: Mapping[str, str] | None = None) -> Path | None:
    """The source mirror to use, or None for plain registry installs (see the module docstring)."""
    env = os.environ if environ is None else environ
    value = env.get("TF_PLUGIN_MIRROR")
    if value is None:
        default = Path(DEFAULT_PLUGIN_MIRROR)
        return default if default.is_dir() else None
    if value == "":
        return None
    path = Path(value)
    if not path.is_dir():
        raise TerraformSetupError(
            f"TF_PLUGIN_MIRROR={value!r} is not a directory. Point it at a Terraform filesystem"
            f" mirror (unpacked layout {REGISTRY_HOST}/hashicorp/aws/<version>/{os_arch()}/),"
            " or set it to the empty string to install providers from the registry instead."
        )
    return path


def _provider_leaves(source: Path, arch: str) -> list[Path]:
    """Every HOST/NAMESPACE/TYPE/VERSION/OS_ARCH directory for this platform holding a binary."""
    leaves = []
    for leaf in sorted(source.glob(f"*/*/*/*/{arch}")):
        provider_type = leaf.parent.parent.name
        if leaf.is_dir() and any(leaf.glob(f"terraform-provider-{provider_type}_*")):
            leaves.append(leaf)
    return leaves


def venv_python() -> Path:
    """The venv interpreter (unresolved: a resolved system python would not see the venv's `tf`)."""
    if sys.prefix != sys.base_prefix:
        if importlib.util.find_spec("tf") is None:
            raise TerraformSetupError(
                f"the Python package `tf` is not installed in {sys.prefix}; the hashicorp/archive"
                " stand-in needs it: `make venv` (requirements-dev.txt)"
            )
        return Path(sys.prefix) / "bin" / "python"
    candidate = REPO_ROOT / ".venv" / "bin" / "python"
    if not candidate.exists():
        raise TerraformSetupError(
            f"no virtualenv found ({candidate} is missing): run `make venv` first; the"
            " hashicorp/archive stand-in runs on the venv's Python with the `tf` package"
        )
    return candidate


def _launcher_script(python: Path, provider_home: Path) -> str:
    q = shlex.quote
    home = provider_home.as_posix()
    return (
        "#!/bin/sh\n"
        "# Generated by tests/support/terraform.py: the test-only stand-in for hashicorp/archive.\n"
        "# Terraform reads the plugin handshake from stdout, so nothing may print before it.\n"
        "# `tf` caches a TLS certificate under $HOME/.cache: HOME points into build/, never at ~.\n"
        f"HOME={q(home)}\n"
        f"XDG_CACHE_HOME={q(home + '/.cache')}\n"
        f"PYTHONPATH={q(TESTS_DIR.as_posix())}\n"
        "# Bytecode goes under build/ too (the venv is installed without it, see the Makefile).\n"
        "PYTHONDONTWRITEBYTECODE=\n"
        "PYTHONPYCACHEPREFIX=${PYTHONPYCACHEPREFIX:-"
        f"{q(provider_home.parent.joinpath('pycache').as_posix())}}}\n"
        "export HOME XDG_CACHE_HOME PYTHONPATH PYTHONDONTWRITEBYTECODE PYTHONPYCACHEPREFIX\n"
        f'exec {q(python.as_posix())} -m support.archive_provider "$@"\n'
    )


def _write_if_changed(path: Path, text: str, mode: int) -> None:
    if not path.is_file() or path.read_text() != text:
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(text)
        tmp.chmod(mode)
        os.replace(tmp, path)
    path.chmod(mode)


def _link_leaf(link: Path, target: Path) -> None:
    if link.is_symlink() and os.readlink(link) == str(target):
        return
    link.parent.mkdir(parents=True, exist_ok=True)
    if link.exists() and not link.is_symlink():
        shutil.rmtree(link)
    tmp = link.with_name(f".{link.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    tmp.symlink_to(target, target_is_directory=True)
    os.replace(tmp, link)


def _remove_stale(mirror: Path, arch: str, wanted: set[Path]) -> None:
    for leaf in mirror.glob(f"*/*/*/*/{arch}"):
        if leaf not in wanted:
            if leaf.is_symlink() or leaf.is_file():
                leaf.unlink()
            else:
                shutil.rmtree(leaf)
            with contextlib.suppress(OSError):
                leaf.parent.rmdir()


@contextlib.contextmanager
def _build_lock(build_dir: Path) -> Iterator[None]:
    """Serialise builds of the mirror between concurrent test processes."""
    build_dir.mkdir(parents=True, exist_ok=True)
    with (build_dir / ".lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def build_mirror(source: Path, build_dir: Path = BUILD_DIR) -> Path:
    """Assemble <build_dir>/mirror and <build_dir>/terraformrc from `source` plus the archive
    stand-in; idempotent. Returns the CLI config file."""
    mirror_dir = build_dir / "mirror"
    provider_home = build_dir / "provider-home"
    arch = os_arch()
    leaves = _provider_leaves(source, arch)
    names = {leaf.relative_to(source).parts[:3] for leaf in leaves}
    if (REGISTRY_HOST, "hashicorp", "aws") not in names:
        raise TerraformSetupError(
            f"hashicorp/aws was not found in TF_PLUGIN_MIRROR={str(source)!r}: expected"
            f" {source}/{REGISTRY_HOST}/hashicorp/aws/<version>/{arch}/terraform-provider-aws_v"
            "<version>_x5 (unpacked filesystem-mirror layout). Set TF_PLUGIN_MIRROR to a mirror"
            " that holds it, or TF_PLUGIN_MIRROR= (empty) to download providers from the registry."
        )
    wanted: set[Path] = set()
    with _build_lock(build_dir):
        for leaf in leaves:
            link = mirror_dir / leaf.relative_to(source)
            _link_leaf(link, leaf.resolve())
            wanted.add(link)
        if (REGISTRY_HOST, "hashicorp", "archive") not in names:
            stand_in = mirror_dir / REGISTRY_HOST / "hashicorp" / "archive" / ARCHIVE_VERSION / arch
            if stand_in.is_symlink():
                stand_in.unlink()
            stand_in.mkdir(parents=True, exist_ok=True)
            launcher = stand_in / f"terraform-provider-archive_v{ARCHIVE_VERSION}_x5"
            _write_if_changed(launcher, _launcher_script(venv_python(), provider_home), 0o755)
            provider_home.mkdir(parents=True, exist_ok=True)
            wanted.add(stand_in)
        _remove_stale(mirror_dir, arch, wanted)
        config = (
            "# Generated by tests/support/terraform.py: providers come only from this mirror,\n"
            "# never from the network (there is no `direct` block).\n"
            "provider_installation {\n"
            "  filesystem_mirror {\n"
            f"    path = {json.dumps(mirror_dir.as_posix())}\n"
            "  }\n"
            "}\n"
        )
        cli_config = build_dir / "terraformrc"
        _write_if_changed(cli_config, config, 0o644)
    return cli_config


def terraform_env(
    base: Mapping[str, str] | None = None, build_dir: Path = BUILD_DIR
) -> dict[str, str]:
    """os.environ (or `base`) plus what terraform needs to run offline and non-interactively."""
    env = dict(os.environ if base is None else base)
    env.update(AUTOMATION_ENV)
    # Terraform passes its environment to the providers it starts. The aws provider holds a heap
    # of several hundred MB (its schemas) and spends much of its CPU collecting it: with the Go
    # garbage collector's target at 400 % instead of 100 %, one SQS queue applied into moto took
    # about a quarter less CPU for 450 MB instead of 320 MB of peak memory (measured).
    env.setdefault("GOGC", "400")
    source = plugin_mirror_source(env)
    if source is not None:
        env["TF_CLI_CONFIG_FILE"] = build_mirror(source, build_dir).as_posix()
        # A plugin cache would copy the ~700 MB aws binary out of the mirror for every init.
        env.pop("TF_PLUGIN_CACHE_DIR", None)
    return env


def terraform_binary() -> str:
    """Path of the terraform CLI (TERRAFORM overrides); a clear error when it is missing."""
    name = os.environ.get("TERRAFORM", "terraform")
    found = shutil.which(name)
    if found is None:
        raise TerraformSetupError(f"terraform CLI {name!r} not found on PATH. {INSTALL_HINT}")
    return found


def _tail(text: str, limit: int = 8000) -> str:
    return text if len(text) <= limit else "...\n" + text[-limit:]


def terraform(
    args: Sequence[str],
    cwd: str | os.PathLike[str],
    env: Mapping[str, str] | None = None,
    check: bool = True,
    timeout: float = 900,
) -> subprocess.CompletedProcess[str]:
    """Run `terraform <args>` in cwd; with check, a failure raises with the command's output.

    Before `init` the working directory's .terraform.lock.hcl is removed: its hashes describe
    one machine's mirror (the stand-in's launcher holds absolute paths) and are never committed.
    """
    workdir = Path(cwd)
    if args and args[0] == "init":
        (workdir / ".terraform.lock.hcl").unlink(missing_ok=True)
    command = [terraform_binary(), *args]
    result = subprocess.run(
        command,
        cwd=workdir,
        env=dict(env) if env is not None else terraform_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if check and result.returncode != 0:
        raise TerraformError(
            f"`terraform {' '.join(args)}` failed in {workdir} (exit {result.returncode})\n"
            f"--- stderr ---\n{_tail(result.stderr)}\n--- stdout ---\n{_tail(result.stdout)}",
            result,
        )
    return result


# A test_plan message of `terraform test -json -verbose` ends with the provider schemas,
# `..."provider_schemas":{...}},"type":"test_plan"}`: about 14 MB of JSON for hashicorp/aws in
# every run's plan, which no test reads, and about 0.9 s of CPU to decode.
_SCHEMAS_KEY = ',"provider_schemas":'
_TEST_PLAN_END = '},"type":"test_plan"}'


def json_message(line: str) -> dict[str, Any]:
    """One line of terraform's -json output, decoded; a test_plan without its provider schemas.
    A line of any other layout is decoded whole; one that is not JSON raises JSONDecodeError."""
    start, end = line.find(_SCHEMAS_KEY), line.rfind(_TEST_PLAN_END)
    if 0 < start < end:
        with contextlib.suppress(json.JSONDecodeError):
            return dict(json.loads(line[:start] + line[end:]))
    return dict(json.loads(line))


def json_messages(stdout: str) -> list[dict[str, Any]]:
    """Every JSON line of terraform's -json output (json_message), other lines skipped."""
    messages = []
    for line in stdout.splitlines():
        with contextlib.suppress(json.JSONDecodeError):
            messages.append(json_message(line))
    return messages


def main(argv: Sequence[str]) -> int:
    """`env`: print the shell lines that make a plain `terraform` use the offline mirror."""
    if list(argv) != ["env"]:
        print("usage: terraform.py env", file=sys.stderr)
        return 2
    try:
        env = terraform_env()
    except TerraformSetupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if "TF_CLI_CONFIG_FILE" not in env or env["TF_CLI_CONFIG_FILE"] != CLI_CONFIG_FILE.as_posix():
        print("# no provider mirror found: terraform will install providers from the registry")
    for key in ("TF_CLI_CONFIG_FILE", *AUTOMATION_ENV):
        if key in env:
            print(f"export {key}={shlex.quote(env[key])}")
    if "TF_PLUGIN_CACHE_DIR" in os.environ and "TF_PLUGIN_CACHE_DIR" not in env:
        print("unset TF_PLUGIN_CACHE_DIR")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
