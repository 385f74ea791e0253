"""End to end against a local moto: the examples apply, are wired as documented, the deployed
code turns a CloudWatch alarm into the Slack message, and destroy leaves nothing behind.

moto runs no alarm actions and no Lambda code, so the test plays CloudWatch (the state change
message, from describe_alarms of the deployed alarm, published to the deployed topic) and Lambda
(its SQS poller, support/sqs_poller.py, on the deployed inbox; the deployed zip, imported from
moto's copy, with the function's deployed environment)."""

from __future__ import annotations

import datetime as dt
import fnmatch
import io
import json
import zipfile
import zoneinfo
from pathlib import Path
from typing import Any

import pytest
from e2e.harness import (
    EXAMPLE_NAMES,
    LOAD_BALANCER,
    PLACEHOLDER_WEBHOOK,
    REGION,
    SSM_PARAMETER,
    Deployment,
    Stack,
    timed,
)

from support import cloudwatch, sqs_poller
from support.fake_slack import FakeSlack
from support.terraform import REPO_ROOT

pytestmark = pytest.mark.e2e

ALL_EXAMPLES = tuple(EXAMPLE_NAMES)
SNS_EXAMPLES = ("ec2-cpu-alarm", "new-ec2-instance")
STATE_COLOURS = {"ALARM": "#E01E5A", "OK": "#2EB67D"}
STATE_EMOJI = {"ALARM": ":rotating_light:", "OK": ":white_check_mark:"}
# The module's defaults for the inbox and its event source mapping.
INBOX_BATCH_SIZE = 1000
GROUP_WAIT_SECONDS = 20
LAMBDA_TIMEOUT = 30
INBOX_MAX_RECEIVE_COUNT = 5
# The handler's default: a batch of more alarms than this becomes digest message(s).
DIGEST_THRESHOLD = 3


# -- helpers ---------------------------------------------------------------------------------


def _instance_id(stack: Stack, deployment: Deployment) -> str:
    if deployment.example == "new-ec2-instance":
        return str(deployment.output("web_instance_id"))
    return stack.instance_id


def _expected_alarm_names(stack: Stack, deployment: Deployment) -> dict[str, str]:
    name = deployment.name
    if deployment.example == "direct-to-lambda":
        return {
            "alb-target-5xx": f"{name}/alb-target-5xx",
            "ec2/db/cpu": f"{name}/db/cpu",
            "ec2/db/status-check": f"{name}/db/status-check",
        }
    if deployment.example == "new-ec2-instance":
        # modules/ec2-alarms in server-web.tf, keyed by check, named <name>/<server>/<check>.
        return {"cpu": f"{name}/web/cpu", "status-check": f"{name}/web/status-check"}
    key = deployment.variables["instance_key"]
    return {
        f"ec2/{key}/cpu": f"{name}/{key}/cpu",
        f"ec2/{key}/status-check": f"{name}/{key}/status-check",
    }


def _statements(document: Any) -> list[dict[str, Any]]:
    if isinstance(document, str):
        document = json.loads(document)
    statements = document["Statement"]
    return statements if isinstance(statements, list) else [statements]


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _function_policy(stack: Stack, deployment: Deployment) -> list[dict[str, Any]]:
    policy = stack.client("lambda").get_policy(
        FunctionName=deployment.output("lambda_function_name")
    )["Policy"]
    return _statements(policy)


def _queue_arn(stack: Stack, deployment: Deployment) -> str:
    return str(
        stack.client("sqs").get_queue_attributes(
            QueueUrl=deployment.output("failure_queue_url"), AttributeNames=["QueueArn"]
        )["Attributes"]["QueueArn"]
    )


def _inbox(stack: Stack, deployment: Deployment) -> tuple[str, dict[str, str]]:
    """The deployed inbox's URL and attributes (found by its name, <name>-inbox)."""
    sqs = stack.client("sqs")
    url = sqs.get_queue_url(QueueName=f"{deployment.name}-inbox")["QueueUrl"]
    return url, sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]


