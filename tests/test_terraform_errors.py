"""Input errors name the offending key or value: `terraform validate` / `plan` on a small root.

`expect_failures` in a .tftest.hcl file proves that a rule fires, not what it says; these tests
read the diagnostics (as JSON, so no line wrapping gets in the way) and check the text.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from support.terraform import INSTALL_HINT, REPO_ROOT, terraform, terraform_env

pytestmark = pytest.mark.terraform

ROOT_TF = """\
terraform {
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

  name              = "prod"
  slack_webhook_url = "https://hooks.slack.com/services/T000/B000/XXXX"
{inputs}
}
"""


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """A consumer root, initialised once; each test rewrites its module inputs."""
    if shutil.which(os.environ.get("TERRAFORM", "terraform")) is None:
        pytest.fail(f"terraform is not on PATH. {INSTALL_HINT}")
    env = terraform_env()
    path = tmp_path_factory.mktemp("errors")
    write_inputs(path, "")
    terraform(["init", "-backend=false", "-no-color"], path, env=env)
    return path, env


def write_inputs(path: Path, inputs: str) -> None:
    source = os.path.relpath(REPO_ROOT, path)
    (path / "main.tf").write_text(ROOT_TF.replace("{source}", source).replace("{inputs}", inputs))


def validate_errors(root: tuple[Path, dict[str, str]], inputs: str) -> list[str]:
    path, env = root
    write_inputs(path, inputs)
    result = terraform(["validate", "-json", "-no-color"], path, env=env, check=False)
    report = json.loads(result.stdout)
    return [
        f"{d['summary']}: {d.get('detail', '')}"
        for d in report["diagnostics"]
        if d["severity"] == "error"
    ]


def plan_errors(root: tuple[Path, dict[str, str]], inputs: str) -> list[str]:
    path, env = root
    write_inputs(path, inputs)
    result = terraform(
        ["plan", "-json", "-input=false", "-lock=false", "-no-color"], path, env=env, check=False
    )
    errors = []
    for line in result.stdout.splitlines():
        message = json.loads(line)
        if message.get("type") == "diagnostic" and message["diagnostic"]["severity"] == "error":
            diagnostic = message["diagnostic"]
            errors.append(f"{diagnostic['summary']}: {diagnostic.get('detail', '')}")
    return errors


# Every rule broken at once, next to valid entries: one `validate` reports them all, and each
# error must name the bad entries and none of the good ones ("web", "ok-one", "ok-topic").
ALL_INVALID = """
  ec2_instances = {
    web         = { instance_id = "i-0123456789abcdef0" }
    "db server" = { instance_id = "i-0123456789abcdef1" }
    "db/2"      = { instance_id = "i-0123456789abcdef2" }
    badid       = { instance_id = "db-1" }
    hot         = { instance_id = "i-0123456789abcdef3", cpu_threshold = 180 }
    slow        = { instance_id = "i-0123456789abcdef4", status_check_period = 90 }
    never       = { instance_id = "i-0123456789abcdef5", cpu_evaluation_periods = 0 }
  }
  alarms = {
    ok-one        = { namespace = "N", metric_name = "M", threshold = 1 }
    "queue/depth" = { namespace = "N", metric_name = "M", threshold = 1 }
    by-p99        = { namespace = "N", metric_name = "M", threshold = 1, statistic = "p99" }
    above = {
      namespace = "N", metric_name = "M", threshold = 1, comparison_operator = "Above"
    }
    zero = {
      namespace = "N", metric_name = "M", threshold = 1, treat_missing_data = "zero"
    }
    every-90s     = { namespace = "N", metric_name = "M", threshold = 1, period = 90 }
    too-many      = { namespace = "N", metric_name = "M", threshold = 1, datapoints_to_alarm = 3 }
  }
  failure_queue_alarm_actions = [
    "arn:aws:sns:eu-west-1:123456789012:ok-topic",
    "arn:aws:sns:eu-west-1:123456789012:*",
  ]
  health_alarm_actions             = ["arn:aws:sns:eu-west-1:123456789012:on-call?"]
  timezone                         = "Asia/Seol"
  lambda_timeout                   = 3
  failure_queue_kms_master_key_id  = "arn:aws:kms:eu-west-1:123456789012:key/?"
  slack_webhook_allowed_hosts      = ["proxy.example.com", "Proxy.Example"]
