"""Input errors name the offending key or value: `terraform plan` on two roots of module calls.

`expect_failures` in a .tftest.hcl file proves that a rule fires, not what it says; these tests
read the diagnostics (as JSON, so no line wrapping gets in the way) and check the text.
"""

from __future__ import annotations

import json
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from support.attached_providers import plan_errors
from support.terraform import REPO_ROOT

pytestmark = pytest.mark.terraform

PROVIDERS_TF = """\
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
"""

WEBHOOK = '  slack_webhook_url = "https://hooks.slack.com/services/T000/B000/XXXX"\n'


def module_call(name: str, inputs: str | tuple[str, str], source: str) -> str:
    """A call of the module named `name` (also its `name` input) with `inputs` as written, or,
    for a (submodule directory, inputs) pair, a call of that submodule with its inputs alone."""
    if isinstance(inputs, tuple):
        directory, arguments = inputs
        submodule = json.dumps(f"{source}/{directory}")
        return f'module "{name}" {{\n  source = {submodule}\n{arguments}\n}}\n'
    return (
        f'module "{name}" {{\n  source = {json.dumps(source)}\n\n  name = "{name}"\n{inputs}\n}}\n'
    )


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
    patient     = { instance_id = "i-0123456789abcdef6", status_check_evaluation_periods = 1441 }
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
    long-watch = {
      namespace = "N", metric_name = "M", threshold = 1, period = 300, evaluation_periods = 300
    }
  }
  failure_queue_alarm_actions = [
    "arn:aws:sns:eu-west-1:123456789012:ok-topic",
    "arn:aws:sns:eu-west-1:123456789012:*",
  ]
  health_alarm_actions             = ["arn:aws:sns:eu-west-1:123456789012:on-call?"]
  health_alarm_period              = 1209600
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
    ("alarms period must", ["every-90s (90)"], ["ok-one", "zero"]),
    # CloudWatch: period x evaluation periods <= 1 day under an hour's period, else 7 days.
    (
        "alarms period x evaluation_periods",
        ["long-watch (300 s x 300 = 90000 s)", "86400"],
        ["ok-one", "every-90s"],
    ),
    (
        "ec2_instances period x evaluation periods",
        ["ec2/patient/status-check (60 s x 1441 = 86460 s)"],
        ["web", "ec2/patient/cpu"],
    ),
    ("health_alarm_period x 1", ["function-health", "1209600 s", "604800"], []),
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


# Two roots, each planned once with several module calls side by side. Terraform checks every
# variable rule of every call before it plans (all of the first root's errors come from there)
# and stops if one fails, so the rules checked while planning (a precondition, a rule that reads
# a value only known then) need a root of their own. A variable error points at the offending
# argument of its module block; the duplicate-name precondition names the module's `name`.
CHECKED_BEFORE_PLANNING = {
    "invalid": WEBHOOK + ALL_INVALID,
    # Without the URL: the parameter's rules also compare it with slack_webhook_url.
    "param": """
  slack_webhook_ssm_parameter_name = "arn:aws:ssm:eu-west-1:123456789012:parameter/*"
""",
    # The key's rules read slack_webhook_ssm_parameter_name, and Terraform skips a rule whose
    # other input failed already (as it does in ALL_INVALID): a call of its own.
    "kms": """
  slack_webhook_ssm_parameter_name = "/alerts/slack-webhook"
  slack_webhook_ssm_kms_key_arn    = "arn:aws:kms:eu-west-1:123456789012:key/*"
""",
    # CloudWatch alarms and Lambda cannot use a FIFO topic.
    "fifo": WEBHOOK
    + """
  create_sns_topic = false
  sns_topic_arn    = "arn:aws:sns:eu-west-1:123456789012:alerts.fifo"
""",
    # modules/forwarder: the rule <name>-forward-alarm-state-changes has 64 characters at most.
    "forwarder": (
        "modules/forwarder",
        """
  name                  = "a-37-character-name-for-the-forwarder"
  central_event_bus_arn = "arn:aws:events:eu-west-1:111122223333:event-bus/alerts-alarm-events"
""",
    ),
}
CHECKED_WHILE_PLANNING = {
    "host": '  slack_webhook_url = "https://hooks.example.com/services/T000/B000/host-secret"',
    "prod": WEBHOOK
    + """
  ec2_instances = {
    web = { instance_id = "i-0123456789abcdef0" }
  }
  alarms = {
    failure-queue-not-empty = { namespace = "AWS/SQS", metric_name = "X", threshold = 1 }
    function-health         = { namespace = "AWS/SQS", metric_name = "X", threshold = 1 }
    queue-depth             = { namespace = "AWS/SQS", metric_name = "X", threshold = 1 }
  }""",
    # A secret pasted where a parameter name belongs: refused, and never repeated. A
    # precondition, not a variable rule: Terraform prints every value a failing rule reads.
    "tokenurl": """
  slack_webhook_ssm_parameter_name = "https://hooks.slack.com/services/T000/B000/tf-leak42"
""",
    "tokenbot": """
  slack_bot_token_ssm_parameter_name = "xoxb-1234-5678-tf-leak42"
  slack_channel_id                   = "C0123456789"
""",
    # 100 accounts with long names: ACCOUNT_NAMES alone is over Lambda's 4 KB.
    "envsize": WEBHOOK
    + "  account_names = {\n"
    + "".join(f'    "1111{n:08d}" = "payments-production-account-{n:02d}"\n' for n in range(100))
    + "  }\n",
    "region": WEBHOOK
    + """
  create_sns_topic = false
  sns_topic_arn    = "arn:aws:sns:us-east-1:123456789012:alerts"
""",
    # The rule <name>-central-alarm-state-changes would have 65 characters (a rule across
    # variables: checked while planning).
    "central-bus-name-of-37-characters-xyz": WEBHOOK
    + """
  central_event_bus_arn = "arn:aws:events:eu-west-1:123456789012:event-bus/org-alarms"
""",
    # modules/ec2-alarms: 3600 s x 169 periods is over CloudWatch's 7 days.
    "ec2web": (
        "modules/ec2-alarms",
        """
  key               = "web"
  instance_id       = "i-0123456789abcdef0"
  alarm_actions     = ["arn:aws:sns:eu-west-1:123456789012:alerts-alarms"]
  alarm_name_prefix = "alerts/"
  cpu_period             = 3600
  cpu_evaluation_periods = 169
""",
    ),
}


