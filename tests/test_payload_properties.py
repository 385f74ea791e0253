"""Property: for any input, every payload the renderers produce is one Slack takes.

Hostile input: CloudWatch's maximum lengths (and beyond, as a malformed publisher may send),
`&<>` everywhere (escaping inflates them fivefold), lone UTF-16 surrogates, emoji, up to 1,000
alarms in a digest, and every setting (language, mention, overrides, account names, notes).
Each payload, as the notifier encodes it, must pass three checks:
- slack_sdk 3.47.0's Block Kit models (`Block.parse(b).validate_json()` raises on a limit);
- the fakes' rules (support.slack_rules.message_refusal is None);
- the renderers' own total budget (formatting.MESSAGE_BUDGET, counted as the fakes count),
  well under the lowest refusal reported (11,341).
The plain fallbacks sent after a refusal (render.plain_fallback) must pass the fakes too.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from slack_sdk.models.blocks import Block

from alarm import parse_records
from formatting import MESSAGE_BUDGET
from grouping import Notification, collect_entries
from records import replace
from render import plain_fallback, render_notification
from settings import Settings, load_settings
from slack import encode_payload
from support.slack_rules import all_blocks, block_text_total, message_refusal

ACCOUNT = "123456789012"
REGION = "ap-northeast-2"
# CloudWatch's documented maximum lengths (PutMetricAlarm / PutCompositeAlarm, Dimension,
# MetricDataQuery).
NAME_MAX = 255
DESCRIPTION_MAX = 1024
REASON_MAX = 1023
NAMESPACE_MAX = 255
METRIC_NAME_MAX = 255
DIMENSIONS_MAX = 30
DIMENSION_MAX = 255
QUERIES_MAX = 20
EXPRESSION_MAX = 2048
ALARM_RULE_MAX = 10240
# A publisher that is not CloudWatch (any SNS message is taken) may send longer values.
BEYOND = 5000

CHUNKS = ["&", "<", ">", "a", "한", "\U0001f525", "\ud800", "*", "`", "\n", "<!here>", " "]


@st.composite
def hostile(draw: st.DrawFn, limit: int) -> str:
    """Text of up to `limit` characters (or BEYOND, now and then) of the worst kinds."""
    size = draw(st.one_of(st.just(limit), st.integers(0, limit), st.just(BEYOND)))
    if draw(st.booleans()):
        chunk = draw(st.sampled_from(CHUNKS))
        return (chunk * size)[:size]
    mix = "".join(draw(st.lists(st.sampled_from(CHUNKS), min_size=1, max_size=12)))
    return (mix * (size // len(mix) + 1))[:size]


def arn(name: str) -> str:
    return f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:{name}"


@st.composite
def sns_alarm(draw: st.DrawFn) -> dict[str, Any]:
    """CloudWatch's SNS message for one alarm, every field as long as it may be."""
    name = draw(hostile(NAME_MAX))
    message: dict[str, Any] = {
        "AlarmName": name,
        "AlarmDescription": draw(hostile(DESCRIPTION_MAX)),
        "AWSAccountId": ACCOUNT,
        "NewStateValue": draw(st.sampled_from(["ALARM", "OK", "INSUFFICIENT_DATA"])),
        "OldStateValue": "OK",
        "NewStateReason": draw(hostile(REASON_MAX)),
        "StateChangeTime": draw(
            st.one_of(
                st.just("2024-05-14T07:21:04.123+0000"),
                # Unparseable: shown verbatim, and a digest splits it into date, time and zone.
                hostile(NAME_MAX).map(lambda tail: f"2024-05-14 07:21:04 {tail}"),
                hostile(NAME_MAX),
            )
        ),
        "Region": "Asia Pacific (Seoul)",
        "AlarmArn": arn(name),
    }
    kind = draw(st.sampled_from(["metric", "math", "composite"]))
    if kind == "composite":
        message["AlarmRule"] = draw(hostile(ALARM_RULE_MAX))
        message["TriggeringChildren"] = [
            {"Arn": arn(draw(hostile(NAME_MAX))), "State": {"Value": "ALARM"}}
            for _ in range(draw(st.integers(0, 5)))
        ]
        return message
    trigger: dict[str, Any] = {
        "Namespace": draw(hostile(NAMESPACE_MAX)),
        "StatisticType": "Statistic",
        "Statistic": "AVERAGE",
        "Period": 60,
        "EvaluationPeriods": 3,
        "DatapointsToAlarm": 2,
        "ComparisonOperator": "GreaterThanOrEqualToThreshold",
        "Threshold": 80.0,
    }
    dimension = {"name": draw(hostile(DIMENSION_MAX)), "value": draw(hostile(DIMENSION_MAX))}
    if kind == "metric":
        trigger["MetricName"] = draw(hostile(METRIC_NAME_MAX))
        trigger["Dimensions"] = [dimension] * draw(st.sampled_from([1, DIMENSIONS_MAX]))
    else:
        query = {
            "Id": "e1",
            "Expression": draw(hostile(EXPRESSION_MAX)),
            "Label": draw(hostile(NAME_MAX)),
            "ReturnData": True,
        }
        trigger["Metrics"] = [query] * draw(st.sampled_from([1, QUERIES_MAX]))
    message["Trigger"] = trigger
    return message