"""

# (the error's first words, what it must name, what it must not name)
EXPECTED = [
    ("ec2_instances keys", ['"db server"', '"db/2"'], ["web", "badid"]),
    ("ec2_instances instance_id", ['badid ("db-1")'], ["web", "hot"]),
    ("ec2_instances cpu_threshold", ["hot (180)"], ["web", "badid"]),
    ("ec2_instances cpu_period", ["slow"], ["web", "hot"]),
    ("ec2_instances evaluation periods", ["never"], ["web", "slow"]),
    ("alarms keys", ['"queue/depth"'], ["ok-one", "by-p99"]),
    ("alarms statistic", ['by-p99 ("p99")'], ["ok-one", "above"]),
    ("alarms comparison_operator", ['above ("Above")'], ["ok-one", "by-p99"]),
    ("alarms treat_missing_data", ['zero ("zero")'], ["ok-one", "above"]),
    ("alarms period", ["every-90s (90)"], ["ok-one", "zero"]),
    ("alarms evaluation_periods", ["too-many"], ["ok-one", "every-90s"]),
    ("failure_queue_alarm_actions", ['"arn:aws:sns:eu-west-1:123456789012:*"'], ["ok-topic"]),
    ("health_alarm_actions", ['"arn:aws:sns:eu-west-1:123456789012:on-call?"'], []),
    ("timezone", ['"Asia/Seol"'], []),
    ("lambda_timeout", ["not 3"], []),
    ("slack_webhook_allowed_hosts", ['"Proxy.Example"'], ["proxy.example.com"]),
    (
        "failure_queue_kms_master_key_id must name exactly one",
        ['"arn:aws:kms:eu-west-1:123456789012:key/?"', "wildcard"],
        [],
    ),
]


@pytest.fixture(scope="module")
def all_invalid_errors(root: tuple[Path, dict[str, str]]) -> list[str]:
    return validate_errors(root, ALL_INVALID)


@pytest.mark.parametrize(("start", "named", "not_named"), EXPECTED, ids=[e[0] for e in EXPECTED])
def test_a_validation_error_names_the_offending_key_or_value(
    all_invalid_errors: list[str], start: str, named: list[str], not_named: list[str]
) -> None:
    (error,) = [e for e in all_invalid_errors if e.split(": ", 1)[1].startswith(start)]
    for text in named:
        assert text in error, error
    for text in not_named:
        assert text not in error, error


def test_every_broken_rule_was_reported(all_invalid_errors: list[str]) -> None:
    assert len(all_invalid_errors) == len(EXPECTED), all_invalid_errors


def test_a_wildcard_webhook_parameter_is_named(root: tuple[Path, dict[str, str]]) -> None:
    # Its own plan, without the URL: the parameter's rules also compare it with
    # slack_webhook_url, and Terraform reports a variable's rules only once they can all be
    # evaluated (module inputs are unknown to `validate`).
    inputs = (
        '\n  slack_webhook_ssm_parameter_name = "arn:aws:ssm:eu-west-1:123456789012:parameter/*"'
    )
    source = ROOT_TF.replace(
        '  slack_webhook_url = "https://hooks.slack.com/services/T000/B000/XXXX"\n', ""
    )
    path, env = root
    relative = os.path.relpath(REPO_ROOT, path)
    (path / "main.tf").write_text(source.replace("{source}", relative).replace("{inputs}", inputs))
    result = terraform(
        ["plan", "-json", "-input=false", "-lock=false", "-no-color"], path, env=env, check=False
    )
    errors = [
        json.loads(line)["diagnostic"].get("detail", "")
        for line in result.stdout.splitlines()
        if json.loads(line).get("type") == "diagnostic"
    ]
    (error,) = [e for e in errors if "slack_webhook_ssm_parameter_name must name exactly one" in e]
    assert '"arn:aws:ssm:eu-west-1:123456789012:parameter/*"' in error
    assert "wildcard" in error


def test_a_wildcard_kms_key_of_the_webhook_parameter_is_named(
    root: tuple[Path, dict[str, str]],
) -> None:
    # Its own plan: the key's rules read slack_webhook_ssm_parameter_name, and Terraform skips
    # a rule whose other input failed already (as it does in ALL_INVALID).
    inputs = """
  slack_webhook_ssm_parameter_name = "/alerts/slack-webhook"
  slack_webhook_ssm_kms_key_arn    = "arn:aws:kms:eu-west-1:123456789012:key/*"
"""
    (error,) = validate_errors(root, inputs)
    assert "slack_webhook_ssm_kms_key_arn must name exactly one" in error
    assert '"arn:aws:kms:eu-west-1:123456789012:key/*"' in error


def test_the_webhook_host_error_never_shows_the_url(root: tuple[Path, dict[str, str]]) -> None:
    inputs = '\n  slack_webhook_url = "https://hooks.example.com/services/T000/B000/host-secret"'
    source = ROOT_TF.replace(
        '  slack_webhook_url = "https://hooks.slack.com/services/T000/B000/XXXX"\n', ""
    )
    path, env = root
    relative = os.path.relpath(REPO_ROOT, path)
    (path / "main.tf").write_text(source.replace("{source}", relative).replace("{inputs}", inputs))
    # A rule that reads another variable is checked at plan, not by `validate`.
    result = terraform(
        ["plan", "-json", "-input=false", "-lock=false", "-no-color"], path, env=env, check=False
    )
    errors = [
        json.loads(line)["diagnostic"].get("detail", "")
        for line in result.stdout.splitlines()
        if json.loads(line).get("type") == "diagnostic"
    ]
    assert any("slack_webhook_allowed_hosts" in error for error in errors), errors
    # The message itself never repeats the URL. (Terraform's snippet of the caller's source
    # shows the literal the caller wrote; that is the caller's own file.)
    assert not [error for error in errors if "host-secret" in error]


def test_the_duplicate_name_error_names_exactly_the_colliding_alarms(
    root: tuple[Path, dict[str, str]],
) -> None:
    inputs = """
  ec2_instances = {
    web = { instance_id = "i-0123456789abcdef0" }
  }
  alarms = {
    failure-queue-not-empty = { namespace = "AWS/SQS", metric_name = "X", threshold = 1 }
    function-health         = { namespace = "AWS/SQS", metric_name = "X", threshold = 1 }
    queue-depth             = { namespace = "AWS/SQS", metric_name = "X", threshold = 1 }
  }"""
    errors = plan_errors(root, inputs)
    assert errors
    for error in errors:
        assert "prod/failure-queue-not-empty, prod/function-health:" in error, error
        assert "queue-depth" not in error
        assert "web" not in error
