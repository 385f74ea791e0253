"""tests/support/terraform.py without the terraform CLI: the mirror it builds, errors, env."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import hcl2
import pytest

from support import REPO_ROOT, attached_providers
from support.attached_providers import attached, aws_aliases
from support.terraform import (
    ARCHIVE_VERSION,
    AUTOMATION_ENV,
    TerraformError,
    TerraformSetupError,
    build_mirror,
    json_message,
    json_messages,
    os_arch,
    plugin_mirror_source,
    terraform,
    terraform_env,
)

ARCH = os_arch()


def _fake_provider(mirror: Path, namespace: str, kind: str, version: str) -> Path:
    leaf = mirror / "registry.terraform.io" / namespace / kind / version / ARCH
    leaf.mkdir(parents=True)
    binary = leaf / f"terraform-provider-{kind}_v{version}_x5"
    binary.write_text("#!/bin/sh\n")
    binary.chmod(0o755)
    return leaf


def test_empty_tf_plugin_mirror_means_registry_installs() -> None:
    assert plugin_mirror_source({"TF_PLUGIN_MIRROR": ""}) is None
    env = terraform_env({"TF_PLUGIN_MIRROR": "", "TF_CLI_CONFIG_FILE": "/home/me/.terraformrc"})
    assert env["TF_CLI_CONFIG_FILE"] == "/home/me/.terraformrc"
    assert {key: env[key] for key in AUTOMATION_ENV} == AUTOMATION_ENV


def test_a_missing_tf_plugin_mirror_is_named_in_the_error(tmp_path: Path) -> None:
    with pytest.raises(TerraformSetupError, match="TF_PLUGIN_MIRROR="):
        plugin_mirror_source({"TF_PLUGIN_MIRROR": str(tmp_path / "nowhere")})


def test_a_mirror_without_aws_is_named_in_the_error(tmp_path: Path) -> None:
    source = tmp_path / "plugins"
    _fake_provider(source, "hashicorp", "random", "3.6.0")
    with pytest.raises(
        TerraformSetupError, match=r"hashicorp/aws was not found in TF_PLUGIN_MIRROR"
    ):
        build_mirror(source, tmp_path / "build")


def test_mirror_links_only_the_platform_leaf_and_adds_the_archive_stand_in(tmp_path: Path) -> None:
    source = tmp_path / "plugins"
    aws_leaf = _fake_provider(source, "hashicorp", "aws", "5.100.0")
    build = tmp_path / "build"

    cli_config = build_mirror(source, build)

    mirror = build / "mirror" / "registry.terraform.io" / "hashicorp"
    version_dir = mirror / "aws" / "5.100.0"
    assert not version_dir.is_symlink()
    assert (version_dir / ARCH).is_symlink()
    assert (version_dir / ARCH).resolve() == aws_leaf.resolve()

    launcher = (
        mirror
        / "archive"
        / ARCHIVE_VERSION
        / ARCH
        / f"terraform-provider-archive_v{ARCHIVE_VERSION}_x5"
    )
    text = launcher.read_text()
    assert os.access(launcher, os.X_OK)
    assert f"exec {Path(sys.prefix) / 'bin' / 'python'} -m support.archive_provider" in text
    assert f"HOME={build / 'provider-home'}" in text

    config = cli_config.read_text()
    assert "filesystem_mirror" in config
    assert str(build / "mirror") in config
    assert "direct" not in config.replace(
        "# never from the network (there is no `direct` block).", ""
    )


def test_mirror_rebuild_is_idempotent_and_drops_stale_providers(tmp_path: Path) -> None:
    source = tmp_path / "plugins"
    _fake_provider(source, "hashicorp", "aws", "5.99.0")
    build = tmp_path / "build"
    build_mirror(source, build)
    launcher = build / "mirror/registry.terraform.io/hashicorp/archive" / ARCHIVE_VERSION / ARCH
    before = (launcher / f"terraform-provider-archive_v{ARCHIVE_VERSION}_x5").stat().st_mtime_ns

    (
        source
        / "registry.terraform.io/hashicorp/aws/5.99.0"
        / ARCH
        / "terraform-provider-aws_v5.99.0_x5"
    ).unlink()
    _fake_provider(source, "hashicorp", "aws", "5.100.0")
    build_mirror(source, build)

    aws = build / "mirror/registry.terraform.io/hashicorp/aws"
    assert sorted(path.name for path in aws.iterdir()) == ["5.100.0"]
    assert (
        launcher / f"terraform-provider-archive_v{ARCHIVE_VERSION}_x5"
    ).stat().st_mtime_ns == before


def test_a_real_archive_provider_in_the_mirror_replaces_the_stand_in(tmp_path: Path) -> None:
    source = tmp_path / "plugins"
    _fake_provider(source, "hashicorp", "aws", "5.100.0")
    _fake_provider(source, "hashicorp", "archive", "2.6.0")
    build_mirror(source, tmp_path / "build")
    archive = tmp_path / "build/mirror/registry.terraform.io/hashicorp/archive"
    assert sorted(path.name for path in archive.iterdir()) == ["2.6.0"]


def test_stand_in_prints_the_plugin_handshake_first(tmp_path: Path) -> None:
    source = tmp_path / "plugins"
    _fake_provider(source, "hashicorp", "aws", "5.100.0")
    build = tmp_path / "build"
    build_mirror(source, build)
    launcher = build / "mirror/registry.terraform.io/hashicorp/archive" / ARCHIVE_VERSION / ARCH
    env = {"PATH": os.environ.get("PATH", ""), "PLUGIN_PROTOCOL_VERSIONS": "6"}
    with subprocess.Popen(
        [launcher / f"terraform-provider-archive_v{ARCHIVE_VERSION}_x5"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        text=True,
    ) as plugin:
        try:
            first_line = plugin.stdout.readline() if plugin.stdout else ""
        finally:
            plugin.terminate()
            plugin.wait(timeout=10)
    assert first_line.startswith("1|6|unix|"), first_line
    assert (build / "provider-home" / ".cache" / "tf-python-provider").is_dir()


def test_init_removes_a_stale_lock_file_and_failures_carry_the_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lock = tmp_path / ".terraform.lock.hcl"
    lock.write_text("# hashes of another machine's mirror\n")
    monkeypatch.setenv("TERRAFORM", "true")
    terraform(["init"], tmp_path, env=dict(os.environ))
    assert not lock.exists()

    monkeypatch.setenv("TERRAFORM", "false")
    with pytest.raises(TerraformError, match=r"`terraform validate` failed in .* \(exit 1\)"):
        terraform(["validate"], tmp_path, env=dict(os.environ))


def test_a_missing_terraform_fails_with_an_install_hint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TERRAFORM", "terraform-that-does-not-exist")
    with pytest.raises(TerraformSetupError, match="Install Terraform"):
        terraform(["version"], tmp_path, env={})


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("."))


def _satisfies(version: str, constraint: str) -> bool:
    """Terraform's version constraint check, for the operators versions.tf uses."""
    checks = {
        ">=": lambda a, b: a >= b,
        ">": lambda a, b: a > b,
        "<=": lambda a, b: a <= b,
        "<": lambda a, b: a < b,
        "=": lambda a, b: a == b,
        "!=": lambda a, b: a != b,
    }
    for clause in constraint.split(","):
        operator, _, wanted = clause.strip().partition(" ")
        if operator == "~>":
            parts = _version(wanted)
            if not (
                _version(version) >= parts and _version(version)[: len(parts) - 1] == parts[:-1]
            ):
                return False
        elif not checks[operator](_version(version), _version(wanted.strip())):
            return False
    return True


