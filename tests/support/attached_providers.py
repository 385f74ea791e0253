"""Provider processes shared by the terraform commands of one directory (TF_REATTACH_PROVIDERS).

Terraform starts a fresh provider process for every provider instance of every graph walk, and
each hashicorp/aws process spends 1-3 s of CPU before it does any work (its own schema, then
PrepareProviderConfig and ConfigureProvider); the archive stand-in about 0.35 s. A `terraform
test` run starts each about twice, an apply about three times. A provider started in debug mode
instead prints a reattach configuration: every terraform command given it in
TF_REATTACH_PROVIDERS talks to that one process and never starts or stops it. Measured on the
seven .tftest.hcl suites: 178 s of CPU before, 61 s after.

What may share a process, and why it is per directory:
- the archive stand-in: its provider block is empty, but archive_file resolves a relative
  output_path (the module's `build/...`) against the provider's working directory, which
  Terraform sets to its own; the process is started in `cwd`.
- hashicorp/aws, only for a root with at most one aws configuration: a process keeps one
  ConfigureProvider result, so an alias (another region) must never share it with the default.
  The commands of one directory configure it identically, one walk at a time; mock_provider
  instances configure nothing. attached() refuses a root with an aws alias.

A reattached provider is "unmanaged": `terraform init` neither installs it nor writes it to
.terraform.lock.hcl, so tests of installation and lock files run without it.

    with attached(terraform_env(), root, aws=True) as env:
        terraform(["init"], root, env=env)
        terraform(["test"], root, env=env)
"""

from __future__ import annotations

import contextlib
import json
import re
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from support.terraform import (
    BUILD_DIR,
    REGISTRY_HOST,
    TESTS_DIR,
    TerraformSetupError,
    json_messages,
    os_arch,
    plugin_mirror_source,
    terraform,
    venv_python,
)

# Both print it on stdout: aws as `TF_REATTACH_PROVIDERS='{...}'`, `tf --dev` as an export line.
_REATTACH = re.compile(r"TF_REATTACH_PROVIDERS='(\{.*\})'")
STARTUP_TIMEOUT = 60.0


class _Server:
    """One provider process in debug mode and the reattach entry it printed."""

    def __init__(
        self, name: str, command: list[str], env: Mapping[str, str], cwd: Path | None = None
    ) -> None:
        self.name = name
        self._log = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed in stop()
            prefix=f"tf-{name}-", suffix=".log", delete=False
        )
        self.log_path = Path(self._log.name)
        self.process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=dict(env),
            cwd=cwd,  # in pytest's process group: a Ctrl+C ends it with the run
        )
        self.reattach = self._wait_for_reattach()

    def _wait_for_reattach(self) -> dict[str, Any]:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            match = _REATTACH.search(self.log_path.read_text(errors="replace"))
            if match:
                return json.loads(match.group(1))
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        output = self.log_path.read_text(errors="replace")[-4000:]
        self.stop()
        raise TerraformSetupError(
            f"the {self.name} provider printed no TF_REATTACH_PROVIDERS line within"
            f" {STARTUP_TIMEOUT:.0f} s (exit {self.process.returncode}); its output:\n{output}"
        )

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # how both end their debug mode
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()
        self.log_path.unlink(missing_ok=True)


def _version_key(binary: Path) -> tuple[int, ...]:
    """5.100.0 after 5.99.0: the VERSION directory of a mirror leaf, compared as numbers."""
    version = binary.parent.parent.name
    return tuple(int(part) if part.isdigit() else -1 for part in re.split(r"[.+-]", version))


def _binaries(source: Path, provider_type: str) -> list[Path]:
    """The provider's binaries for this platform in the mirror, oldest version first."""
    pattern = f"{REGISTRY_HOST}/hashicorp/{provider_type}/*/{os_arch()}/terraform-provider-*"
    return sorted(source.glob(pattern), key=_version_key)


def _mirror_has(source: Path, provider_type: str) -> bool:
    return bool(_binaries(source, provider_type))


def _aws_binary(source: Path) -> Path:
    found = _binaries(source, "aws")
    if not found:
        raise TerraformSetupError(f"no hashicorp/aws binary for {os_arch()} in the mirror {source}")
    return found[-1]


