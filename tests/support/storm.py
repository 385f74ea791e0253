"""Alarm storms as the inbox queue hands them to Lambda: SNS envelopes in SQS records."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import random
import uuid
from typing import Any

from support.cloudwatch import alarm_state_change_message, cloudwatch_timestamp

ACCOUNT = "123456789012"
REGION = "ap-northeast-2"
TOPIC_ARN = f"arn:aws:sns:{REGION}:{ACCOUNT}:alerts-alarms"
QUEUE_ARN = f"arn:aws:sqs:{REGION}:{ACCOUNT}:alerts-inbox"
START = dt.datetime(2024, 5, 14, 7, 21, tzinfo=dt.UTC)

# (namespace, metric, statistic, threshold) of the alarms a zone outage sets off.
METRICS = (
    ("AWS/EC2", "StatusCheckFailed", "Maximum", 1.0),
    ("AWS/EC2", "CPUUtilization", "Average", 80.0),
    ("AWS/ApplicationELB", "TargetResponseTime", "Average", 2.0),
    ("AWS/RDS", "DatabaseConnections", "Maximum", 500.0),
)


def alarm_message(
    name: str,
    *,
    state: str = "ALARM",
    old_state: str | None = None,
    when: dt.datetime = START,
    metric: tuple[str, str, str, float] = METRICS[0],
    region: str = REGION,
    account: str = ACCOUNT,
) -> dict[str, Any]:
    """CloudWatch's SNS message for one alarm state change (names may be anything)."""
    namespace, metric_name, statistic, threshold = metric
    arn = f"arn:aws:cloudwatch:{region}:{account}:alarm:{name}"
    reason = (
        f"Threshold Crossed: 1 out of the last 1 datapoints [{threshold * 1.2:g} "
        f"({when:%d/%m/%y %H:%M:%S})] was greater than or equal to the threshold "
        f"({threshold:g}) (minimum 1 datapoint for OK -> ALARM transition)."
        if state == "ALARM"
        else "Threshold Crossed: 1 out of the last 1 datapoints was not greater than or equal "
        f"to the threshold ({threshold:g})."
    )
    described = {
        "AlarmName": name,
        "AlarmArn": arn,
        "AlarmDescription": f"{metric_name} of {name}",
        "StateValue": state,
        "StateReason": reason,
        "StateUpdatedTimestamp": when,
        "MetricName": metric_name,
        "Namespace": namespace,
        "Statistic": statistic,
        "Dimensions": [{"Name": "InstanceId", "Value": "i-0" + _hex(name, 16)}],
        "Period": 60,
        "EvaluationPeriods": 1,
        "ComparisonOperator": "GreaterThanOrEqualToThreshold",
        "Threshold": threshold,
        "AlarmActions": [TOPIC_ARN],
        "OKActions": [TOPIC_ARN],
    }
    old = old_state or ("OK" if state == "ALARM" else "ALARM")
    return alarm_state_change_message(described, old_state=old, new_state=state)


def _hex(text: str, length: int) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:length]


def sns_envelope(message: dict[str, Any] | str, *, message_id: str | None = None) -> dict[str, Any]:
    """The SNS notification as an SQS subscription (raw delivery off) receives it."""
    text = message if isinstance(message, str) else json.dumps(message)
    subject = None
    if isinstance(message, dict):
        subject = f'{message.get("NewStateValue")}: "{message.get("AlarmName")}"'[:100]
    return {
        "Type": "Notification",
        "MessageId": message_id or str(uuid.uuid4()),
        "TopicArn": TOPIC_ARN,
        "Subject": subject,
        "Message": text,
        "Timestamp": cloudwatch_timestamp(START).replace("+0000", "Z"),
        "SignatureVersion": "1",
        "Signature": "EXAMPLE",
        "SigningCertURL": "https://sns.ap-northeast-2.amazonaws.com/cert.pem",
        "UnsubscribeURL": "https://sns.ap-northeast-2.amazonaws.com/?Action=Unsubscribe",
    }


def sqs_record(body: dict[str, Any] | str, *, message_id: str | None = None) -> dict[str, Any]:
    """One record of Lambda's SQS event, as the event source mapping builds it."""
    text = body if isinstance(body, str) else json.dumps(body)
    return {
        "messageId": message_id or str(uuid.uuid4()),
        "receiptHandle": "AQEB" + _hex(text, 40),
        "body": text,
        "attributes": {
            "ApproximateReceiveCount": "1",
            "SentTimestamp": "1715671265123",
            "SenderId": "AIDAIENQZJOLO23YVJ4VO",
            "ApproximateFirstReceiveTimestamp": "1715671265130",
        },
        "messageAttributes": {},
        "md5OfBody": hashlib.md5(text.encode("utf-8", "surrogatepass")).hexdigest(),  # noqa: S324
        "eventSource": "aws:sqs",
        "eventSourceARN": QUEUE_ARN,
        "awsRegion": REGION,
    }


def sqs_event(bodies: list[dict[str, Any] | str]) -> dict[str, Any]:
    """Lambda's SQS event holding these bodies, one record each."""
    return {"Records": [sqs_record(body) for body in bodies]}


def storm_messages(
    count: int, *, seed: int = 0, ok_share: float = 0.1, name_length: int = 0
) -> list[dict[str, Any]]:
    """`count` alarm state changes of distinct alarms within one minute: mostly ALARM, some OK,
    over a few metrics. name_length > 0 pads every name to that many characters."""
    rng = random.Random(seed)  # noqa: S311 - reproducible test data, not secrets
    messages = []
    for index in range(count):
        name = f"prod-{index:04d}-" + METRICS[index % len(METRICS)][1].lower()
        if name_length:
            name = (name + "-" + "x" * name_length)[:name_length]
        state = "OK" if rng.random() < ok_share else "ALARM"
        when = START + dt.timedelta(seconds=rng.randint(0, 59), milliseconds=rng.randint(0, 999))
        metric = METRICS[index % len(METRICS)]
        messages.append(alarm_message(name, state=state, when=when, metric=metric))
    return messages


def storm_event(count: int, **kwargs: Any) -> dict[str, Any]:
    """Lambda's SQS event for a storm of `count` alarms (see storm_messages)."""
    return sqs_event([sns_envelope(m) for m in storm_messages(count, **kwargs)])
