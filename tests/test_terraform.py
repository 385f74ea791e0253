"""terraform fmt / init / validate for the module and every example, the module's `terraform test`
suite, and a consumer in another directory that uses the module through a relative source."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from support.terraform import INSTALL_HINT, REPO_ROOT, terraform, terraform_env

pytestmark = pytest.mark.terraform


def _roots_under(directory: Path) -> list[Path]:
    """Every directory with a versions.tf below `directory` (nested ones too, such as
    examples/organization/member), never a module copy inside a .terraform directory."""
    return sorted(
        path.parent
        for path in directory.glob("**/versions.tf")
        if ".terraform" not in path.relative_to(directory).parts
    )


# Discovered at collection time: a new example or submodule with a versions.tf is checked
# without editing this.
EXAMPLE_DIRS = _roots_under(REPO_ROOT / "examples")
MODULE_DIRS = [REPO_ROOT, *_roots_under(REPO_ROOT / "modules"), *EXAMPLE_DIRS]


def _label(path: Path) -> str:
    return "module" if path == REPO_ROOT else path.relative_to(REPO_ROOT).as_posix()


@pytest.fixture(scope="session")
def tf_env() -> dict[str, str]:
    """The offline environment; a missing terraform fails (never skips) with an install hint."""
    if shutil.which(os.environ.get("TERRAFORM", "terraform")) is None:
        pytest.fail(f"terraform is not on PATH. {INSTALL_HINT}")
    return terraform_env()


@pytest.fixture(scope="session")
def initialized(tf_env: dict[str, str]) -> set[Path]:
    """Directories already initialised in this session (init once per directory)."""
    return set()


def _init(path: Path, tf_env: dict[str, str], initialized: set[Path]) -> None:
    if path not in initialized:
        terraform(["init", "-backend=false", "-no-color"], path, env=tf_env)
        initialized.add(path)


def test_every_terraform_file_is_formatted(tf_env: dict[str, str]) -> None:
    result = terraform(
        ["fmt", "-check", "-recursive", "-diff", "-no-color"], REPO_ROOT, env=tf_env, check=False
    )
    assert result.returncode == 0, f"run `make fmt`; unformatted files:\n{result.stdout}"


@pytest.mark.parametrize("path", MODULE_DIRS, ids=_label)
def test_configuration_initialises_offline_and_validates(
    path: Path, tf_env: dict[str, str], initialized: set[Path]
) -> None:
    _init(path, tf_env, initialized)
    result = terraform(["validate", "-no-color"], path, env=tf_env)
    assert "Success! The configuration is valid." in result.stdout


def test_module_terraform_test_suite_passes(tf_env: dict[str, str], initialized: set[Path]) -> None:
    _init(REPO_ROOT, tf_env, initialized)
    result = terraform(["test", "-no-color"], REPO_ROOT, env=tf_env, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert ", 0 failed" in result.stdout


CONSUMER_MAIN_TF = """\
terraform {
  required_version = ">= 1.5"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.0"
    }
  }
}

# Fake keys and no AWS calls at configure time: the plan runs without network or credentials.
provider "aws" {
  region                      = "eu-west-1"
  access_key                  = "AKIAIOSFODNN7EXAMPLE"
  secret_key                  = "fake-secret-for-offline-plans"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  skip_region_validation      = true
}

module "alarm_to_slack" {
  source = "{source}"

  name              = "consumer-alerts"
  slack_webhook_url = "https://hooks.slack.com/services/T000/B000/XXXX"
  ec2_instances = {
    web = { instance_id = "i-0123456789abcdef0" }
  }
}

output "lambda_function_name" {
  value = module.alarm_to_slack.lambda_function_name
}
"""


def test_consumer_elsewhere_validates_and_plans_with_a_relative_source(
    tmp_path: Path, tf_env: dict[str, str]
) -> None:
    consumer = tmp_path / "consumer"
    consumer.mkdir()
    source = os.path.relpath(REPO_ROOT, consumer)
    assert source.startswith("..")
    (consumer / "main.tf").write_text(CONSUMER_MAIN_TF.replace("{source}", source))

    terraform(["init", "-backend=false", "-no-color"], consumer, env=tf_env)
    # plan validates the configuration first: a separate `validate` would only repeat it.
    plan = terraform(["plan", "-no-color", "-input=false", "-lock=false"], consumer, env=tf_env)

    assert "module.alarm_to_slack.aws_lambda_function.this will be created" in plan.stdout
    assert 'module.alarm_to_slack.aws_cloudwatch_metric_alarm.this["ec2/web/cpu"]' in plan.stdout
    assert (consumer / "build" / "consumer-alerts-lambda.zip").is_file()