def _archive_command(base: Mapping[str, str]) -> tuple[list[str], dict[str, str]]:
    home = BUILD_DIR / "provider-home"
    home.mkdir(parents=True, exist_ok=True)
    env = {
        **base,
        "HOME": home.as_posix(),
        "XDG_CACHE_HOME": (home / ".cache").as_posix(),
        "PYTHONPATH": TESTS_DIR.as_posix(),
        "PYTHONDONTWRITEBYTECODE": "",  # as the launcher: bytecode under build/, reused
        "PYTHONPYCACHEPREFIX": base.get("PYTHONPYCACHEPREFIX")
        or (BUILD_DIR / "pycache").as_posix(),
        "PYTHONUNBUFFERED": "1",  # the reattach line must reach the log while it serves
    }
    return [venv_python().as_posix(), "-m", "support.archive_provider", "--dev"], env


_AWS_BLOCK = re.compile(r'^provider\s+"aws"\s*\{(.*?)^\}', re.MULTILINE | re.DOTALL)


def aws_aliases(root: Path) -> list[str]:
    """Files of `root` that configure an aliased aws provider (a second configuration)."""
    return [
        path.name
        for path in sorted(root.glob("*.tf"))
        if any(
            re.search(r"^\s*alias\s*=", body, re.MULTILINE)
            for body in _AWS_BLOCK.findall(path.read_text())
        )
    ]


def _aws_process_env(base: Mapping[str, str]) -> dict[str, str]:
    """The shared aws process's own environment: `base` without AWS_CA_BUNDLE. hashicorp/aws
    5.100 configured a second time in one process with a CA bundle fails ("unable to add custom
    RootCAs HTTPClient, has no WithTransportOptions"), and a shared process is configured once
    per command. Every root it serves plans offline or talks to moto over plain http."""
    return {key: value for key, value in base.items() if key != "AWS_CA_BUNDLE"}


@contextlib.contextmanager
def attached(base: Mapping[str, str], cwd: Path, *, aws: bool = False) -> Iterator[dict[str, str]]:
    """`base` plus TF_REATTACH_PROVIDERS for the terraform commands run in `cwd` until the block
    ends: an archive stand-in started there, and with `aws` one aws process (see the module).

    Only what the offline mirror serves is shared: with registry installs, or a mirror that holds
    a real hashicorp/archive, terraform starts those providers itself as usual."""
    source = plugin_mirror_source(base)
    if source is None:
        yield dict(base)
        return
    if aws and (aliased := aws_aliases(cwd)):
        raise TerraformSetupError(
            f"{cwd} configures aws more than once ({', '.join(aliased)}): one shared process"
            " would serve every configuration with the last ConfigureProvider's settings"
        )
    servers: list[_Server] = []
    try:
        if not _mirror_has(source, "archive"):
            command, env = _archive_command(base)
            servers.append(_Server("archive", command, env, cwd=cwd))
        if aws:
            command = [_aws_binary(source).as_posix(), "-debug"]
            servers.append(_Server("aws", command, _aws_process_env(base), cwd=cwd))
        reattach: dict[str, Any] = {}
        for server in servers:
            reattach.update(server.reattach)
        yield {**base, "TF_REATTACH_PROVIDERS": json.dumps(reattach)} if reattach else dict(base)
    finally:
        for server in servers:
            server.stop()


def plan_errors(
    root: Path, env: Mapping[str, str]
) -> tuple[subprocess.CompletedProcess[str], list[dict[str, Any]]]:
    """init and `plan -json` in a root with one aws configuration, on shared providers: the
    finished plan and its error diagnostics (the JSON `diagnostic` objects)."""
    with attached(env, root, aws=True) as attached_env:
        terraform(["init", "-backend=false", "-no-color"], root, env=attached_env)
        result = terraform(
            ["plan", "-json", "-input=false", "-lock=false", "-no-color"],
            root,
            env=attached_env,
            check=False,
        )
    errors = [
        m["diagnostic"]
        for m in json_messages(result.stdout)
        if m.get("type") == "diagnostic" and m["diagnostic"]["severity"] == "error"
    ]
    return result, errors
