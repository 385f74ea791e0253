"""Points a root module's aws provider at a local moto: an `*_override.tf` with fake keys and the
skip_* settings, and the endpoint in the environment of terraform and the provider.

The endpoint travels as AWS_ENDPOINT_URL (the AWS SDKs' shared setting, which hashicorp/aws 5.x
honours for every service; the e2e deployments reach moto through nothing else), not as an
`endpoints` block: the provider validates a configured `endpoints` block (one attribute
per AWS service) for about 3 s of CPU on every ValidateProviderConfig, twice per apply or destroy.
Measured on one example applied, re-planned and destroyed in moto: 20 s of provider CPU with a
14-service block, 4.6 s without it.

    write_aws_override(workdir)
    env = {**terraform_env(), **moto_endpoint_env(moto.endpoint)}
"""

from __future__ import annotations

import re
from pathlib import Path

OVERRIDE_FILE_NAME = "e2e_moto_override.tf"
# Used instead when the root module declares no `provider "aws"` block: an override file may only
# refine a block that exists ("Missing base provider configuration for override").
PROVIDER_FILE_NAME = "e2e_moto_provider.tf"

REPO_ROOT = Path(__file__).resolve().parents[2]
_FAKE_KEY = "testing"
_PROVIDER_AWS = re.compile(r'^\s*provider\s+"aws"\s*\{', re.MULTILINE)
_ALIAS = re.compile(r'^\s*alias\s*=\s*"([^"]+)"', re.MULTILINE)


class RepoTreeError(ValueError):
    """Refusing to write a moto override inside the repository's own tree."""


def _hcl_string(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("${", "$${")
    return f'"{escaped}"'


def moto_endpoint_env(endpoint: str) -> dict[str, str]:
    """The environment that sends every AWS call of terraform's aws provider to `endpoint`."""
    return {"AWS_ENDPOINT_URL": endpoint}


def provider_block(*, region: str | None = None, alias: str | None = None) -> str:
    """HCL for one `provider "aws"` block with fake credentials that never asks AWS who we are."""
    alias_line = f"  alias = {_hcl_string(alias)}\n\n" if alias else ""
    # No region: the module's own (e.g. var.aws_region) stays; moto serves every region.
    region_line = f"  region     = {_hcl_string(region)}\n" if region else ""
    return (
        'provider "aws" {\n'
        f"{alias_line}"
        f"{region_line}"
        f"  access_key = {_hcl_string(_FAKE_KEY)}\n"
        f"  secret_key = {_hcl_string(_FAKE_KEY)}\n"
        "\n"
        "  # Nothing here may ask real AWS (or the EC2 metadata service) who we are.\n"
        "  skip_credentials_validation = true\n"
        "  skip_requesting_account_id  = true\n"
        "  skip_metadata_api_check     = true\n"
        "  skip_region_validation      = true\n"
        "  s3_use_path_style           = true\n"
        "}\n"
    )


def _declared_provider_aliases(root: Path) -> list[str | None]:
    """Aliases of the `provider "aws"` blocks in root/*.tf (None = the default provider)."""
    aliases: list[str | None] = []
    for tf_file in sorted(root.glob("*.tf")):
        if tf_file.name in (OVERRIDE_FILE_NAME, PROVIDER_FILE_NAME):
            continue
        text = tf_file.read_text(encoding="utf-8")
        for match in _PROVIDER_AWS.finditer(text):
            # The block body up to its closing brace at column 0 (terraform fmt layout).
            end = text.find("\n}", match.end())
            body = text[match.end() : end if end != -1 else len(text)]
            alias = _ALIAS.search(body)
            aliases.append(alias.group(1) if alias else None)
    return aliases


def _inside(path: Path, parent: Path) -> bool:
    try:
        path.resolve().relative_to(parent.resolve())
    except ValueError:
        return False
    return True


def write_aws_override(
    root: Path,
    *,
    region: str | None = None,
    repo_root: Path = REPO_ROOT,
) -> Path:
    """Give every `provider "aws"` of the root module in `root` fake keys and the skip_* settings
    (the endpoint comes from moto_endpoint_env in the environment).

    Writes `e2e_moto_override.tf` next to the module's own provider block(s), merging over them
    (region, fake keys, skip_* settings); without any, writes a plain provider file.
    `root` must be a temporary copy: a path inside `repo_root` (this repository) is refused.
    """
    root = Path(root)
    if _inside(root, Path(repo_root)):
        raise RepoTreeError(f"{root} is inside the repository; copy the example first")
    aliases = _declared_provider_aliases(root)
    if aliases:
        blocks = [provider_block(region=region, alias=alias) for alias in aliases]
        target = root / OVERRIDE_FILE_NAME
    else:
        blocks = [provider_block(region=region or "us-east-1")]
        target = root / PROVIDER_FILE_NAME
    header = "# Written by tests/support/aws_override.py for the e2e test: local moto.\n\n"
    target.write_text(header + "\n".join(blocks), encoding="utf-8")
    return target