def test_the_archive_stand_in_version_is_no_real_release_yet_satisfies_every_constraint() -> None:
    # Real hashicorp/archive releases are 1.x and 2.x; a lock file naming 99.0.0 can only come
    # from the offline mirror.
    assert _version(ARCHIVE_VERSION)[0] >= 99
    assert "-" not in ARCHIVE_VERSION, "a prerelease never satisfies a >= constraint"
    roots = [REPO_ROOT, *sorted(path.parent for path in REPO_ROOT.glob("examples/*/versions.tf"))]
    for root in roots:
        with (root / "versions.tf").open() as handle:
            terraform_blocks = hcl2.load(handle).get("terraform", [])
        for block in terraform_blocks:
            for providers in block.get("required_providers", []):
                archive = providers.get("archive")
                if archive:
                    constraint = archive["version"].strip('"')
                    assert _satisfies(ARCHIVE_VERSION, constraint), (
                        f"{root}: the stand-in {ARCHIVE_VERSION} does not satisfy"
                        f" archive {constraint}"
                    )


def test_constraint_check_rejects_what_terraform_rejects() -> None:
    assert _satisfies("99.0.0", ">= 2.4")
    assert not _satisfies("99.0.0", ">= 2.4, < 3.0")
    assert not _satisfies("99.0.0", "~> 2.4")


# -- support/attached_providers.py: shared provider processes ------------------------------------

ALIASED_ROOT = """
provider "aws" {
  region = "eu-west-1"
}

provider "aws" {
  alias  = "second_region"
  region = "us-east-1"
}
"""


