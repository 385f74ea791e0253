"""modules/ec2-alarms creates exactly the alarms the root module's `ec2_instances` creates.

One fixture root calls both, the notifier (the root module, with `ec2_instances`) and the
submodule with the same instance and overrides, and is planned by `terraform test` with a mocked
aws provider. Every planned attribute of each alarm pair must be equal, so a default changed in
one place and not in the other fails here.
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from support.attached_providers import attached
from support.terraform import REPO_ROOT, json_messages, terraform, terraform_env

pytestmark = pytest.mark.terraform

INSTANCE_ID = "i-0123456789abcdef0"
TOPIC_ARN = "arn:aws:sns:eu-west-1:123456789012:parity-alarms"
FUNCTION_ARN = "arn:aws:lambda:eu-west-1:123456789012:function:parity"

# Each case: the ec2_instances entry of the root module (minus instance_id) and the same
# settings as arguments of modules/ec2-alarms.
CASES: dict[str, dict[str, object]] = {
    "defaults": {},
    "overrides": {
        "cpu_threshold": 95,
        "cpu_period": 300,
        "cpu_evaluation_periods": 5,
        "status_check_period": 120,
        "status_check_evaluation_periods": 3,
    },
    "cpu-only": {"enable_status_check_alarm": False},
    "status-only": {"enable_cpu_alarm": False},
}

MAIN_TF = """\
# terraform test hands its mock provider to the modules only through a provider block here.
provider "aws" {{
  region = "eu-west-1"
}}

module "notifier" {{
  source = {root}

  name              = "parity"
  slack_webhook_url = "https://hooks.slack.com/services/T000/B000/XXXX"
  # Without actions the module's health-alarm check fails the terraform test run.
  health_alarm_actions = ["arn:aws:sns:eu-west-1:123456789012:on-call-email"]
  tags              = {{ team = "platform" }}
  ec2_instances = {{
{entries}
  }}
}}
{submodules}
# Direct mode: the notifier's one permission for CloudWatch must cover the submodule's alarms.
module "direct" {{
  source = {root}

  name                 = "direct"
  slack_webhook_url    = "https://hooks.slack.com/services/T000/B000/XXXX"
  health_alarm_actions = ["arn:aws:sns:eu-west-1:123456789012:on-call-email"]
  alarm_action_target = "lambda"
  create_sns_topic    = false
}}

module "direct_web" {{
  source = {submodule}

  key               = "web"
  instance_id       = "{instance_id}"
  alarm_actions     = module.direct.alarm_actions
  alarm_name_prefix = module.direct.alarm_name_prefix
}}
"""

SUBMODULE = """
module "{key}" {{
  source = {source}

  key               = "{key}"
  instance_id       = "{instance_id}"
  alarm_actions     = module.notifier.alarm_actions
  alarm_name_prefix = module.notifier.alarm_name_prefix
  tags              = {{ team = "platform" }}
{arguments}
}}
"""

TEST_FILE = """\
mock_provider "aws" {
  override_during = plan

  mock_data "aws_partition" {
    defaults = { partition = "aws" }
  }
  mock_data "aws_region" {
    defaults = { name = "eu-west-1", endpoint = "ec2.eu-west-1.amazonaws.com" }
  }
  mock_data "aws_iam_policy_document" {
    defaults = { json = "{\\"Version\\":\\"2012-10-17\\",\\"Statement\\":[]}" }
  }
  mock_resource "aws_sns_topic" {
    defaults = { arn = "TOPIC_ARN" }
  }
  mock_resource "aws_lambda_function" {
    defaults = { arn = "FUNCTION_ARN" }
  }
  mock_resource "aws_iam_role" {
    defaults = { arn = "arn:aws:iam::123456789012:role/parity" }
  }
  mock_resource "aws_sqs_queue" {
    defaults = { arn = "arn:aws:sqs:eu-west-1:123456789012:parity-failures" }
  }
  mock_resource "aws_cloudwatch_log_group" {
    defaults = { arn = "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/parity" }
  }
}

