"""Plays CloudWatch's part: the alarm-state-change message and events it would send, built from
`describe_alarms` output (moto never runs alarm actions, so a test has to).

Formats follow AWS's documented examples:
- the SNS notification: `Message` is a JSON string with AlarmName, AlarmDescription, AWSAccountId,
  AlarmConfigurationUpdatedTimestamp, NewStateValue, NewStateReason, StateChangeTime
  (`2017-01-12T16:30:42.236+0000`), Region (display name), AlarmArn, OldStateValue, OKActions,
  AlarmActions, InsufficientDataActions and Trigger (MetricName, Namespace, StatisticType,
  Statistic in upper case, Unit, Dimensions as a list of {"value", "name"}, Period,
  EvaluationPeriods, DatapointsToAlarm, ComparisonOperator, Threshold, TreatMissingData,
  EvaluateLowSampleCountPercentile); Subject `ALARM: "name" in Region` (at most 100 characters);
- the Lambda alarm action ("direct invocation"): source aws.cloudwatch, alarmArn, accountId,
  time, region (code), alarmData {alarmName, state, previousState, configuration {description,
  metrics [{id, metricStat {metric {namespace, name, dimensions as a map}, period, stat, unit},
  returnData}]}};
- SNS's Lambda event: Records[0] {EventSource aws:sns, EventVersion, EventSubscriptionArn,
  Sns {..envelope.., SigningCertUrl, UnsubscribeUrl, MessageAttributes}} (the HTTP/SQS envelope
  spells those two SigningCertURL / UnsubscribeURL).
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Mapping
from functools import cache
from typing import Any

SUBJECT_LIMIT = 100  # SNS rejects longer subjects; CloudWatch cuts its own.


def cloudwatch_timestamp(value: dt.datetime | str) -> str:
    """CloudWatch's notification time format: 2017-01-12T16:30:42.236+0000 (UTC, milliseconds)."""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    value = value.astimezone(dt.UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}+0000"


@cache
def _region_names() -> dict[str, str]:
    try:
        import botocore.session  # noqa: PLC0415 - dev dependency, only for the display names
    except ImportError:
        return {}
    data = botocore.session.get_session().get_data("endpoints")
    names: dict[str, str] = {}
    for partition in data.get("partitions", []):
        for code, region in partition.get("regions", {}).items():
            description = region.get("description")
            if description:
                # CloudWatch notifications still say "EU (Ireland)" where the console now
                # says "Europe (Ireland)".
                names[code] = description.replace("Europe (", "EU (", 1)
    return names


def region_display_name(region: str) -> str:
    """The name CloudWatch puts in a notification's Region field, e.g. Asia Pacific (Seoul)."""
    return _region_names().get(region, region)


def _arn_parts(arn: str) -> list[str]:
    parts = arn.split(":", 5)
    if len(parts) < 6 or parts[0] != "arn":
        raise ValueError(f"not an ARN: {arn!r}")
    return parts


def _threshold(alarm: Mapping[str, Any]) -> float | None:
    value = alarm.get("Threshold")
    return None if value is None else float(value)


def alarm_state_change_message(
    alarm: Mapping[str, Any], *, old_state: str, new_state: str | None = None
) -> dict[str, Any]:
    """The JSON CloudWatch publishes to an alarm's SNS action, from one `describe_alarms`
    MetricAlarms entry (taken after the state change) and the state it left."""
    _, _, _, region, account, _resource = _arn_parts(alarm["AlarmArn"])
    trigger: dict[str, Any] = {
        "MetricName": alarm.get("MetricName"),
        "Namespace": alarm.get("Namespace"),
    }
    if alarm.get("ExtendedStatistic"):
        trigger["StatisticType"] = "ExtendedStatistic"
        trigger["ExtendedStatistic"] = alarm["ExtendedStatistic"]
    else:
        trigger["StatisticType"] = "Statistic"
        trigger["Statistic"] = str(alarm.get("Statistic") or "").upper()
    trigger.update(
        {
            "Unit": alarm.get("Unit"),
            "Dimensions": [
                {"value": dimension["Value"], "name": dimension["Name"]}
                for dimension in alarm.get("Dimensions") or []
            ],
            "Period": alarm.get("Period"),
            "EvaluationPeriods": alarm.get("EvaluationPeriods"),
        }
    )
    if alarm.get("DatapointsToAlarm") is not None:
        trigger["DatapointsToAlarm"] = alarm["DatapointsToAlarm"]
    trigger.update(
        {
            "ComparisonOperator": alarm.get("ComparisonOperator"),
            "Threshold": _threshold(alarm),
            "TreatMissingData": alarm.get("TreatMissingData") or "missing",
            "EvaluateLowSampleCountPercentile": alarm.get("EvaluateLowSampleCountPercentile") or "",
        }
    )
    updated = alarm.get("AlarmConfigurationUpdatedTimestamp")
    return {
        "AlarmName": alarm["AlarmName"],
        "AlarmDescription": alarm.get("AlarmDescription"),
        "AWSAccountId": account,
        "AlarmConfigurationUpdatedTimestamp": cloudwatch_timestamp(updated) if updated else None,
        "NewStateValue": new_state or alarm["StateValue"],
        "NewStateReason": alarm.get("StateReason", ""),
        "StateChangeTime": cloudwatch_timestamp(alarm["StateUpdatedTimestamp"]),
        "Region": region_display_name(region),
        "AlarmArn": alarm["AlarmArn"],
        "OldStateValue": old_state,
        "OKActions": list(alarm.get("OKActions") or []),
        "AlarmActions": list(alarm.get("AlarmActions") or []),
        "InsufficientDataActions": list(alarm.get("InsufficientDataActions") or []),
        "Trigger": trigger,
    }


