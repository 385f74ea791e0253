"""e2e, Slack app mode with graphs: the module applied into moto, an ALARM played through the
deployed handler; the text lands first, CloudWatch draws the graph (moto's gap filler) and the
PNG lands in the message's thread on the fake Slack Web API. Slow (~2 min): run it rarely."""

from __future__ import annotations

import json
import shutil
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from e2e.harness import (
    HANDLER_DIR,
    MODULE_FILE_PATTERNS,
    REGION,
    Deployment,
    Stack,
    terraform_env_for,
    timed,
)

from support.aws_override import MOTO_ENDPOINT_SERVICES, PROVIDER_FILE_NAME, provider_block
from support.cloudwatch import alarm_state_change_message
from support.fake_slack_api import DEFAULT_TOKEN, FakeSlackApi
from support.moto_server import PNG_SIGNATURE, MotoServer
from support.storm import sns_envelope, sqs_event
from support.terraform import REPO_ROOT

pytestmark = pytest.mark.e2e

NAME = "e2e-graphs"
CHANNEL = "C0ALERTS01"
TOKEN_PARAMETER = f"/{NAME}/slack-bot-token"
INSTANCE_ID = "i-0123456789abcdef0"

ROOT_MODULE = f"""\
terraform {{
  required_version = ">= 1.5"
  required_providers {{
    aws = {{
      source  = "hashicorp/aws"
      version = ">= 5.0"
    }}
  }}
}}

module "alerts" {{
  source = "../.."

  name                               = "{NAME}"
  slack_bot_token_ssm_parameter_name = "{TOKEN_PARAMETER}"
  slack_channel_id                   = "{CHANNEL}"
  timezone                           = "Asia/Seoul"
  alarms = {{
    cpu = {{
      namespace   = "AWS/EC2"
      metric_name = "CPUUtilization"
      dimensions  = {{ InstanceId = "{INSTANCE_ID}" }}
      threshold   = 80
    }}
  }}
}}

output "lambda_function_name" {{
  value = module.alerts.lambda_function_name
}}

output "lambda_role_name" {{
  value = module.alerts.lambda_role_name
}}

output "alarm_names" {{
  value = module.alerts.alarm_names
}}

output "state_table_name" {{
  value = module.alerts.state_table_name
}}
"""


def _copy_module(destination: Path) -> Path:
    """The module (root *.tf + lambda/) with a root module of ours in examples/, as in the repo."""
    root = destination / "repo"
    root.mkdir(parents=True)
    for pattern in MODULE_FILE_PATTERNS:
        for path in REPO_ROOT.glob(pattern):
            shutil.copy2(path, root / path.name)
    shutil.copytree(
        REPO_ROOT / HANDLER_DIR,
        root / HANDLER_DIR,
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
    )
    workdir = root / "examples" / NAME
    workdir.mkdir(parents=True)
    (workdir / "main.tf").write_text(ROOT_MODULE)
    return workdir