def _depth(stack: Stack, queue_url: str) -> int:
    """Messages in the queue, visible or in flight."""
    attributes = stack.client("sqs").get_queue_attributes(
        QueueUrl=queue_url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(
        attributes["ApproximateNumberOfMessagesNotVisible"]
    )


def _slack_text(payload: dict[str, Any]) -> str:
    """Every string of the payload, for content checks independent of the block layout."""
    return json.dumps(payload, ensure_ascii=False)


def _header(payload: dict[str, Any]) -> str:
    blocks = payload["attachments"][0]["blocks"]
    return str(next(b["text"]["text"] for b in blocks if b["type"] == "header"))


def _local_time(cloudwatch_time: str, zone: str) -> str:
    when = dt.datetime.strptime(cloudwatch_time, "%Y-%m-%dT%H:%M:%S.%f%z")
    local = when.astimezone(zoneinfo.ZoneInfo(zone))
    return f"{local:%Y-%m-%d %H:%M:%S} {local.tzname()}"


def _change_state(stack: Stack, alarm_name: str, new_state: str) -> tuple[dict, dict]:
    """set_alarm_state on the deployed alarm with a CloudWatch-like reason; returns the alarm
    (describe_alarms) before and after."""
    before = stack.alarm(alarm_name)
    now = dt.datetime.now(dt.UTC)
    threshold = float(before["Threshold"])
    value = threshold + 13.4 if new_state == "ALARM" else max(threshold - 41.5, 0.0)
    crossing = (
        "greater than or equal to" if new_state == "ALARM" else "not greater than or equal to"
    )
    stack.client("cloudwatch").set_alarm_state(
        AlarmName=alarm_name,
        StateValue=new_state,
        StateReason=cloudwatch.threshold_crossed_reason(
            value=value,
            threshold=threshold,
            operator_text=crossing,
            when=now,
            old=before["StateValue"],
            new=new_state,
        ),
        StateReasonData=cloudwatch.threshold_reason_data(
            value=value,
            threshold=threshold,
            statistic=before.get("Statistic", "Average"),
            period=int(before["Period"]),
            when=now,
        ),
    )
    return before, stack.alarm(alarm_name)


def _publish_state_change(
    stack: Stack, deployment: Deployment, alarm_name: str, new_state: str
) -> dict[str, Any]:
    """Play CloudWatch: change the alarm's state and publish its notification to the deployed
    topic (the alarm's own action). Returns the alarm message."""
    topic_arn = deployment.output("sns_topic_arn")
    before, after = _change_state(stack, alarm_name, new_state)
    assert after["StateValue"] == new_state
    # The alarm itself names the topic as the action CloudWatch would take.
    assert topic_arn in after[{"ALARM": "AlarmActions", "OK": "OKActions"}[new_state]]
    message = cloudwatch.alarm_state_change_message(after, old_state=before["StateValue"])
    stack.client("sns").publish(
        TopicArn=topic_arn, Subject=cloudwatch.sns_subject(message), Message=json.dumps(message)
    )
    return message


def _poll_inbox(
    stack: Stack,
    deployment: Deployment,
    monkeypatch: pytest.MonkeyPatch,
    overrides: dict[str, str],
) -> list[sqs_poller.PollResult]:
    """Play Lambda's poller on the deployed inbox until it is empty, invoking the deployed
    handler with each batch (the mapping's batch size)."""
    inbox_url, _ = _inbox(stack, deployment)
    return sqs_poller.poll_until_empty(
        stack.client("sqs"),
        inbox_url,
        lambda event: stack.invoke(deployment, event, monkeypatch=monkeypatch, overrides=overrides),
        batch_size=INBOX_BATCH_SIZE,
    )


def _mappings_of(stack: Stack, deployment: Deployment) -> list[dict[str, Any]]:
    """Every event source mapping that invokes the deployment's function."""
    function_arn = deployment.output("lambda_function_arn")
    mappings = stack.client("lambda").list_event_source_mappings()["EventSourceMappings"]
    return [m for m in mappings if m["FunctionArn"] == function_arn]


def _envelope(record: dict[str, Any]) -> dict[str, Any]:
    return dict(json.loads(record["body"]))


# -- apply and plan --------------------------------------------------------------------------


@pytest.mark.parametrize("example", ALL_EXAMPLES)
def test_plan_right_after_apply_shows_no_changes(stack: Stack, example: str) -> None:
    deployment = stack[example]
    assert deployment.plan_exit_code == 0, deployment.plan_output[-4000:]


# -- wiring as deployed ------------------------------------------------------------------------


@pytest.mark.parametrize("example", SNS_EXAMPLES)
def test_topic_delivers_to_the_inbox_and_never_invokes_the_function(
    stack: Stack, example: str
) -> None:
    deployment = stack[example]
    topic_arn = deployment.output("sns_topic_arn")
    _, inbox = _inbox(stack, deployment)
    sns = stack.client("sns")
    subscriptions = sns.list_subscriptions_by_topic(TopicArn=topic_arn)["Subscriptions"]
    assert [(s["Protocol"], s["Endpoint"]) for s in subscriptions] == [("sqs", inbox["QueueArn"])]
    attributes = sns.get_subscription_attributes(
        SubscriptionArn=subscriptions[0]["SubscriptionArn"]
    )["Attributes"]
    assert attributes.get("RawMessageDelivery", "false") == "false"
    # No resource policy at all: nothing but the event source mapping invokes the function.
    with pytest.raises(stack.client("lambda").exceptions.ResourceNotFoundException):
        _function_policy(stack, deployment)


@pytest.mark.parametrize("example", SNS_EXAMPLES)
def test_inbox_is_encrypted_redrives_to_the_failure_queue_and_admits_only_the_topic(
    stack: Stack, example: str
) -> None:
    deployment = stack[example]
    _, inbox = _inbox(stack, deployment)
    assert inbox["SqsManagedSseEnabled"] == "true"
    assert int(inbox["VisibilityTimeout"]) == 6 * LAMBDA_TIMEOUT + GROUP_WAIT_SECONDS
    assert json.loads(inbox["RedrivePolicy"]) == {
        "deadLetterTargetArn": _queue_arn(stack, deployment),
        "maxReceiveCount": INBOX_MAX_RECEIVE_COUNT,
    }
    [statement] = _statements(inbox["Policy"])
    assert statement["Effect"] == "Allow"
    assert statement["Principal"] == {"Service": "sns.amazonaws.com"}
    assert _as_list(statement["Action"]) == ["sqs:SendMessage"]
    assert _as_list(statement["Resource"]) == [inbox["QueueArn"]]
    assert statement["Condition"] == {
        "ArnEquals": {"aws:SourceArn": deployment.output("sns_topic_arn")}
    }


@pytest.mark.parametrize("example", SNS_EXAMPLES)
def test_inbox_feeds_the_function_in_batches_with_partial_failure_reporting(
    stack: Stack, example: str
) -> None:
    deployment = stack[example]
    _, inbox = _inbox(stack, deployment)
    [mapping] = _mappings_of(stack, deployment)
    assert mapping["EventSourceArn"] == inbox["QueueArn"]
    assert mapping["BatchSize"] == INBOX_BATCH_SIZE
    assert mapping["MaximumBatchingWindowInSeconds"] == GROUP_WAIT_SECONDS
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["ScalingConfig"] == {"MaximumConcurrency": 2}
    assert mapping["State"] == "Enabled"


@pytest.mark.parametrize("example", SNS_EXAMPLES)
def test_every_alarm_notifies_the_topic(stack: Stack, example: str) -> None:
    deployment = stack[example]
    topic_arn = deployment.output("sns_topic_arn")
    expected = _expected_alarm_names(stack, deployment)
    names_output = "web_alarm_names" if example == "new-ec2-instance" else "alarm_names"
    assert deployment.output(names_output) == expected
    for alarm_name in expected.values():
        alarm = stack.alarm(alarm_name)
        assert alarm["ActionsEnabled"] is True
        assert alarm["AlarmActions"] == [topic_arn]
        assert alarm["OKActions"] == [topic_arn]
        assert alarm["InsufficientDataActions"] == []
        assert alarm["Dimensions"] == [
            {"Name": "InstanceId", "Value": _instance_id(stack, deployment)}
        ]


def test_direct_mode_alarms_invoke_the_function_and_there_is_no_topic(stack: Stack) -> None:
    deployment = stack["direct-to-lambda"]
    function_arn = deployment.output("lambda_function_arn")
    expected = _expected_alarm_names(stack, deployment)
    assert deployment.output("alarm_names") == expected
    for alarm_name in expected.values():
        alarm = stack.alarm(alarm_name)
        assert alarm["AlarmActions"] == [function_arn]
        assert alarm["OKActions"] == [function_arn]
        assert alarm["InsufficientDataActions"] == []
        # The one grant for CloudWatch covers every alarm of this module instance.
        grant = next(
            s
            for s in _function_policy(stack, deployment)
            if s["Principal"] == {"Service": "lambda.alarms.cloudwatch.amazonaws.com"}
        )
        assert fnmatch.fnmatchcase(
            alarm["AlarmArn"], grant["Condition"]["ArnLike"]["AWS:SourceArn"]
        )
    topics = stack.client("sns").list_topics()["Topics"]
    assert not [t for t in topics if t["TopicArn"].split(":")[-1].startswith(deployment.name)]
    assert "sns_topic_arn" not in deployment.outputs
    # One invocation per alarm: no inbox, no event source mapping.
    queues = stack.client("sqs").list_queues(QueueNamePrefix=deployment.name).get("QueueUrls", [])
    assert [url.rsplit("/", 1)[-1] for url in queues] == [f"{deployment.name}-failures"]
    assert _mappings_of(stack, deployment) == []
    alb = stack.alarm(expected["alb-target-5xx"])
    assert alb["Dimensions"] == [{"Name": "LoadBalancer", "Value": LOAD_BALANCER}]


EXPECTED_ENVIRONMENT = {
    "ec2-cpu-alarm": {
        "SLACK_WEBHOOK_URL": PLACEHOLDER_WEBHOOK,
        "ALARM_MENTION": "<!here>",
        "TIMEZONE": "Asia/Seoul",
        "MESSAGE_LANGUAGE": "ko",
        "LOG_LEVEL": "INFO",
        # The storm settings (digest_threshold, slack_message_interval_seconds) at their defaults.
        "DIGEST_THRESHOLD": "3",
        "SLACK_MESSAGE_INTERVAL_SECONDS": "1",
    },
    "new-ec2-instance": {
        "SLACK_WEBHOOK_URL": PLACEHOLDER_WEBHOOK,
        "TIMEZONE": "UTC",
        "MESSAGE_LANGUAGE": "en",
        "LOG_LEVEL": "INFO",
        # The storm settings (digest_threshold, slack_message_interval_seconds) at their defaults.
        "DIGEST_THRESHOLD": "3",
        "SLACK_MESSAGE_INTERVAL_SECONDS": "1",
    },
    "direct-to-lambda": {
        "SLACK_WEBHOOK_SSM_PARAMETER": SSM_PARAMETER,
        "TIMEZONE": "UTC",
        "MESSAGE_LANGUAGE": "en",
        "LOG_LEVEL": "INFO",
        # The storm settings (digest_threshold, slack_message_interval_seconds) at their defaults.
        "DIGEST_THRESHOLD": "3",
        "SLACK_MESSAGE_INTERVAL_SECONDS": "1",
    },
}


@pytest.mark.parametrize("example", ALL_EXAMPLES)
def test_function_environment_holds_the_configured_settings(stack: Stack, example: str) -> None:
    configuration = stack.function_configuration(stack[example])
    assert configuration["Environment"]["Variables"] == EXPECTED_ENVIRONMENT[example]
    assert configuration["Handler"] == "handler.lambda_handler"
    assert configuration["Runtime"] == "python3.12"
    assert configuration["Architectures"] == ["arm64"]


@pytest.mark.parametrize("example", ALL_EXAMPLES)
def test_role_policies_are_scoped_to_the_module_own_arns(stack: Stack, example: str) -> None:
    deployment = stack[example]
    iam = stack.client("iam")
    configuration = stack.function_configuration(deployment)
    role_name = configuration["Role"].split("/")[-1]
    account = configuration["FunctionArn"].split(":")[4]
    log_group = f"/aws/lambda/{deployment.name}"
    own = {
        f"arn:aws:logs:{REGION}:{account}:log-group:{log_group}:*",
        _queue_arn(stack, deployment),
    }
    if example == "direct-to-lambda":
        own.add(f"arn:aws:ssm:{REGION}:{account}:parameter{SSM_PARAMETER}")
    else:
        own.add(_inbox(stack, deployment)[1]["QueueArn"])

    assert iam.list_attached_role_policies(RoleName=role_name)["AttachedPolicies"] == []
    trust = _statements(iam.get_role(RoleName=role_name)["Role"]["AssumeRolePolicyDocument"])
    assert [s["Principal"] for s in trust] == [{"Service": "lambda.amazonaws.com"}]

    resources: set[str] = set()
    policy_names = iam.list_role_policies(RoleName=role_name)["PolicyNames"]
    assert policy_names
    for policy_name in policy_names:
        document = iam.get_role_policy(RoleName=role_name, PolicyName=policy_name)["PolicyDocument"]
        for statement in _statements(document):
            assert statement["Effect"] == "Allow"
            assert statement.get("Sid"), statement
            assert "*" not in _as_list(statement["Action"]), statement
            resources.update(_as_list(statement["Resource"]))
    assert "*" not in resources
    assert resources == own


@pytest.mark.parametrize("example", ALL_EXAMPLES)
def test_failed_invocations_go_to_the_module_failure_queue(stack: Stack, example: str) -> None:
    deployment = stack[example]
    config = stack.client("lambda").get_function_event_invoke_config(
        FunctionName=deployment.output("lambda_function_name")
    )
    queue_arn = _queue_arn(stack, deployment)
    assert config["DestinationConfig"]["OnFailure"]["Destination"] == queue_arn
    assert config["MaximumRetryAttempts"] == 2
    # The queue's own alarm watches it and, by default, reports the way every other alarm does.
    depth = stack.alarm(f"{deployment.name}/failure-queue-not-empty")
    assert depth["Dimensions"] == [{"Name": "QueueName", "Value": queue_arn.split(":")[-1]}]
    target = deployment.output(
        "sns_topic_arn" if example in SNS_EXAMPLES else "lambda_function_arn"
    )
    assert depth["AlarmActions"] == [target]
    assert depth["OKActions"] == [target]


@pytest.mark.parametrize("example", ALL_EXAMPLES)
def test_deployed_package_holds_only_the_handler_sources(stack: Stack, example: str) -> None:
    deployment = stack[example]
    zip_bytes = stack.moto.lambda_code_zip(deployment.output("lambda_function_name"), region=REGION)
    sources = {
        path.relative_to(REPO_ROOT / "lambda").as_posix(): path.read_bytes()
        for path in (REPO_ROOT / "lambda").rglob("*.py")
        if "__pycache__" not in path.parts
    }
    with zipfile.ZipFile(io.BytesIO(zip_bytes)) as archive:
        files = {
            info.filename: archive.read(info) for info in archive.infolist() if not info.is_dir()
        }
    assert sorted(files) == sorted(sources)
    assert files == sources
    assert "handler.py" in files


# -- the event chain -------------------------------------------------------------------------

SLACK_ROUNDS = [
    pytest.param(("ALARM", [(200, "ok")], 1), id="alarm-200"),
    pytest.param(("OK", [(500, "error"), (200, "ok")], 2), id="ok-500-then-200"),
    pytest.param(
        ("ALARM", [(429, "rate_limited", {"Retry-After": "1"}), (200, "ok")], 2),
        id="alarm-429-then-200",
    ),
]


@pytest.mark.parametrize("slack_round", SLACK_ROUNDS)
def test_cpu_alarm_via_sns_reaches_slack_in_korean_with_seoul_time(
    stack: Stack,
    fake_slack: FakeSlack,
    monkeypatch: pytest.MonkeyPatch,
    slack_round: tuple[str, list[tuple[Any, ...]], int],
) -> None:
    new_state, script, requests = slack_round
    deployment = stack["ec2-cpu-alarm"]
    alarm_name = deployment.output("alarm_names")["ec2/web/cpu"]
    with timed(f"ec2-cpu-alarm: SNS -> inbox chain, {new_state} with Slack answering {script}"):
        message = _publish_state_change(stack, deployment, alarm_name, new_state)
        fake_slack.script(script)
        [poll] = _poll_inbox(stack, deployment, monkeypatch, {"SLACK_WEBHOOK_URL": fake_slack.url})
    # The inbox held SNS's envelope (raw delivery off), handed over as Lambda's SQS record.
    [record] = poll.event["Records"]
    assert record["eventSource"] == "aws:sqs"
    assert record["eventSourceARN"] == _inbox(stack, deployment)[1]["QueueArn"]
    envelope = _envelope(record)
    assert envelope["Type"] == "Notification"
    assert envelope["TopicArn"] == deployment.output("sns_topic_arn")
    assert json.loads(envelope["Message"]) == message
    assert envelope["Subject"] == f'{new_state}: "{alarm_name}" in Asia Pacific (Seoul)'
    assert envelope["Timestamp"].endswith("Z")
    assert poll.response == {"batchItemFailures": []}
    assert poll.deleted == poll.received
    payloads = fake_slack.requests
    assert len(payloads) == requests
    assert all(p == payloads[0] for p in payloads), "a retry must resend the same message"
    payload = payloads[-1]
    text = _slack_text(payload)
    assert _header(payload) == f"{STATE_EMOJI[new_state]} {new_state}: {alarm_name}"
    assert payload["attachments"][0]["color"] == STATE_COLOURS[new_state]
    for label in ("알람 이름", "상태", "발생 시각", "이전 상태", "차원", "조건"):
        assert f"*{label}*" in text
    assert _local_time(message["StateChangeTime"], "Asia/Seoul").endswith(" KST")
    assert _local_time(message["StateChangeTime"], "Asia/Seoul") in text
    assert f"InstanceId={stack.instance_id}" in text
    assert "Asia Pacific (Seoul)" in text
    if new_state == "ALARM":
        assert payload["text"].startswith("<!here> ")
    else:
        assert "<!here>" not in text


def test_new_instance_alarm_via_sns_reaches_slack_in_english_with_utc(
    stack: Stack, fake_slack: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    deployment = stack["new-ec2-instance"]
    alarm_name = deployment.output("web_alarm_names")["status-check"]
    with timed("new-ec2-instance: SNS -> inbox chain"):
        message = _publish_state_change(stack, deployment, alarm_name, "ALARM")
        [poll] = _poll_inbox(stack, deployment, monkeypatch, {"SLACK_WEBHOOK_URL": fake_slack.url})
    assert poll.response == {"batchItemFailures": []}
    assert len(poll.deleted) == 1
    [payload] = fake_slack.requests
    text = _slack_text(payload)
    assert _header(payload) == f":rotating_light: ALARM: {alarm_name}"
    assert payload["attachments"][0]["color"] == STATE_COLOURS["ALARM"]
    assert "*Alarm name*" in text
    assert "*Time*" in text
    assert _local_time(message["StateChangeTime"], "UTC") in text
    assert f"InstanceId={deployment.output('web_instance_id')}" in text
    assert "StatusCheckFailed" in text


def _storm_messages(stack: Stack, deployment: Deployment, count: int) -> list[dict[str, Any]]:
    """`count` alarm notifications of this account: the deployed status-check alarm's, renamed
    <alarm>-storm-NN (CloudWatch sends one per alarm when a zone goes down)."""
    alarm_name = deployment.output("web_alarm_names")["status-check"]
    _, described = _change_state(stack, alarm_name, "ALARM")
    messages = []
    for index in range(count):
        name = f"{alarm_name}-storm-{index:02d}"
        alarm = {**described, "AlarmName": name}
        alarm["AlarmArn"] = described["AlarmArn"].rsplit(":", 1)[0] + f":{name}"
        messages.append(cloudwatch.alarm_state_change_message(alarm, old_state="OK"))
    return messages


def test_an_alarm_storm_reaches_slack_as_a_digest_through_the_inbox(
    stack: Stack, fake_slack: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    deployment = stack["new-ec2-instance"]
    topic_arn = deployment.output("sns_topic_arn")
    inbox_url, _ = _inbox(stack, deployment)
    count = DIGEST_THRESHOLD * 4
    messages = _storm_messages(stack, deployment, count)
    with timed(f"new-ec2-instance: storm of {count} alarms through the inbox"):
        for message in messages:
            stack.client("sns").publish(
                TopicArn=topic_arn,
                Subject=cloudwatch.sns_subject(message),
                Message=json.dumps(message),
            )
        # SNS delivered every notification to the inbox, where they wait for the poller.
        assert _depth(stack, inbox_url) == count
        polls = _poll_inbox(stack, deployment, monkeypatch, {"SLACK_WEBHOOK_URL": fake_slack.url})

    [poll] = polls  # one batch: the whole storm fits the mapping's batch size
    assert len(poll.received) == count
    assert sorted(
        json.loads(_envelope(r)["Message"])["AlarmName"] for r in poll.event["Records"]
    ) == (sorted(m["AlarmName"] for m in messages))
    assert poll.response == {"batchItemFailures": []}
    assert sorted(poll.deleted) == sorted(poll.received)
    assert _depth(stack, inbox_url) == 0
    # A digest, not one message per alarm; it names every alarm.
    payloads = fake_slack.requests
    assert 1 <= len(payloads) < count
    assert f"{count} alarms changed state" in payloads[0]["text"]
    text = "".join(_slack_text(p) for p in payloads)
    for message in messages:
        assert message["AlarmName"] in text


def test_undelivered_alarm_goes_to_the_failure_queue_and_is_replayed_by_a_move_task(
    stack: Stack, fake_slack: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    deployment = stack["new-ec2-instance"]
    inbox_url, inbox = _inbox(stack, deployment)
    failure_url = deployment.output("failure_queue_url")
    failure_arn = _queue_arn(stack, deployment)
    sqs = stack.client("sqs")
    alarm_name = deployment.output("web_alarm_names")["cpu"]
    overrides = {"SLACK_WEBHOOK_URL": fake_slack.url}
    # Slack refuses every message (a revoked webhook): permanent, so no retry in the handler.
    fake_slack.script([(404, "no_service")] * (INBOX_MAX_RECEIVE_COUNT + 1))

    with timed("new-ec2-instance: undelivered alarm to the failure queue and back"):
        message = _publish_state_change(stack, deployment, alarm_name, "ALARM")
        receives = 0
        for _ in range(INBOX_MAX_RECEIVE_COUNT + 1):
            [poll] = _poll_inbox(stack, deployment, monkeypatch, overrides) or [None]
            if poll is None:
                break  # SQS moved it to the dead-letter queue instead of handing it out again
            receives += 1
            # Reported as failed, so not deleted: it stays in flight in the inbox ...
            assert poll.response == {"batchItemFailures": [{"itemIdentifier": poll.received[0]}]}
            assert poll.deleted == ()
            assert _depth(stack, inbox_url) == 1
            # ... until its visibility timeout ends (cut short here).
            [record] = poll.event["Records"]
            sqs.change_message_visibility(
                QueueUrl=inbox_url, ReceiptHandle=record["receiptHandle"], VisibilityTimeout=0
            )
        assert receives == INBOX_MAX_RECEIVE_COUNT
        assert _depth(stack, inbox_url) == 0
        assert _depth(stack, failure_url) == 1
        assert len(fake_slack.requests) == INBOX_MAX_RECEIVE_COUNT

        # docs/delivery-failures.md's replay: SQS's dead-letter redrive back to the inbox, then
        # Slack is back.
        handle = sqs.start_message_move_task(SourceArn=failure_arn)["TaskHandle"]
        [task] = sqs.list_message_move_tasks(SourceArn=failure_arn)["Results"]
        assert (task["TaskHandle"], task["Status"]) == (handle, "COMPLETED")
        assert task["DestinationArn"] == inbox["QueueArn"]
        assert task["ApproximateNumberOfMessagesMoved"] == 1
        assert (_depth(stack, failure_url), _depth(stack, inbox_url)) == (0, 1)
        fake_slack.reset()
        [poll] = _poll_inbox(stack, deployment, monkeypatch, overrides)

    assert poll.response == {"batchItemFailures": []}
    assert json.loads(_envelope(poll.event["Records"][0])["Message"]) == message
    assert (_depth(stack, failure_url), _depth(stack, inbox_url)) == (0, 0)
    [payload] = fake_slack.requests
    assert _header(payload) == f":rotating_light: ALARM: {alarm_name}"


def test_direct_alarm_reaches_slack_with_the_webhook_from_ssm(
    stack: Stack, fake_slack: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    deployment = stack["direct-to-lambda"]
    alarm_name = deployment.output("alarm_names")["alb-target-5xx"]
    # The only place the fake Slack URL is kept: the handler must read it from (moto's) SSM.
    stack.client("ssm").put_parameter(
        Name=SSM_PARAMETER, Value=fake_slack.url, Type="SecureString", Overwrite=True
    )
    with timed("direct-to-lambda: direct invocation chain"):
        before, after = _change_state(stack, alarm_name, "ALARM")
        assert after["AlarmActions"] == [deployment.output("lambda_function_arn")]
        event = cloudwatch.direct_invocation_event(
            after,
            previous_state={
                "value": before["StateValue"],
                "reason": before.get("StateReason", ""),
                "timestamp": before["StateUpdatedTimestamp"],
            },
        )
        recorded_before = len(stack.moto.recorded_requests())
        summary = stack.invoke(deployment, event, monkeypatch=monkeypatch, overrides={})
    assert summary == {"records": 1, "delivered": 1, "failed": 0}
    ssm_reads = [
        json.loads(r.body)
        for r in stack.moto.recorded_requests()[recorded_before:]
        if r.body.startswith(b"{") and b'"Name"' in r.body and SSM_PARAMETER.encode() in r.body
    ]
    assert {"Name": SSM_PARAMETER, "WithDecryption": True} in ssm_reads
    [payload] = fake_slack.requests
    text = _slack_text(payload)
    assert _header(payload) == f":rotating_light: ALARM: {alarm_name}"
    assert payload["attachments"][0]["color"] == STATE_COLOURS["ALARM"]
    assert f"LoadBalancer={LOAD_BALANCER}" in text
    assert "HTTPCode_Target_5XX_Count" in text
    assert _local_time(event["alarmData"]["state"]["timestamp"], "UTC") in text
    assert "<!here>" not in text


# -- destroy (keep last: it tears the stack down) ----------------------------------------------


def _leftovers(stack: Stack, region: str) -> dict[str, list[Any]]:
    lam = stack.client("lambda", region)
    cw = stack.client("cloudwatch", region)
    alarms = cw.describe_alarms()
    instances = [
        i["InstanceId"]
        for r in stack.client("ec2", region).describe_instances()["Reservations"]
        for i in r["Instances"]
        if i["State"]["Name"] not in ("terminated", "shutting-down")
    ]
    return {
        "functions": lam.list_functions()["Functions"],
        "event source mappings": lam.list_event_source_mappings()["EventSourceMappings"],
        "topics": stack.client("sns", region).list_topics()["Topics"],
        "subscriptions": stack.client("sns", region).list_subscriptions()["Subscriptions"],
        "queues": stack.client("sqs", region).list_queues().get("QueueUrls", []),
        "metric alarms": alarms["MetricAlarms"],
        "composite alarms": alarms["CompositeAlarms"],
        "log groups": stack.client("logs", region).describe_log_groups()["logGroups"],
        # moto preloads AWS's public parameters (/aws/service/...), as AWS serves them.
        "parameters": [
            p
            for p in stack.client("ssm", region).describe_parameters()["Parameters"]
            if not p["Name"].startswith("/aws/service/")
        ],
        "running instances": instances,
    }


def test_destroy_leaves_nothing_behind(stack: Stack) -> None:
    stack.destroy_all()
    stack.remove_own_resources()
    iam = stack.client("iam", "us-east-1")
    left: dict[str, Any] = {
        "roles": iam.list_roles()["Roles"],
        "customer policies": iam.list_policies(Scope="Local")["Policies"],
    }
    for region in sorted({REGION, "us-east-1"}):
        left.update(
            {f"{kind} ({region})": items for kind, items in _leftovers(stack, region).items()}
        )
    assert {kind: items for kind, items in left.items() if items} == {}
    for deployment in stack.deployments.values():
        state = json.loads(
            Path(deployment.workdir / "terraform.tfstate").read_text(encoding="utf-8")
        )
        assert state["resources"] == [], deployment.example
