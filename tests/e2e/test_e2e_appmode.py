"""End to end in Slack app mode: examples/slack-app-routing applied into moto (DynamoDB included),
an ALARM then an OK played through the topic, the inbox queue and the deployed handler against
a fake Slack Web API; the ALARM's metric graph (drawn by moto's GetMetricWidgetImage gap filler)
lands in the message's thread; a replayed record posts and draws nothing; destroy leaves nothing
behind.

As in test_e2e_examples.py the test plays CloudWatch (the state change message from
describe_alarms) and Lambda's SQS poller (a batch received from the deployed inbox, handed to the
deployed zip with the function's deployed environment)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import pytest
from e2e.harness import REGION, Deployment, Stack, copy_example, terraform_env_for, timed

from support import cloudwatch
from support.aws_override import write_aws_override
from support.fake_slack_api import DEFAULT_TOKEN, FakeSlackApi
from support.moto_server import MotoServer, png_size
from support.storm import sqs_record

pytestmark = pytest.mark.e2e

NAME = "e2e-app"
TOKEN_PARAMETER = "/alarm-to-slack-e2e/slack-bot-token"  # noqa: S105 - a parameter name
ALERTS, DATABASE = "C0E2EALERTS", "C0E2EDATABS"
GRAPH_CALLS = ["files.getUploadURLExternal", "upload", "files.completeUploadExternal"]


@pytest.fixture(scope="module")
def app_stack(
    moto_server: MotoServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Stack, Deployment]]:
    """slack-app-routing applied into moto, the bot token in SSM; destroyed in any case."""
    tmp = tmp_path_factory.mktemp("e2e-app")
    stack = Stack(moto=moto_server, deployments={}, tmp=tmp)
    stack.client("ssm").put_parameter(
        Name=TOKEN_PARAMETER, Value=DEFAULT_TOKEN, Type="SecureString", Overwrite=True
    )
    stack.own_parameters.append(TOKEN_PARAMETER)
    workdir = copy_example("slack-app-routing", tmp / "slack-app-routing")
    write_aws_override(workdir)
    deployment = Deployment(
        example="slack-app-routing",
        name=NAME,
        workdir=workdir,
        variables={
            "aws_region": REGION,
            "name": NAME,
            "slack_bot_token_ssm_parameter_name": TOKEN_PARAMETER,
            "alerts_channel_id": ALERTS,
            "database_channel_id": DATABASE,
            "db_instance_identifier": "orders-db",
            "load_balancer_arn_suffix": "app/e2e-alb/0123456789abcdef",
            "tags": {"Purpose": "alarm-to-slack-e2e"},
        },
        env=terraform_env_for(moto_server.endpoint),
    )
    stack.deployments["slack-app-routing"] = deployment
    try:
        deployment.deploy()
        yield stack, deployment
    finally:
        try:
            deployment.destroy()
        finally:
            stack.remove_own_resources()


def _notify(stack: Stack, deployment: Deployment, alarm_name: str, new_state: str) -> dict:
    """Play CloudWatch and Lambda's poller: change the alarm's state, publish its notification to
    the deployed topic, and hand the envelope SNS delivers to an SQS subscriber to the handler as
    the inbox's batch event. (A queue of the test's own captures it: moto runs the inbox's event
    source mapping itself and the message would be gone.)"""
    before = stack.alarm(alarm_name)
    stack.client("cloudwatch").set_alarm_state(
        AlarmName=alarm_name,
        StateValue=new_state,
        StateReason=f"e2e: {before['StateValue']} -> {new_state}",
    )
    after = stack.alarm(alarm_name)
    message = cloudwatch.alarm_state_change_message(after, old_state=before["StateValue"])
    topic = deployment.output("sns_topic_arn")
    capture = stack.capture_queue(topic)
    stack.client("sns").publish(
        TopicArn=topic, Subject=cloudwatch.sns_subject(message), Message=json.dumps(message)
    )
    envelope = stack.receive_one(capture)
    assert envelope["Type"] == "Notification"
    assert envelope["TopicArn"] == topic
    return {"Records": [sqs_record(json.dumps(envelope))]}


def test_the_deployed_function_draws_graphs_with_the_one_permission_it_needs(
    app_stack: tuple[Stack, Deployment],
) -> None:
    stack, deployment = app_stack
    configuration = stack.function_configuration(deployment)
    variables = configuration["Environment"]["Variables"]
    assert variables["SLACK_GRAPHS"] == "true"
    assert variables["SLACK_GRAPH_WINDOW_MINUTES"] == "180"
    assert variables["SLACK_GRAPH_JOIN_CHANNELS"] == "true"
    assert "SLACK_GRAPH_CROSS_ACCOUNT_IDS" not in variables
    role = configuration["Role"].rsplit("/", 1)[-1]
    policy = stack.client("iam", "us-east-1").get_role_policy(
        RoleName=role, PolicyName=f"{NAME}-permissions"
    )["PolicyDocument"]
    document = json.loads(policy) if isinstance(policy, str) else policy
    graphs = [s for s in document["Statement"] if s.get("Sid") == "DrawAlarmMetricGraphs"]
    # GetMetricWidgetImage has no resource-level permissions: "*" is the only resource it takes.
    assert [(s["Action"], s["Resource"]) for s in graphs] == [
        ("cloudwatch:GetMetricWidgetImage", "*")
    ]


def test_alarm_then_ok_is_one_message_resolved_in_place_and_a_replay_posts_nothing(
    app_stack: tuple[Stack, Deployment], monkeypatch: pytest.MonkeyPatch
) -> None:
    stack, deployment = app_stack
    alarm_name = deployment.output("alarm_names")["db-connections"]
    channels = {ALERTS: "alerts", DATABASE: "db-oncall"}
    # The app as the README sets it up: it posts to public channels through chat:write.public
    # without being in them, and joins one (channels:join) before sharing a graph there.
    scopes = frozenset({"chat:write", "chat:write.public", "files:write", "channels:join"})
    with FakeSlackApi(channels=channels, scopes=scopes) as fake:
        for channel in channels:
            fake.set_channel(channel, member=False)
        overrides = {"SLACK_API_BASE_URL": fake.base_url}

        def invoke(event: dict) -> Any:
            return stack.invoke(deployment, event, monkeypatch=monkeypatch, overrides=overrides)

        with timed("slack-app-routing: ALARM through the inbox, with its graph"):
            alarm_event = _notify(stack, deployment, alarm_name, "ALARM")
            assert invoke(alarm_event) == {"batchItemFailures": []}
        # The text first, then the graph, uploaded the way Slack wants files now, into a
        # channel the app joined first (sharing a file needs membership).
        assert [c.method for c in fake.calls] == [
            "chat.postMessage",
            "conversations.join",
            *GRAPH_CALLS,
        ]
        (message,) = fake.messages(DATABASE)
        (graph,) = message.replies
        (shared,) = graph.content["files"]
        assert shared["title"] == alarm_name
        upload = fake.files[shared["id"]]
        assert upload.shared_in == (DATABASE, message.ts)
        # Drawn by GetMetricWidgetImage (moto's gap filler) at the widget's 800 x 400.
        assert png_size(upload.content or b"") == (800, 400)

        calls = len(fake.calls)
        with timed("slack-app-routing: the ALARM record again"):
            assert invoke(alarm_event) == {"batchItemFailures": []}
        assert len(fake.calls) == calls, "a redelivered ALARM posts and draws nothing"

        with timed("slack-app-routing: OK through the inbox"):
            ok_event = _notify(stack, deployment, alarm_name, "OK")
            assert invoke(ok_event) == {"batchItemFailures": []}

        assert fake.messages(ALERTS) == [], "a db- alarm is routed to the database channel"
        (message,) = fake.messages(DATABASE)
        assert message.edited
        assert message.color == "#2EB67D"
        assert message.text.startswith(":white_check_mark: *Resolved")
        assert alarm_name in message.text
        # The thread holds the ALARM's graph, then the OK once.
        texts = [reply.text for reply in message.replies]
        assert len(texts) == 2, texts
        assert texts[0].startswith("[file: "), texts
        assert texts[1] == f":white_check_mark: *OK*: {alarm_name}", texts
        # Every Web API call carries the bot token; the graph's bytes go to Slack's pre-signed
        # upload URL without it, as Slack wants them.
        assert {c.authorization for c in fake.calls if c.method != "upload"} == {"Bearer"}

        calls = len(fake.calls)
        with timed("slack-app-routing: the OK record again"):
            assert invoke(ok_event) == {"batchItemFailures": []}
        assert len(fake.calls) == calls, "a redelivered record makes no Web API call"

    table = deployment.output("state_table_name")
    items = stack.client("dynamodb").scan(TableName=table)["Items"]
    keys = {item["pk"]["S"] for item in items}
    assert f"alarm#{stack.alarm(alarm_name)['AlarmArn']}" in keys
    assert sum(key.startswith("event#") for key in keys) == 2
    now = dt.datetime.now(dt.UTC).timestamp()
    assert all(int(item["expires_at"]["N"]) > now + 20 * 86400 for item in items)


def test_destroy_leaves_nothing_of_app_mode_behind(app_stack: tuple[Stack, Deployment]) -> None:
    stack, deployment = app_stack
    deployment.destroy()
    stack.remove_own_resources()
    stack.own_parameters.clear()
    stack.own_queue_urls.clear()
    stack.own_subscription_arns.clear()
    left = {
        "tables": [
            t for t in stack.client("dynamodb").list_tables()["TableNames"] if t.startswith(NAME)
        ],
        "functions": [
            f["FunctionName"]
            for f in stack.client("lambda").list_functions()["Functions"]
            if f["FunctionName"].startswith(NAME)
        ],
        "queues": [
            q for q in stack.client("sqs").list_queues().get("QueueUrls", []) if f"/{NAME}" in q
        ],
        "topics": [
            t["TopicArn"]
            for t in stack.client("sns").list_topics()["Topics"]
            if f":{NAME}" in t["TopicArn"]
        ],
        "alarms": [
            a["AlarmName"]
            for a in stack.client("cloudwatch").describe_alarms()["MetricAlarms"]
            if a["AlarmName"].startswith(f"{NAME}/")
        ],
        "roles": [
            r["RoleName"]
            for r in stack.client("iam", "us-east-1").list_roles()["Roles"]
            if r["RoleName"].startswith(NAME)
        ],
        "parameters": [
            p["Name"]
            for p in stack.client("ssm").describe_parameters()["Parameters"]
            if p["Name"] == TOKEN_PARAMETER
        ],
    }
    assert {kind: items for kind, items in left.items() if items} == {}
    state = json.loads((deployment.workdir / "terraform.tfstate").read_text(encoding="utf-8"))
    assert state["resources"] == []