def _plan_calls(
    path: Path, calls: dict[str, str | tuple[str, str]], env: dict[str, str]
) -> list[dict[str, Any]]:
    """The error diagnostics of `terraform plan -json` on a root with these module calls."""
    path.mkdir()
    source = os.path.relpath(REPO_ROOT, path)
    (path / "main.tf").write_text(
        PROVIDERS_TF + "".join(f"\n{module_call(n, i, source)}" for n, i in calls.items())
    )
    result, errors = plan_errors(path, env)
    assert result.returncode == 1, result.stdout[-3000:] + result.stderr
    return errors


@pytest.fixture(scope="module")
def errors(
    tf_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> list[dict[str, Any]]:
    """Every error diagnostic of both roots (planned at the same time)."""
    tmp = tmp_path_factory.mktemp("errors")
    with ThreadPoolExecutor(max_workers=2) as pool:
        before = pool.submit(_plan_calls, tmp / "before", CHECKED_BEFORE_PLANNING, tf_env)
        during = pool.submit(_plan_calls, tmp / "during", CHECKED_WHILE_PLANNING, tf_env)
        return before.result() + during.result()


def of_call(errors: list[dict[str, Any]], name: str) -> list[str]:
    """`summary: detail` of the errors that point at module "<name>"."""
    return [
        f"{e['summary']}: {e.get('detail', '')}"
        for e in errors
        if e.get("snippet", {}).get("context") == f'module "{name}"'
    ]


@pytest.mark.parametrize(("start", "named", "not_named"), EXPECTED, ids=[e[0] for e in EXPECTED])
def test_a_validation_error_names_the_offending_key_or_value(
    errors: list[dict[str, Any]], start: str, named: list[str], not_named: list[str]
) -> None:
    (error,) = [e for e in of_call(errors, "invalid") if e.split(": ", 1)[1].startswith(start)]
    for text in named:
        assert text in error, error
    for text in not_named:
        assert text not in error, error


def test_every_broken_rule_was_reported(errors: list[dict[str, Any]]) -> None:
    assert len(of_call(errors, "invalid")) == len(EXPECTED), of_call(errors, "invalid")


def test_a_wildcard_webhook_parameter_is_named(errors: list[dict[str, Any]]) -> None:
    (error,) = of_call(errors, "param")
    assert "slack_webhook_ssm_parameter_name must name exactly one" in error
    assert '"arn:aws:ssm:eu-west-1:123456789012:parameter/*"' in error
    assert "wildcard" in error


def test_a_wildcard_kms_key_of_the_webhook_parameter_is_named(
    errors: list[dict[str, Any]],
) -> None:
    (error,) = of_call(errors, "kms")
    assert "slack_webhook_ssm_kms_key_arn must name exactly one" in error
    assert '"arn:aws:kms:eu-west-1:123456789012:key/*"' in error


def test_the_webhook_host_error_never_shows_the_url(errors: list[dict[str, Any]]) -> None:
    (error,) = of_call(errors, "host")
    assert "slack_webhook_allowed_hosts" in error
    # No message repeats the URL. (Terraform's snippet of the caller's source shows the literal
    # the caller wrote; that is the caller's own file, and it is not part of the message.)
    assert not [e for e in errors if "host-secret" in e["summary"] + e.get("detail", "")]


def test_the_duplicate_name_error_names_exactly_the_colliding_alarms(
    errors: list[dict[str, Any]],
) -> None:
    # A precondition points at its resource block, not the module call: found by its text.
    preconditions = [
        e.get("detail", "")
        for e in errors
        if e["summary"] == "Resource precondition failed"
        and "Several alarms" in e.get("detail", "")
    ]
    assert preconditions
    for error in preconditions:
        assert "prod/failure-queue-not-empty, prod/function-health:" in error, error
        assert "queue-depth" not in error
        assert "web" not in error


def _text(error: dict[str, Any]) -> str:
    return f"{error['summary']}: {' '.join(error.get('detail', '').split())}"


def test_a_fifo_topic_is_refused_by_name(errors: list[dict[str, Any]]) -> None:
    (error,) = of_call(errors, "fifo")
    assert "sns_topic_arn must be a standard topic" in error
    assert '"arn:aws:sns:eu-west-1:123456789012:alerts.fifo"' in error


def test_a_topic_of_another_region_stops_the_plan_naming_both_regions(
    errors: list[dict[str, Any]],
) -> None:
    (error,) = [_text(e) for e in errors if "is a topic in us-east-1" in _text(e)]
    assert '"arn:aws:sns:us-east-1:123456789012:alerts"' in error
    assert "not in this module's region (eu-west-1)" in error


@pytest.mark.parametrize(
    "variable", ["slack_webhook_ssm_parameter_name", "slack_bot_token_ssm_parameter_name"]
)
def test_a_parameter_name_that_looks_like_a_secret_is_refused_without_repeating_it(
    errors: list[dict[str, Any]], variable: str
) -> None:
    found = [_text(e) for e in errors if _text(e).startswith("Resource precondition failed")]
    assert [e for e in found if f"{variable} looks like a Slack token or a URL" in e], found
    # Neither the message nor anything Terraform evaluated for it repeats the value. (The snippet
    # quotes the caller's own source line, as for every error; that file is the caller's.)
    every_text = json.dumps(
        [[e["summary"], e.get("detail", ""), e.get("snippet", {}).get("values")] for e in errors]
    )
    assert "tf-leak42" not in every_text


def test_the_environment_over_4_kb_stops_the_plan_naming_its_largest_variables(
    errors: list[dict[str, Any]],
) -> None:
    (error,) = [_text(e) for e in errors if "environment variables take" in _text(e)]
    size = int(error.split("environment variables take ", 1)[1].split(" ", 1)[0])
    assert size > 4096, error
    assert "over Lambda's limit of 4 KB (4096 bytes)" in error
    largest = error.split("The largest: ", 1)[1]
    assert largest.startswith("ACCOUNT_NAMES ("), error
    assert "XXXX" not in error  # the webhook URL's secret part


def test_a_name_too_long_for_the_central_bus_rule_is_refused(
    errors: list[dict[str, Any]],
) -> None:
    (error,) = of_call(errors, "central-bus-name-of-37-characters-xyz")
    assert 'name "central-bus-name-of-37-characters-xyz" has 37 characters' in error
    assert "would have 65" in error
    assert "at most 36" in error


def test_modules_forwarder_refuses_a_name_its_rule_cannot_carry(
    errors: list[dict[str, Any]],
) -> None:
    (error,) = of_call(errors, "forwarder")
    assert '"a-37-character-name-for-the-forwarder" has 37 characters; at most 36 fit' in error


def test_modules_ec2_alarms_names_the_alarm_over_cloudwatchs_period_limit(
    errors: list[dict[str, Any]],
) -> None:
    (error,) = of_call(errors, "ec2web")
    assert "alerts/web/cpu: cpu_period x cpu_evaluation_periods (3600 s x 169 = 608400 s)" in error
    assert "604800" in error