def sqs_event(messages: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "Records": [
            {
                "eventSource": "aws:sqs",
                "messageId": f"m-{index}",
                "body": json.dumps(
                    {
                        "Type": "Notification",
                        "MessageId": f"sns-{index}",
                        "Subject": "ALARM",
                        "Message": json.dumps(message),
                    }
                ),
            }
            for index, message in enumerate(messages)
        ]
    }


WEBHOOK = "https://hooks.slack.com/services/T0/B0/property"


@st.composite
def any_settings(draw: st.DrawFn) -> Settings:
    environ = {"SLACK_WEBHOOK_URL": WEBHOOK, "TIMEZONE": "Asia/Seoul"}
    environ["MESSAGE_LANGUAGE"] = draw(st.sampled_from(["ko", "en"]))
    if draw(st.booleans()):
        environ["ALARM_MENTION"] = "<!here>"
    if draw(st.booleans()):
        environ |= {
            "SLACK_CHANNEL": "#alerts",
            "SLACK_USERNAME": "알람",
            "SLACK_ICON_EMOJI": ":bell:",
        }
    settings = load_settings(environ)
    # Notes quote a setting's value cut to 60 characters; six of them are realistic, eight harsh.
    notes = tuple(draw(st.lists(hostile(200), max_size=8)))
    names = ((ACCOUNT, draw(hostile(100))),) if draw(st.booleans()) else ()
    return replace(settings, notes=notes, account_names=names)


def as_sent(payload: dict[str, Any]) -> dict[str, Any]:
    """The payload as Slack receives it: the notifier's encoding (lone surrogates replaced)."""
    return json.loads(encode_payload(payload))


def block_strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in block_strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in block_strings(v)]
    return []


def assert_slack_takes(payload: dict[str, Any]) -> None:
    sent = as_sent(payload)
    # Event text never mentions anyone (only ALARM_MENTION, in the top-level text, may).
    assert not any("<!" in s for s in block_strings(all_blocks(sent)))
    assert message_refusal(sent) is None, message_refusal(sent)
    total = block_text_total(sent)
    assert total <= MESSAGE_BUDGET, total
    for block in all_blocks(sent):
        parsed = Block.parse(block)
        assert parsed is not None, block["type"]
        parsed.validate_json()  # raises SlackObjectFormationError past a limit


def assert_plain_fallback_is_taken(notification: Notification, settings: Settings) -> None:
    parts = plain_fallback(notification.entries, settings)
    assert [e for p in parts for e in p.entries] == list(notification.entries)
    for part in parts:
        sent = as_sent(part.payload)
        assert message_refusal(sent) is None
        assert "blocks" not in sent
        assert "attachments" not in sent