run "parity" {
  command = plan
}
""".replace("TOPIC_ARN", TOPIC_ARN).replace("FUNCTION_ARN", FUNCTION_ARN)


def _hcl(value: object) -> str:
    return json.dumps(value) if not isinstance(value, bool) else str(value).lower()


def _fixture(root: Path) -> None:
    entries = "\n".join(
        f'    {key} = {{ instance_id = "{INSTANCE_ID}"'
        + "".join(f", {name} = {_hcl(value)}" for name, value in overrides.items())
        + " }"
        for key, overrides in CASES.items()
    )
    submodules = "".join(
        SUBMODULE.format(
            key=key,
            source=json.dumps(str(REPO_ROOT / "modules" / "ec2-alarms")),
            instance_id=INSTANCE_ID,
            arguments="\n".join(f"  {name} = {_hcl(value)}" for name, value in overrides.items()),
        )
        for key, overrides in CASES.items()
    )
    (root / "main.tf").write_text(
        MAIN_TF.format(
            root=json.dumps(str(REPO_ROOT)),
            submodule=json.dumps(str(REPO_ROOT / "modules" / "ec2-alarms")),
            instance_id=INSTANCE_ID,
            entries=entries,
            submodules=submodules,
        )
    )
    (root / "tests").mkdir()
    (root / "tests" / "parity.tftest.hcl").write_text(TEST_FILE)


@pytest.fixture(scope="module")
def planned(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Mapping[str, Any]]:
    """Planned attributes of every managed resource, by address."""
    root = tmp_path_factory.mktemp("ec2-alarms-parity")
    _fixture(root)
    with attached(terraform_env(), root, aws=True) as env:
        terraform(["init", "-backend=false", "-input=false", "-no-color"], root, env=env)
        result = terraform(["test", "-json", "-verbose", "-no-color"], root, env=env, check=False)
    plans = [m["test_plan"] for m in json_messages(result.stdout) if m.get("type") == "test_plan"]
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr
    (plan,) = plans
    return {
        change["address"]: change["change"]["after"]
        for change in plan["resource_changes"]
        if change["mode"] == "managed"
    }


@pytest.mark.parametrize("key", CASES)
@pytest.mark.parametrize(("check", "resource"), [("cpu", "cpu"), ("status-check", "status_check")])
def test_submodule_alarm_equals_the_root_modules_ec2_alarm(
    planned: dict[str, Mapping[str, Any]], key: str, check: str, resource: str
) -> None:
    from_root = planned.get(
        f'module.notifier.aws_cloudwatch_metric_alarm.this["ec2/{key}/{check}"]'
    )
    from_submodule = planned.get(f"module.{key}.aws_cloudwatch_metric_alarm.{resource}[0]")

    assert (from_root is None) == (from_submodule is None), "an alarm exists in one place only"
    if from_root is None:
        switch = "enable_cpu_alarm" if check == "cpu" else "enable_status_check_alarm"
        assert CASES[key].get(switch) is False, f"{key}/{check} is missing from both"
        return
    assert from_submodule is not None
    assert from_submodule["alarm_name"] == f"parity/{key}/{check}"
    assert from_submodule["alarm_actions"] == [TOPIC_ARN]
    # Names included: both follow <name>/<key>/<check>.
    differing = {
        name: (from_root.get(name), from_submodule.get(name))
        for name in set(from_root) | set(from_submodule)
        if from_root.get(name) != from_submodule.get(name)
    }
    assert differing == {}


def test_every_case_plans_the_expected_number_of_alarms(
    planned: dict[str, Mapping[str, Any]],
) -> None:
    submodule_alarms = [
        address
        for address in planned
        if address.split(".")[1] in CASES and ".aws_cloudwatch_metric_alarm." in address
    ]
    # defaults 2, overrides 2, cpu-only 1, status-only 1
    assert len(submodule_alarms) == 6, sorted(submodule_alarms)


def test_in_direct_mode_the_notifiers_permission_covers_the_submodules_alarms(
    planned: dict[str, Mapping[str, Any]],
) -> None:
    permission = planned["module.direct.aws_lambda_permission.alarms[0]"]
    assert permission["principal"] == "lambda.alarms.cloudwatch.amazonaws.com"
    for resource in ("cpu", "status_check"):
        alarm = planned[f"module.direct_web.aws_cloudwatch_metric_alarm.{resource}[0]"]
        assert alarm["alarm_actions"] == [FUNCTION_ARN]
        arn = f"arn:aws:cloudwatch:eu-west-1:123456789012:alarm:{alarm['alarm_name']}"
        assert fnmatch.fnmatchcase(arn, permission["source_arn"]), (arn, permission["source_arn"])
    # ... and nothing of another notifier: "parity/..." alarms are outside "direct/*".
    parity = planned["module.defaults.aws_cloudwatch_metric_alarm.cpu[0]"]["alarm_name"]
    other = f"arn:aws:cloudwatch:eu-west-1:123456789012:alarm:{parity}"
    assert not fnmatch.fnmatchcase(other, permission["source_arn"])
