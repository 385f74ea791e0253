"""terraform fmt / init / validate for the module and its submodules, and a consumer in another
directory that uses the module through a relative source: its plan, its dependency graph and a
plan from a state of the former inbox policy resources. The module's `terraform test` suites
are run by tests/test_terraform_suites.py."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from support.attached_providers import attached, plan_errors
from support.terraform import (
    ARCHIVE_VERSION,
    BUILD_DIR,
    REPO_ROOT,
    json_messages,
    terraform,
)

pytestmark = pytest.mark.terraform


def _roots_under(directory: Path) -> list[Path]:
    """Every directory with a versions.tf below `directory` (nested ones too, such as
    examples/organization/member), never a module copy inside a .terraform directory."""
    return sorted(
        path.parent
        for path in directory.glob("**/versions.tf")
        if ".terraform" not in path.relative_to(directory).parts
    )


# Discovered at collection time: a new submodule with a versions.tf is checked without editing
# this. The examples are not validated here: tests/test_examples.py inits every example offline
# and plans it (a plan validates first), and checks that it missed none.
SUBMODULE_DIRS = _roots_under(REPO_ROOT / "modules")
MODULE_DIRS = [REPO_ROOT, *SUBMODULE_DIRS]


def _label(path: Path) -> str:
    return "module" if path == REPO_ROOT else path.relative_to(REPO_ROOT).as_posix()


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
    _init(path, tf_env, initialized)  # installs the providers itself, as a user's init does
    with attached(tf_env, path, aws=True) as env:
        result = terraform(["validate", "-no-color"], path, env=env)
    assert "Success! The configuration is valid." in result.stdout


CONSUMER_MAIN_TF = """\
terraform {
  required_version = ">= 1.9"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.0, < 7.0"
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


@pytest.fixture(scope="module")
def consumer(
    tmp_path_factory: pytest.TempPathFactory, tf_env: dict[str, str]
) -> Iterator[tuple[Path, dict[str, str]]]:
    """A root in another directory that uses the module by a relative source, initialised, and
    the environment of its shared provider processes."""
    consumer = tmp_path_factory.mktemp("elsewhere") / "consumer"
    consumer.mkdir()
    source = os.path.relpath(REPO_ROOT, consumer)
    assert source.startswith("..")
    (consumer / "main.tf").write_text(CONSUMER_MAIN_TF.replace("{source}", source))
    terraform(["init", "-backend=false", "-no-color"], consumer, env=tf_env)
    with attached(tf_env, consumer, aws=True) as env:
        yield consumer, env


def test_consumer_elsewhere_validates_and_plans_with_a_relative_source(
    consumer: tuple[Path, dict[str, str]],
) -> None:
    root, env = consumer
    # plan validates the configuration first: a separate `validate` would only repeat it.
    plan = terraform(["plan", "-no-color", "-input=false", "-lock=false"], root, env=env)

    assert "module.alarm_to_slack.aws_lambda_function.this will be created" in plan.stdout
    assert 'module.alarm_to_slack.aws_cloudwatch_metric_alarm.this["ec2/web/cpu"]' in plan.stdout
    assert (root / "build" / "consumer-alerts-lambda.zip").is_file()
    # With the offline mirror the lock file names the stand-in's version, which no real release
    # has: committed by mistake, it fails a real `terraform init` by name (docs/quick-start.md,
    # step 4).
    lock = (root / ".terraform.lock.hcl").read_text()
    archive_lock = lock.split('provider "registry.terraform.io/hashicorp/archive"', 1)[1]
    if (BUILD_DIR / "mirror/registry.terraform.io/hashicorp/archive" / ARCHIVE_VERSION).is_dir():
        assert f'version     = "{ARCHIVE_VERSION}"' in archive_lock.split("}", 1)[0]


def _depends_on(edges: list[tuple[str, str]], start: str) -> set[str]:
    """Every node `start` waits for, directly or not (edges point from a node to what it needs)."""
    needs: dict[str, set[str]] = {}
    for node, needed in edges:
        needs.setdefault(node, set()).add(needed)
    seen: set[str] = set()
    pending = [start]
    while pending:
        for needed in needs.get(pending.pop(), set()) - seen:
            seen.add(needed)
            pending.append(needed)
    return seen


def test_the_inbox_and_the_event_rules_do_not_wait_for_the_function(
    consumer: tuple[Path, dict[str, str]],
) -> None:
    """Creating the function takes seconds, the inbox's SQS wait about 25 s. The account in the
    rules' pattern and in the inbox policy comes from the role, so none of them waits for the
    function."""
    root, env = consumer
    graph = terraform(["graph", "-no-color"], root, env=env).stdout
    edges = re.findall(r'^\s*"([^"]+)" -> "([^"]+)"', graph, flags=re.MULTILINE)
    prefix = "module.alarm_to_slack."
    function = f"{prefix}aws_lambda_function.this"

    assert function in _depends_on(edges, f"{prefix}aws_lambda_event_source_mapping.inbox")
    for node in (
        "aws_sqs_queue.inbox",
        "aws_sns_topic_subscription.inbox",
        "aws_cloudwatch_event_rule.alarm_state_changes",
        "aws_cloudwatch_event_rule.central_alarm_state_changes",
    ):
        assert f'"{prefix}{node}"' in graph, node
        assert function not in _depends_on(edges, prefix + node), node


def _policy_resources_of_an_earlier_commit(queue_url: str) -> dict[str, object]:
    """A state (format 4) holding what inbox.tf created before the inbox set its own policies."""
    provider = 'provider["registry.terraform.io/hashicorp/aws"]'

    def resource(resource_type: str, schema_version: int, attribute: str) -> dict[str, object]:
        attributes = {"id": queue_url, "queue_url": queue_url, attribute: "{}"}
        return {
            "module": "module.alarm_to_slack",
            "mode": "managed",
            "type": resource_type,
            "name": "inbox",
            "provider": provider,
            "instances": [
                {"index_key": 0, "schema_version": schema_version, "attributes": attributes}
            ],
        }

    return {
        "version": 4,
        "terraform_version": "1.9.0",
        "serial": 1,
        "lineage": "6d0c1a52-0000-4000-8000-000000000000",
        "outputs": {},
        "resources": [
            resource("aws_sqs_queue_policy", 1, "policy"),
            resource("aws_sqs_queue_redrive_policy", 0, "redrive_policy"),
        ],
    }


def test_a_state_with_the_former_policy_resources_forgets_them_and_destroys_nothing(
    consumer: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    """Destroying the former aws_sqs_queue_policy would clear the policy the inbox now sets
    itself: the removed blocks of inbox.tf make Terraform forget both resources instead."""
    root, env = consumer
    queue_url = "https://sqs.eu-west-1.amazonaws.com/123456789012/consumer-alerts-inbox"
    state = tmp_path / "earlier.tfstate"
    state.write_text(json.dumps(_policy_resources_of_an_earlier_commit(queue_url)))
    # -state (deprecated, still the local backend's way) keeps the shared root's own state empty.
    plan = ["plan", "-json", "-no-color", "-input=false", "-lock=false", "-refresh=false"]
    result = terraform([*plan, f"-state={state}"], root, env=env)
    actions = {
        message["change"]["resource"]["addr"]: message["change"]["action"]
        for message in json_messages(result.stdout)
        if message.get("type") == "planned_change"
    }

    prefix = "module.alarm_to_slack."
    assert actions[f"{prefix}aws_sqs_queue_policy.inbox[0]"] == "remove"
    assert actions[f"{prefix}aws_sqs_queue_redrive_policy.inbox[0]"] == "remove"
    assert actions[f"{prefix}aws_sqs_queue.inbox[0]"] == "create"
    assert "delete" not in actions.values()


# Each module call breaks one cross-variable rule (variable validations that refer to other
# variables, Terraform >= 1.9). `terraform validate` treats module inputs as unknown and cannot
# check them (measured with Terraform 1.11); `terraform plan` rejects them as invalid inputs with
# the rule's own message, pointing at the offending argument of the module block.
RULE_BREAKERS = {
    "both_webhook_sources": (
        """
  slack_webhook_url                = "https://hooks.slack.com/services/T000/B000/XXXX"
  slack_webhook_ssm_parameter_name = "/alerts/slack-webhook"
""",
        "Set exactly one of slack_webhook_url and slack_webhook_ssm_parameter_name",
    ),
    "no_webhook_source": (
        "",
        "Set exactly one of slack_webhook_url and slack_webhook_ssm_parameter_name",
    ),
    "topic_arn_with_created_topic": (
        """
  slack_webhook_url = "https://hooks.slack.com/services/T000/B000/XXXX"
  sns_topic_arn     = "arn:aws:sns:eu-west-1:123456789012:existing"
""",
        "sns_topic_arn subscribes an existing topic: set create_sns_topic = false with it.",
    ),
    "sns_mode_without_topic": (
        """
  slack_webhook_url = "https://hooks.slack.com/services/T000/B000/XXXX"
  create_sns_topic  = false
""",
        'alarm_action_target = "sns" needs a topic',
    ),
    "kms_key_without_parameter": (
        """
  slack_webhook_url             = "https://hooks.slack.com/services/T000/B000/XXXX"
  slack_webhook_ssm_kms_key_arn = "arn:aws:kms:eu-west-1:123456789012:key/abcd"
""",
        "slack_webhook_ssm_kms_key_arn is only used with slack_webhook_ssm_parameter_name",
    ),
}

OFFLINE_PROVIDER = """
provider "aws" {
  region                      = "eu-west-1"
  access_key                  = "AKIAIOSFODNN7EXAMPLE"
  secret_key                  = "fake-secret-for-offline-plans"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
}
"""


def test_cross_variable_rules_stop_the_plan_with_their_own_message(
    tmp_path: Path, tf_env: dict[str, str]
) -> None:
    source = json.dumps(str(REPO_ROOT))
    (tmp_path / "main.tf").write_text(
        OFFLINE_PROVIDER
        + "".join(
            f'module "{name}" {{\n  source = {source}\n  name   = "{name.replace("_", "-")}"\n'
            f"{arguments}}}\n\n"
            for name, (arguments, _) in RULE_BREAKERS.items()
        )
    )
    result, errors = plan_errors(tmp_path, tf_env)

    assert result.returncode == 1, result.stdout[-3000:]
    # One error per module call, each with the rule's message; an input that was passed is
    # pointed at in its module block (a broken default has no source line to point at).
    assert sorted(error["summary"] for error in errors) == ["Invalid value for variable"] * len(
        RULE_BREAKERS
    )
    for name, (_, message) in RULE_BREAKERS.items():
        matching = [error for error in errors if message in " ".join(error["detail"].split())]
        assert matching, f"{name}: no error says {message!r}"
        if name in (
            "both_webhook_sources",
            "topic_arn_with_created_topic",
            "kms_key_without_parameter",
        ):
            contexts = {error.get("snippet", {}).get("context") for error in matching}
            assert f'module "{name}"' in contexts, f"{name}: {contexts}"
