"""End to end against a local moto: examples/organization (capture mode and the central bus)
applies; an alarm state change put on the default bus reaches the inbox through the module's own
rule and the deployed handler turns it into a Slack message; a forwarded (cross-account) event on
the central bus does the same and names its account; an alarm of the module that also notifies
the topic is posted once.

moto runs no alarm and no Lambda poller: the test plays CloudWatch (`events put-events` with the
state-change event's shape, and the SNS notification on the topic) and Lambda (a batch read from
the inbox, handed to the deployed zip). moto's bus-to-bus delivery drops an event's `resources`,
account and region, so the forwarder's own hop is covered by `terraform test` and the plans of
examples/organization/member, not here."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from e2e.harness import REGION, SSM_PARAMETER, Deployment, Stack, copy_example, terraform_env_for

from support.aws_override import write_aws_override
from support.fake_slack import FakeSlack
from support.moto_server import MotoServer
from support.sqs_poller import poll_until_empty
from support.terraform import REPO_ROOT

pytestmark = pytest.mark.e2e

NAME = "e2e-org"
SECOND_REGION = "us-west-2"
MOTO_ACCOUNT = "123456789012"  # moto's default account: the central account here
MEMBER_ACCOUNT = "444455556666"
PLACEHOLDER_WEBHOOK = "https://hooks.slack.com/services/T00000000/B00000000/e2eOrgPlaceholder"


@pytest.fixture(scope="module")
def organization(
    moto_server: MotoServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Stack, Deployment]]:
    """examples/organization applied into moto (destroyed at the end in any case)."""
    tmp = tmp_path_factory.mktemp("e2e-org")
    stack = Stack(moto=moto_server, deployments={}, tmp=tmp)
    stack.client("ssm").put_parameter(
        Name=SSM_PARAMETER, Value=PLACEHOLDER_WEBHOOK, Type="SecureString", Overwrite=True
    )
    # copy_example brings modules/ too (the example uses modules/forwarder).
    workdir = copy_example("organization", tmp / "organization")
    write_aws_override(workdir)
    deployment = Deployment(
        example="organization",
        name=NAME,
        workdir=workdir,
        variables={
            "aws_region": REGION,
            "second_region": SECOND_REGION,
            "name": NAME,
            "slack_webhook_ssm_parameter_name": SSM_PARAMETER,
            "organization_id": "o-a1b2c3d4e5",
            "account_names": {MOTO_ACCOUNT: "central", MEMBER_ACCOUNT: "payments-prod"},
            "tags": {"Purpose": "alarm-to-slack-e2e"},
        },
        env=terraform_env_for(moto_server.endpoint),
    )
    stack.deployments["organization"] = deployment
    try:
        deployment.deploy()
        yield stack, deployment
    finally:
        deployment.destroy()
        stack.client("ssm").delete_parameter(Name=SSM_PARAMETER)


def _state_change(name: str, *, account: str, region: str, state: str = "ALARM") -> dict[str, Any]:
    """A CloudWatch alarm state change in the shape of examples/events/*.json."""
    event = json.loads(
        (REPO_ROOT / "examples/events/eventbridge-cross-account-alarm.json").read_text()
    )
    event["detail"]["alarmName"] = name
    event["detail"]["state"]["value"] = state
    event["resources"] = [f"arn:aws:cloudwatch:{region}:{account}:alarm:{name}"]
    return event


def _put(stack: Stack, event: dict[str, Any], *, bus: str = "default") -> None:
    """What CloudWatch (or a forwarder) does: put the event on a bus of the central region."""
    answer = stack.client("events").put_events(
        Entries=[
            {
                "Source": event["source"],
                "DetailType": event["detail-type"],
                "Detail": json.dumps(event["detail"]),
                "Resources": event["resources"],
                "EventBusName": bus,
            }
        ]
    )
    assert answer["FailedEntryCount"] == 0, answer


def _publish_sns(stack: Stack, topic_arn: str, name: str) -> None:
    """What CloudWatch does for an alarm whose action is the module's topic."""
    message = {
        "AlarmName": name,
        "NewStateValue": "ALARM",
        "OldStateValue": "OK",
        "NewStateReason": "Threshold Crossed: 1 datapoint [95.0] was >= the threshold (80.0).",
        "StateChangeTime": "2024-05-14T07:21:04.987+0000",
        "Region": "Asia Pacific (Seoul)",
        "AlarmArn": f"arn:aws:cloudwatch:{REGION}:{MOTO_ACCOUNT}:alarm:{name}",
        "AWSAccountId": MOTO_ACCOUNT,
        "Trigger": {"MetricName": "CPUUtilization", "Namespace": "AWS/EC2", "Threshold": 80.0},
    }
    stack.client("sns").publish(
        TopicArn=topic_arn, Subject=f'ALARM: "{name}"', Message=json.dumps(message)
    )


def _deliver_inbox(
    stack: Stack, deployment: Deployment, monkeypatch: pytest.MonkeyPatch
) -> tuple[list[str], list[Any]]:
    """The inbox handed to the deployed handler, which posts to a FakeSlack: (the records'
    bodies, the Slack payloads)."""
    inbox_url = deployment.output("inbox_queue_url")
    with FakeSlack() as slack:
        overrides = {"SLACK_WEBHOOK_URL": slack.url, "SLACK_WEBHOOK_SSM_PARAMETER": ""}
        results = poll_until_empty(
            stack.client("sqs"),
            inbox_url,
            lambda event: stack.invoke(
                deployment, event, monkeypatch=monkeypatch, overrides=overrides
            ),
            batch_size=100,
        )
        payloads = slack.requests
    for result in results:
        assert result.error is None, result
        assert not result.failed, result
    return [record["body"] for result in results for record in result.event["Records"]], payloads


def _mentions(payloads: list[Any], text: str) -> int:
    return sum(json.dumps(payload, ensure_ascii=False).count(text) for payload in payloads)


def test_organization_example_applies_and_replans_empty(
    organization: tuple[Stack, Deployment],
) -> None:
    _, deployment = organization
    assert deployment.plan_exit_code == 0, deployment.plan_output[-4000:]


def test_a_captured_alarm_reaches_slack_through_the_capture_rule(
    organization: tuple[Stack, Deployment], monkeypatch: pytest.MonkeyPatch
) -> None:
    stack, deployment = organization
    name = f"other-team-db-{uuid.uuid4().hex[:6]}"
    _put(stack, _state_change(name, account=MOTO_ACCOUNT, region=REGION))

    bodies, payloads = _deliver_inbox(stack, deployment, monkeypatch)

    assert [json.loads(body)["detail"]["alarmName"] for body in bodies] == [name], bodies
    assert _mentions(payloads, name) >= 1
    assert _mentions(payloads, f"central ({MOTO_ACCOUNT})") >= 1


def test_a_forwarded_alarm_on_the_central_bus_names_its_account_and_region(
    organization: tuple[Stack, Deployment], monkeypatch: pytest.MonkeyPatch
) -> None:
    stack, deployment = organization
    name = f"payments-db-{uuid.uuid4().hex[:6]}"
    bus = deployment.output("central_event_bus_arn").split("/")[-1]
    _put(stack, _state_change(name, account=MEMBER_ACCOUNT, region="us-west-2"), bus=bus)

    bodies, payloads = _deliver_inbox(stack, deployment, monkeypatch)

    assert [json.loads(body)["detail"]["alarmName"] for body in bodies] == [name], bodies
    assert _mentions(payloads, f"payments-prod ({MEMBER_ACCOUNT})") >= 1
    assert _mentions(payloads, "us-west-2") >= 1


def test_an_alarm_of_the_module_that_notifies_the_topic_is_posted_once(
    organization: tuple[Stack, Deployment], monkeypatch: pytest.MonkeyPatch
) -> None:
    stack, deployment = organization
    own = f"{NAME}/web-{uuid.uuid4().hex[:6]}/cpu"
    # CloudWatch does both for one state change: the alarm action and the EventBridge event.
    _publish_sns(stack, deployment.output("sns_topic_arn"), own)
    _put(stack, _state_change(own, account=MOTO_ACCOUNT, region=REGION))
    bus = deployment.output("central_event_bus_arn").split("/")[-1]
    _put(stack, _state_change(own, account=MOTO_ACCOUNT, region=REGION), bus=bus)

    bodies, payloads = _deliver_inbox(stack, deployment, monkeypatch)

    assert len(bodies) == 1, f"the rules must leave the module's own alarms to the topic: {bodies}"
    assert json.loads(bodies[0])["Type"] == "Notification"
    assert len(payloads) == 1
    assert _mentions(payloads, own.split("/", 1)[1]) >= 1