def test_an_aliased_aws_configuration_is_found_and_never_shared(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text('provider "aws" {\n  region = "eu-west-1"\n}\n')
    (tmp_path / "other.tf").write_text('provider "archive" {\n  alias = "x"\n}\n')
    assert aws_aliases(tmp_path) == []

    (tmp_path / "regions.tf").write_text(ALIASED_ROOT)
    assert aws_aliases(tmp_path) == ["regions.tf"]
    env = terraform_env()
    with (
        pytest.raises(TerraformSetupError, match=r"configures aws more than once \(regions.tf\)"),
        attached(env, tmp_path, aws=True),
    ):
        pass


def test_registry_installs_share_nothing(tmp_path: Path) -> None:
    base = {"TF_PLUGIN_MIRROR": "", "PATH": os.environ["PATH"]}
    with attached(base, tmp_path, aws=True) as env:
        assert env == base


def test_an_attached_archive_serves_from_the_directory_and_stops_after(tmp_path: Path) -> None:
    env = terraform_env()
    source = plugin_mirror_source(env)
    if source is None or list(source.glob("registry.terraform.io/hashicorp/archive/*")):
        pytest.skip("only the offline mirror's stand-in is shared")  # a real archive is not
    with attached(env, tmp_path) as attached_env:
        (entry,) = json.loads(attached_env["TF_REATTACH_PROVIDERS"]).items()
        assert entry[0] == "registry.terraform.io/hashicorp/archive"
        pid = entry[1]["Pid"]
        assert Path(f"/proc/{pid}/cwd").resolve() == tmp_path.resolve()
    with pytest.raises(ProcessLookupError):  # ended by SIGINT and reaped before the block ended
        os.kill(pid, 0)


def test_the_newest_aws_in_the_mirror_is_shared_and_a_silent_provider_is_an_error(
    tmp_path: Path,
) -> None:
    source = tmp_path / "plugins"
    for version in ("5.99.0", "5.100.0", "5.9.1"):
        _fake_provider(source, "hashicorp", "aws", version)
    newest = attached_providers._aws_binary(source)
    assert newest.parent.parent.name == "5.100.0"

    # The fake binary prints nothing and exits: the error says so instead of hanging.
    with pytest.raises(TerraformSetupError, match=r"aws provider printed no TF_REATTACH"):
        attached_providers._Server("aws", [str(newest), "-debug"], os.environ, cwd=tmp_path)


# A stand-in aws "provider" that reports, in its reattach line, the CA bundle it was started with.
REPORTING_PROVIDER = """#!/bin/sh
echo "TF_REATTACH_PROVIDERS='{\\"registry.terraform.io/hashicorp/aws\\": {\\"Pid\\": $$,\\
 \\"CaBundle\\": \\"${AWS_CA_BUNDLE:-unset}\\"}}'"
exec sleep 60
"""


def test_the_shared_aws_process_runs_without_a_ca_bundle(tmp_path: Path) -> None:
    """hashicorp/aws 5.100 fails a second ConfigureProvider in one process when AWS_CA_BUNDLE is
    set, and a shared process is configured once per command."""
    mirror = tmp_path / "plugins"
    _fake_provider(mirror, "hashicorp", "archive", "2.7.1")  # a real archive: not started
    leaf = _fake_provider(mirror, "hashicorp", "aws", "5.100.0")
    (leaf / "terraform-provider-aws_v5.100.0_x5").write_text(REPORTING_PROVIDER)
    base = {"TF_PLUGIN_MIRROR": str(mirror), "PATH": os.environ["PATH"]}

    with attached({**base, "AWS_CA_BUNDLE": "/etc/ssl/corporate.pem"}, tmp_path, aws=True) as env:
        (entry,) = json.loads(env["TF_REATTACH_PROVIDERS"]).values()
        assert env["AWS_CA_BUNDLE"] == "/etc/ssl/corporate.pem"  # terraform's own is kept
    assert entry["CaBundle"] == "unset"


def test_a_test_plan_is_read_without_its_provider_schemas_and_other_lines_whole() -> None:
    plan = {
        "plan_format_version": "1.2",
        "resource_changes": [{"type": "aws_sns_topic", "change": {"actions": ["create"]}}],
        "provider_format_version": "1.0",
        "provider_schemas": {"registry.terraform.io/hashicorp/aws": {"resource_schemas": {}}},
    }
    message = {"@level": "info", "@testrun": "real", "test_plan": plan, "type": "test_plan"}
    line = json.dumps(message, separators=(",", ":"))
    expected = {**message, "test_plan": {k: v for k, v in plan.items() if k != "provider_schemas"}}
    assert json_message(line) == expected
    # Keys in another order (the schemas not last): the line is decoded as it is.
    reordered = json.dumps({"type": "test_plan", "test_plan": plan}, separators=(",", ":"))
    assert json_message(reordered) == {"type": "test_plan", "test_plan": plan}
    diagnostic = '{"type":"diagnostic","diagnostic":{"summary":"x"}}'
    assert json_messages(f"Terraform has been initialized!\n{line}\n{diagnostic}\n") == [
        expected,
        json.loads(diagnostic),
    ]