@pytest.fixture(scope="module")
def graphs_stack(
    moto_server: MotoServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    """The module in app mode (graphs on by default) applied into moto; destroyed at the end."""
    tmp = tmp_path_factory.mktemp("e2e-graphs")
    workdir = _copy_module(tmp)
    # The app-mode state table is DynamoDB: it must reach moto too.
    services = (*MOTO_ENDPOINT_SERVICES, "dynamodb")
    (workdir / PROVIDER_FILE_NAME).write_text(
        provider_block(moto_server.endpoint, region=REGION, services=services)
    )
    deployment = Deployment(
        example=NAME, name=NAME, workdir=workdir, variables={}, env=terraform_env_for(moto_server)
    )
    stack = Stack(moto=moto_server, deployments={NAME: deployment}, tmp=tmp)
    ssm = stack.client("ssm")
    ssm.put_parameter(Name=TOKEN_PARAMETER, Value=DEFAULT_TOKEN, Type="SecureString")
    stack.own_parameters.append(TOKEN_PARAMETER)
    try:
        # init + apply only: the examples' e2e already checks that a plan after apply is empty.
        with timed(f"{NAME}: init"):
            deployment.tf("init", "-input=false", "-no-color")
        with timed(f"{NAME}: apply"):
            deployment.applied = True  # from here on a destroy is due, whatever happens
            deployment.tf("apply", "-auto-approve", "-input=false", "-no-color")
        deployment.outputs = json.loads(deployment.tf("output", "-json").stdout)
        yield stack
    finally:
        try:
            deployment.destroy()
        finally:
            stack.remove_own_resources()


def _png_size(data: bytes) -> tuple[int, int]:
    assert data.startswith(PNG_SIGNATURE)
    width, height = struct.unpack(">II", data[16:24])  # IHDR, right after the signature
    return width, height


def _alarm_event(stack: Stack, alarm_name: str) -> dict[str, Any]:
    """What the inbox queue hands the function after the alarm went into ALARM."""
    cloudwatch = stack.client("cloudwatch")
    cloudwatch.set_alarm_state(
        AlarmName=alarm_name, StateValue="ALARM", StateReason="Threshold Crossed: e2e"
    )
    described = stack.alarm(alarm_name)
    message = alarm_state_change_message(described, old_state="OK", new_state="ALARM")
    return sqs_event([sns_envelope(message)])


def test_deployed_app_mode_draws_the_alarm_graph_into_its_thread(
    graphs_stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    deployment = graphs_stack[NAME]
    configuration = graphs_stack.function_configuration(deployment)
    variables = configuration["Environment"]["Variables"]
    assert variables["SLACK_GRAPHS"] == "true"
    assert variables["SLACK_GRAPH_WINDOW_MINUTES"] == "180"
    policy = graphs_stack.client("iam").get_role_policy(
        RoleName=deployment.output("lambda_role_name"), PolicyName=f"{NAME}-permissions"
    )["PolicyDocument"]
    document = json.loads(policy) if isinstance(policy, str) else policy
    graphs = [s for s in document["Statement"] if s.get("Sid") == "DrawAlarmMetricGraphs"]
    assert [(s["Action"], s["Resource"]) for s in graphs] == [
        ("cloudwatch:GetMetricWidgetImage", "*")
    ]

    alarm_name = deployment.output("alarm_names")["cpu"]
    event = _alarm_event(graphs_stack, alarm_name)
    with FakeSlackApi(channels={CHANNEL: "alerts"}, min_interval=0.0) as slack:
        with timed(f"{NAME}: ALARM through the deployed handler with a graph"):
            result = graphs_stack.invoke(
                deployment,
                event,
                monkeypatch=monkeypatch,
                overrides={"SLACK_API_BASE_URL": slack.base_url},
            )
        assert result == {"batchItemFailures": []}
        methods = [call.method for call in slack.calls]
        assert methods == [
            "chat.postMessage",
            "files.getUploadURLExternal",
            "upload",
            "files.completeUploadExternal",
        ]
        (message,) = slack.messages(CHANNEL)
        assert alarm_name in message.text
        (reply,) = message.replies
        (shared,) = reply.content["files"]
        assert shared["title"] == alarm_name
        upload = slack.files[shared["id"]]
        assert upload.shared_in == (CHANNEL, message.ts)
        # Drawn by GetMetricWidgetImage (moto's gap filler) at the widget's 800 x 400.
        assert _png_size(upload.content or b"") == (800, 400)

        # The same record again (an SQS redelivery): nothing new is posted or drawn.
        with timed(f"{NAME}: the same record again"):
            again = graphs_stack.invoke(
                deployment,
                event,
                monkeypatch=monkeypatch,
                overrides={"SLACK_API_BASE_URL": slack.base_url},
            )
        assert again == {"batchItemFailures": []}
        assert [call.method for call in slack.calls] == methods


def test_destroy_removes_the_graph_permission_and_the_state_table(graphs_stack: Stack) -> None:
    deployment = graphs_stack[NAME]
    table = deployment.output("state_table_name")
    role = deployment.output("lambda_role_name")
    deployment.destroy()
    assert table not in graphs_stack.client("dynamodb").list_tables()["TableNames"]
    roles = [r["RoleName"] for r in graphs_stack.client("iam").list_roles()["Roles"]]
    assert role not in roles