def sns_subject(message: Mapping[str, Any]) -> str:
    """CloudWatch's subject line: ALARM: "name" in Region, cut to SNS's 100-character limit."""
    subject = f'{message["NewStateValue"]}: "{message["AlarmName"]}" in {message["Region"]}'
    return subject[:SUBJECT_LIMIT]


def direct_invocation_event(
    alarm: Mapping[str, Any],
    *,
    previous_state: Mapping[str, Any],
    metric_id: str | None = None,
) -> dict[str, Any]:
    """The event CloudWatch sends to a Lambda function that is an alarm's action, from one
    `describe_alarms` MetricAlarms entry (after the change) and the previous state
    ({"value", "reason", "timestamp", optional "reasonData"})."""
    _, _, _, region, account, _resource = _arn_parts(alarm["AlarmArn"])
    when = cloudwatch_timestamp(alarm["StateUpdatedTimestamp"])
    state: dict[str, Any] = {"value": alarm["StateValue"], "reason": alarm.get("StateReason", "")}
    if alarm.get("StateReasonData"):
        state["reasonData"] = alarm["StateReasonData"]
    state["timestamp"] = when
    previous = {key: previous_state[key] for key in ("value", "reason") if key in previous_state}
    if previous_state.get("reasonData"):
        previous["reasonData"] = previous_state["reasonData"]
    previous_time = previous_state.get("timestamp")
    if previous_time is not None:
        previous["timestamp"] = (
            previous_time if isinstance(previous_time, str) else cloudwatch_timestamp(previous_time)
        )
    metric_stat: dict[str, Any] = {
        "metric": {
            "namespace": alarm.get("Namespace"),
            "name": alarm.get("MetricName"),
            "dimensions": {d["Name"]: d["Value"] for d in alarm.get("Dimensions") or []},
        },
        "period": alarm.get("Period"),
        "stat": alarm.get("ExtendedStatistic") or alarm.get("Statistic"),
    }
    if alarm.get("Unit"):
        metric_stat["unit"] = alarm["Unit"]
    configuration: dict[str, Any] = {}
    if alarm.get("AlarmDescription"):
        configuration["description"] = alarm["AlarmDescription"]
    configuration["metrics"] = [
        {"id": metric_id or str(uuid.uuid4()), "metricStat": metric_stat, "returnData": True}
    ]
    return {
        "source": "aws.cloudwatch",
        "alarmArn": alarm["AlarmArn"],
        "accountId": account,
        "time": when,
        "region": region,
        "alarmData": {
            "alarmName": alarm["AlarmName"],
            "state": state,
            "previousState": previous,
            "configuration": configuration,
        },
    }


def threshold_crossed_reason(
    *, value: float, threshold: float, operator_text: str, when: dt.datetime, old: str, new: str
) -> str:
    """A StateReason worded like CloudWatch's for a 1-of-1 datapoint threshold crossing."""
    stamp = when.astimezone(dt.UTC).strftime("%d/%m/%y %H:%M:%S")
    return (
        f"Threshold Crossed: 1 out of the last 1 datapoints [{value} ({stamp})] was "
        f"{operator_text} the threshold ({threshold}) (minimum 1 datapoint for {old} -> {new} "
        "transition)."
    )


def threshold_reason_data(
    *, value: float, threshold: float, statistic: str, period: int, when: dt.datetime
) -> str:
    """StateReasonData (a JSON string) like CloudWatch's for one evaluated datapoint."""
    start = when.astimezone(dt.UTC).replace(second=0, microsecond=0)
    return json.dumps(
        {
            "version": "1.0",
            "queryDate": cloudwatch_timestamp(when),
            "startDate": cloudwatch_timestamp(start),
            "statistic": statistic,
            "period": period,
            "recentDatapoints": [value],
            "threshold": threshold,
            "evaluatedDatapoints": [
                {"timestamp": cloudwatch_timestamp(start), "sampleCount": 1.0, "value": value}
            ],
        },
        separators=(",", ":"),
    )


def sns_lambda_event(
    envelope: Mapping[str, Any], *, subscription_arn: str | None = None
) -> dict[str, Any]:
    """SNS's event for a subscribed Lambda function, from the envelope as delivered over
    HTTP/SQS (raw delivery off): same fields, two renamed, plus MessageAttributes."""
    subscription = subscription_arn or f"{envelope['TopicArn']}:{uuid.uuid4()}"
    sns: dict[str, Any] = {
        "Type": envelope["Type"],
        "MessageId": envelope["MessageId"],
        "TopicArn": envelope["TopicArn"],
        "Subject": envelope.get("Subject"),
        "Message": envelope["Message"],
        "Timestamp": envelope["Timestamp"],
        "SignatureVersion": envelope.get("SignatureVersion"),
        "Signature": envelope.get("Signature"),
        "SigningCertUrl": envelope.get("SigningCertURL") or envelope.get("SigningCertUrl"),
        "UnsubscribeUrl": envelope.get("UnsubscribeURL") or envelope.get("UnsubscribeUrl"),
        "MessageAttributes": dict(envelope.get("MessageAttributes") or {}),
    }
    return {
        "Records": [
            {
                "EventSource": "aws:sns",
                "EventVersion": "1.0",
                "EventSubscriptionArn": subscription,
                "Sns": sns,
            }
        ]
    }
