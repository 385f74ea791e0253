"""Property: whatever is published to the topic, the payload is valid, bounded and safe."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from alarm import parse_event
from formatting import (
    BLOCKS_LIMIT,
    FIELD_LIMIT,
    FIELDS_PER_SECTION,
    HEADER_LIMIT,
    SECTION_TEXT_LIMIT,
)
from message import format_message
from settings import Settings, load_settings
from slack import encode_payload
from support.slack_rules import message_refusal

URL = "https://hooks.slack.com/services/T/B/property"
SETTINGS = [
    load_settings({"SLACK_WEBHOOK_URL": URL}),
    load_settings(
        {
            "SLACK_WEBHOOK_URL": URL,
            "TIMEZONE": "Asia/Seoul",
            "MESSAGE_LANGUAGE": "ko",
            "ALARM_MENTION": "<!here>",
        }
    ),
]

slack_text = st.one_of(
    st.text(max_size=40),
    st.text(alphabet="<>&!@#|:*_~`x ", max_size=40),
    st.sampled_from(
        ["<!channel>", "<!here|here>", "<@U0123>", "<https://evil.example|x>", "&amp;", "ALARM"]
    ),
    # Long values, built cheaply: they must be cut to Slack's limits.
    st.builds(
        lambda chunk, count: chunk * count,
        st.sampled_from(["<", "&", "ab", "\U0001f525", "한", "<!channel> "]),
        st.integers(1000, 4000),
    ),
)
scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), slack_text)
json_values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(slack_text, children, max_size=4)
    ),
    max_leaves=12,
)
states = st.one_of(st.sampled_from(["ALARM", "OK", "INSUFFICIENT_DATA"]), json_values)
timestamps = st.one_of(
    st.sampled_from(
        ["2017-01-12T16:30:42.236+0000", "2017-01-12T16:30:42Z", "9999-12-31T23:59:59-2359"]
    ),
    json_values,
)
arns = st.one_of(
    st.builds(
        lambda partition, name: f"arn:{partition}:cloudwatch:us-east-1:123456789012:alarm:{name}",
        st.sampled_from(["aws", "aws-cn", "aws-us-gov", "aws-iso"]),
        slack_text,
    ),
    json_values,
)


def optional_dict(mapping: dict[str, st.SearchStrategy]) -> st.SearchStrategy[dict]:
    return st.fixed_dictionaries({}, optional=mapping)


metric_queries = st.lists(
    optional_dict(
        {
            "Id": json_values,
            "Expression": st.one_of(st.just("ANOMALY_DETECTION_BAND(m1, 2)"), json_values),
            "Label": json_values,
            "ReturnData": json_values,
            "MetricStat": optional_dict(
                {
                    "Metric": optional_dict(
                        {
                            "Namespace": json_values,
                            "MetricName": json_values,
                            "Dimensions": json_values,
                        }
                    ),
                    "Period": json_values,
                    "Stat": json_values,
                }
            ),
        }
    ),
    max_size=4,
)
triggers = optional_dict(
    {
        "MetricName": json_values,
        "Namespace": json_values,
        "Statistic": json_values,
        "ExtendedStatistic": json_values,
        "Dimensions": st.one_of(
            st.lists(optional_dict({"name": slack_text, "value": slack_text}), max_size=40),
            json_values,
        ),
        "Period": json_values,
        "EvaluationPeriods": json_values,
        "DatapointsToAlarm": json_values,
        "ComparisonOperator": json_values,
        "Threshold": json_values,
        "ThresholdMetricId": json_values,
        "Metrics": st.one_of(metric_queries, json_values),
    }
)
sns_alarms = optional_dict(
    {
        "AlarmDescription": json_values,
        "AWSAccountId": json_values,
        "NewStateValue": states,
        "OldStateValue": states,
        "NewStateReason": json_values,
        "StateChangeTime": timestamps,
        "Region": json_values,
        "AlarmArn": arns,
        "Trigger": st.one_of(triggers, json_values),
        "AlarmRule": json_values,
        "TriggeringChildren": json_values,
    }
).map(lambda d: d) | st.builds(
    lambda name, rest: {"AlarmName": name, **rest},
    json_values,
    optional_dict({"NewStateValue": states, "Trigger": triggers, "AlarmArn": arns}),
)
alarm_data = optional_dict(
    {
        "alarmName": json_values,
        "state": optional_dict(
            {
                "value": states,
                "reason": json_values,
                "timestamp": timestamps,
                "reasonData": json_values,
            }
        ),
        "previousState": st.one_of(optional_dict({"value": states}), json_values),
        "configuration": optional_dict(
            {"description": json_values, "metrics": metric_queries, "alarmRule": json_values}
        ),
    }
)
direct_events = st.builds(
    lambda data, arn, region: {
        "source": "aws.cloudwatch",
        "alarmArn": arn,
        "region": region,
        "alarmData": data,
    },
    alarm_data,
    arns,
    json_values,
)
eventbridge_events = st.builds(
    lambda detail, resources: {
        "detail-type": "CloudWatch Alarm State Change",
        "resources": resources,
        "detail": detail,
    },
    alarm_data,
    st.one_of(st.lists(arns, max_size=2), json_values),
)
messages = st.one_of(
    slack_text,
    json_values.map(json.dumps),
    sns_alarms.map(json.dumps),
    eventbridge_events.map(json.dumps),
    direct_events.map(json.dumps),
    json_values,
)
sns_events = st.builds(
    lambda bodies, subject: {
        "Records": [
            {"EventSource": "aws:sns", "Sns": {"Message": m, "Subject": subject}} for m in bodies
        ]
    },
    st.lists(messages, min_size=1, max_size=3),
    st.one_of(st.none(), slack_text),
)


def strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in strings(v)]
    return []


def utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def assert_valid_payload(payload: dict, settings: Settings) -> None:
    json.loads(json.dumps(payload, allow_nan=False))
    assert message_refusal(json.loads(encode_payload(payload))) is None
    assert isinstance(payload["text"], str)
    assert payload["text"]
    (attachment,) = payload["attachments"]
    blocks = attachment["blocks"]
    assert 1 <= len(blocks) <= BLOCKS_LIMIT
    assert blocks[0]["type"] == "header"
    assert blocks[0]["text"]["type"] == "plain_text"
    assert 0 < utf16(blocks[0]["text"]["text"]) <= HEADER_LIMIT
    for block in blocks[1:]:
        assert block["type"] in ("section", "actions")
        if "text" in block:
            assert 0 < utf16(block["text"]["text"]) <= SECTION_TEXT_LIMIT
        if "fields" in block:
            assert 1 <= len(block["fields"]) <= FIELDS_PER_SECTION
            for field in block["fields"]:
                assert 0 < utf16(field["text"]) <= FIELD_LIMIT
        if block["type"] == "actions":
            assert block["elements"][0]["url"].startswith("https://")
    # No '<' from the event survives: nothing can mention, link or inject. Only the operator's
    # ALARM_MENTION, at the very start of the fallback text, may contain one.
    mention = settings.alarm_mention
    text = payload["text"]
    if mention and text.startswith(mention + " "):
        text = text[len(mention) + 1 :]
    for value in [*strings(attachment), text]:
        assert "<" not in value
        assert ">" not in value.replace("&gt;", "")


@hypothesis_settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(event=sns_events, which=st.sampled_from([0, 1]))
def test_any_sns_message_formats_into_a_valid_bounded_safe_payload(event: dict, which: int) -> None:
    settings = SETTINGS[which]
    alarms = parse_event(event)
    assert len(alarms) == len(event["Records"])
    for alarm in alarms:
        assert_valid_payload(format_message(alarm, settings), settings)


@hypothesis_settings(max_examples=150, deadline=None)
@given(
    event=st.one_of(
        json_values,
        direct_events,
        eventbridge_events,
        sns_alarms,
        st.builds(dict, Records=json_values),
    )
)
def test_any_event_at_all_parses_without_error(event: object) -> None:
    for alarm in parse_event(event):
        assert_valid_payload(format_message(alarm, SETTINGS[0]), SETTINGS[0])