@hypothesis_settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(message=sns_alarm(), settings=any_settings())
def test_any_single_alarm_renders_into_a_payload_slack_takes(
    message: dict[str, Any], settings: Settings
) -> None:
    (entry,) = collect_entries(parse_records(sqs_event([message])))
    notification = Notification("alarm", (entry,))
    (part,) = render_notification(notification, settings)
    assert_slack_takes(part.payload)
    assert_plain_fallback_is_taken(notification, settings)


@hypothesis_settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    templates=st.lists(sns_alarm(), min_size=1, max_size=4),
    # 1,000 alarms (the inbox's batch size) in about one example of four: they cost the time.
    count=st.one_of(st.integers(2, 60), st.integers(2, 60), st.integers(2, 60), st.just(1000)),
    settings=any_settings(),
)
def test_any_digest_renders_into_payloads_slack_takes_naming_every_alarm_once(
    templates: list[dict[str, Any]], count: int, settings: Settings
) -> None:
    messages = []
    for index in range(count):
        template = templates[index % len(templates)]
        name = f"{index:04d}-{template['AlarmName']}"
        messages.append({**template, "AlarmName": name, "AlarmArn": arn(name)})
    entries = tuple(collect_entries(parse_records(sqs_event(messages))))
    notification = Notification("digest", entries)
    parts = render_notification(notification, settings)
    assert sorted(id(e) for p in parts for e in p.entries) == sorted(id(e) for e in entries)
    for part in parts:
        assert_slack_takes(part.payload)
    assert_plain_fallback_is_taken(notification, settings)


@pytest.mark.parametrize("groups", [49, 50, 120])
def test_a_digest_of_many_groups_stays_within_50_blocks(groups: int) -> None:
    # One alarm per namespace: every alarm is its own group, its own section.
    messages = []
    for index in range(groups):
        name = f"alarm-{index}"
        messages.append(
            {
                "AlarmName": name,
                "AlarmArn": arn(name),
                "AWSAccountId": ACCOUNT,
                "NewStateValue": "ALARM",
                "NewStateReason": "Threshold Crossed",
                "StateChangeTime": "2024-05-14T07:21:04.123+0000",
                "Trigger": {"Namespace": f"Custom/{index}", "MetricName": "Errors"},
            }
        )
    settings = replace(load_settings({"SLACK_WEBHOOK_URL": WEBHOOK}), notes=("a note",) * 6)
    entries = tuple(collect_entries(parse_records(sqs_event(messages))))
    for part in render_notification(Notification("digest", entries), settings):
        assert_slack_takes(part.payload)


def test_a_5000_character_namespace_does_not_break_the_digest_heading() -> None:
    messages = []
    for index in range(37):
        name = f"alarm-{index}"
        namespace = "N" * 5000 if index == 0 else "AWS/EC2"
        messages.append(
            {
                "AlarmName": name,
                "AlarmArn": arn(name),
                "NewStateValue": "ALARM",
                "Trigger": {"Namespace": namespace, "MetricName": "CPUUtilization"},
            }
        )
    entries = tuple(collect_entries(parse_records(sqs_event(messages))))
    settings = load_settings({"SLACK_WEBHOOK_URL": WEBHOOK})
    for part in render_notification(Notification("digest", entries), settings):
        assert_slack_takes(part.payload)


@pytest.mark.parametrize("when", ["<!here> soon", "2024-05-14 07:21:04 <!channel>"])
def test_an_unparseable_time_cannot_mention_anyone_in_a_digest(when: str) -> None:
    messages = []
    for index in range(5):
        name = f"alarm-{index}"
        messages.append(
            {
                "AlarmName": name,
                "AlarmArn": arn(name),
                "NewStateValue": "ALARM",
                "StateChangeTime": when,
            }
        )
    entries = tuple(collect_entries(parse_records(sqs_event(messages))))
    settings = load_settings({"SLACK_WEBHOOK_URL": WEBHOOK})
    for part in render_notification(Notification("digest", entries), settings):
        assert_slack_takes(part.payload)
