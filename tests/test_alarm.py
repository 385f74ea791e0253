"""Parsing: every event shape the function can receive becomes Alarm values, never an error."""

from __future__ import annotations

import json

import pytest

from alarm import Alarm, parse_alarm_arn, parse_event
from support import EVENTS_DIR, load_event


def only(event: object) -> Alarm:
    alarms = parse_event(event)
    assert len(alarms) == 1
    return alarms[0]


def sns_event(message: object, subject: object = None) -> dict:
    return {
        "Records": [{"EventSource": "aws:sns", "Sns": {"Message": message, "Subject": subject}}]
    }


def test_every_sample_event_parses_into_at_least_one_record_except_the_empty_one() -> None:
    names = sorted(p.name for p in EVENTS_DIR.glob("*.json"))
    assert len(names) >= 15
    for name in names:
        alarms = parse_event(load_event(name))
        assert (alarms == []) == (name == "empty-records.json"), name


def test_sns_cloudwatch_alarm_keeps_every_field() -> None:
    alarm = only(load_event("sns-alarm-cpu-high"))
    assert (alarm.kind, alarm.source, alarm.event_kind) == ("alarm", "sns", "sns-alarm")
    assert alarm.name == "prod-web-1-cpu"
    assert alarm.description.startswith("CPU of web-1")
    assert (alarm.state, alarm.previous_state) == ("ALARM", "OK")
    assert alarm.reason.startswith("Threshold Crossed: 1 out of the last 1 datapoints [93.4")
    assert alarm.timestamp == "2024-05-14T07:21:04.987+0000"
    assert alarm.region == "ap-northeast-2"  # from the ARN, not the display name
    assert alarm.region_name == "Asia Pacific (Seoul)"
    assert alarm.account == "123456789012"
    assert alarm.arn == "arn:aws:cloudwatch:ap-northeast-2:123456789012:alarm:prod-web-1-cpu"
    assert alarm.alarm_type == "metric"
    assert (alarm.namespace, alarm.metric_name, alarm.statistic) == (
        "AWS/EC2",
        "CPUUtilization",
        "AVERAGE",
    )
    assert alarm.dimensions == (("InstanceId", "i-0a1b2c3d4e5f67890"),)
    assert (alarm.comparison, alarm.threshold) == ("GreaterThanOrEqualToThreshold", "80")
    assert (alarm.period, alarm.evaluation_periods, alarm.datapoints_to_alarm) == ("60", "1", "1")
    assert alarm.treat_missing_data == "missing"


def test_ok_and_insufficient_data_states_are_read() -> None:
    assert only(load_event("sns-ok")).state == "OK"
    assert only(load_event("sns-ok")).previous_state == "ALARM"
    assert only(load_event("sns-insufficient-data")).state == "INSUFFICIENT_DATA"


def test_direct_alarm_action_event_maps_alarm_data() -> None:
    alarm = only(load_event("direct-alarm-cpu-high"))
    assert alarm.event_kind == "lambda-alarm"
    assert alarm.name == "prod-web-1-cpu"
    assert (alarm.state, alarm.previous_state) == ("ALARM", "OK")
    assert alarm.timestamp == "2024-05-14T07:21:04.987+0000"
    assert (alarm.region, alarm.account) == ("ap-northeast-2", "123456789012")
    assert alarm.description.startswith("CPU of web-1")
    # One plain metric in configuration.metrics is a single-metric alarm; dimensions is a map.
    assert alarm.alarm_type == "metric"
    assert (alarm.namespace, alarm.metric_name, alarm.statistic, alarm.period) == (
        "AWS/EC2",
        "CPUUtilization",
        "Average",
        "60",
    )
    assert alarm.dimensions == (("InstanceId", "i-0a1b2c3d4e5f67890"),)
    assert alarm.metrics == ()


def test_eventbridge_event_direct_and_through_sns_give_the_same_alarm() -> None:
    direct = only(load_event("eventbridge-alarm"))
    via_sns = only(load_event("sns-eventbridge-alarm"))
    assert direct.event_kind == "eventbridge-alarm"
    assert via_sns.event_kind == "sns-eventbridge-alarm"
    assert direct.arn == "arn:aws:cloudwatch:ap-northeast-2:123456789012:alarm:prod-web-1-cpu"
    assert direct.dimensions == (("InstanceId", "i-0a1b2c3d4e5f67890"),)
    for name in ("name", "state", "previous_state", "reason", "timestamp", "region", "account"):
        assert getattr(direct, name) == getattr(via_sns, name), name


def test_metric_math_alarm_lists_its_queries() -> None:
    alarm = only(load_event("sns-metric-math-alarm"))
    assert alarm.alarm_type == "metric-math"
    assert alarm.metric_name is None
    assert [q.id for q in alarm.metrics] == ["e1", "errors", "requests"]
    e1, errors, _ = alarm.metrics
    assert (e1.expression, e1.label, e1.return_data) == (
        "100 * errors / requests",
        "5xx error rate (%)",
        True,
    )
    assert (errors.namespace, errors.metric_name, errors.statistic, errors.period) == (
        "AWS/ApplicationELB",
        "HTTPCode_Target_5XX_Count",
        "Sum",
        "300",
    )
    assert errors.dimensions == (("LoadBalancer", "app/prod-web/50dc6c495c0c9188"),)
    assert (alarm.threshold, alarm.datapoints_to_alarm, alarm.evaluation_periods) == ("5", "2", "3")


def test_anomaly_detection_alarm_has_a_band_not_a_threshold() -> None:
    alarm = only(load_event("sns-anomaly-detection-alarm"))
    assert alarm.alarm_type == "anomaly-detection"
    assert alarm.threshold_metric_id == "ad1"
    assert alarm.threshold is None
    assert alarm.comparison == "LessThanLowerOrGreaterThanUpperThreshold"


@pytest.mark.parametrize("name", ["sns-composite-alarm", "direct-composite-alarm"])
def test_composite_alarm_carries_its_rule(name: str) -> None:
    alarm = only(load_event(name))
    assert alarm.alarm_type == "composite"
    assert alarm.alarm_rule == 'ALARM("prod-web-1-status-check") AND ALARM("prod-web-5xx-rate")'
    assert alarm.name == "prod-web-down"
    assert alarm.metric_name is None


def test_composite_sns_alarm_names_the_children_that_triggered_it() -> None:
    alarm = only(load_event("sns-composite-alarm"))
    assert alarm.triggering_children == (
        "prod-web-1-status-check (ALARM)",
        "prod-web-5xx-rate (ALARM)",
    )


def test_extended_statistic_and_aws_cn_arn() -> None:
    alarm = only(load_event("sns-aws-cn-alarm"))
    assert alarm.statistic == "p95"
    assert (alarm.region, alarm.region_name) == ("cn-north-1", "China (Beijing)")
    arn = parse_alarm_arn(alarm.arn)
    assert arn is not None
    assert (arn.partition, arn.region, arn.account, arn.name) == (
        "aws-cn",
        "cn-north-1",
        "210987654321",
        "cn-api-1-cpu-p95",
    )


def test_korean_names_survive_unchanged() -> None:
    alarm = only(load_event("sns-korean-alarm"))
    assert alarm.name == "운영-웹서버-1-CPU"
    assert alarm.description == "웹서버 1호기 CPU 사용률이 1분 동안 80% 이상입니다"


def test_plain_text_mentioning_text_and_attachments_is_plain_text() -> None:
    alarm = only(load_event("sns-plain-text"))
    assert (alarm.kind, alarm.event_kind) == ("text", "sns-text")
    assert alarm.subject == "Deploy notice"
    assert "text field and attachments" in alarm.text


def test_json_that_is_not_an_alarm_is_kept_as_a_readable_dump() -> None:
    alarm = only(load_event("sns-non-alarm-json"))
    assert alarm.kind == "unknown"
    assert json.loads(alarm.text)["pipeline"] == "prod-web"


def test_every_record_of_a_multi_record_event_is_its_own_alarm() -> None:
    alarms = parse_event(load_event("sns-multi-record"))
    assert [a.name for a in alarms] == ["prod-web-1-cpu", "prod-web-1-status-check"]


def test_nulls_and_wrong_types_become_text_or_nothing() -> None:
    alarm = only(load_event("sns-nulls-and-wrong-types"))
    assert (alarm.kind, alarm.name, alarm.state) == ("alarm", "prod-web-1-cpu", "ALARM")
    assert alarm.account == "123456789012"  # a number in the event
    assert alarm.description is None
    assert alarm.reason is None
    assert alarm.arn is None
    assert alarm.region is None
    assert alarm.timestamp == "yesterday around noon"
    assert alarm.metric_name == '["CPUUtilization"]'
    assert alarm.dimensions == ()
    assert alarm.comparison == "7"


@pytest.mark.parametrize("event", [None, {}, [], "", {"Records": []}])
def test_empty_events_give_no_records(event: object) -> None:
    assert parse_event(event) == []


@pytest.mark.parametrize(
    ("event", "kind"),
    [
        ({"Records": "not a list"}, "unknown"),
        ({"Records": [None]}, "unknown"),
        ({"Records": [{"Sns": "not a dict"}]}, "unknown"),
        ({"Records": [{"Sns": {}}]}, "text"),
        ({"Records": [{"Sns": {"Message": None}}]}, "text"),
        ({"Records": [{"Sns": {"Message": 42}}]}, "unknown"),
        ({"Records": [{"Sns": {"Message": ["a", 1]}}]}, "unknown"),
        ({"Records": [{"Sns": {"Message": "{not json"}}]}, "text"),
        ({"Records": [{"Sns": {"Message": '{"text": "hi", "attachments": 3}'}}]}, "unknown"),
        ({"Records": [{"Sns": {"Message": '{"AlarmName": null, "Trigger": "x"}'}}]}, "alarm"),
        ({"Records": [{"Sns": {"Message": '{"AlarmName": {"a": [1]}}'}}]}, "alarm"),
        ({"alarmData": None}, "alarm"),
        ({"alarmData": {"state": [], "configuration": {"metrics": "x"}}}, "alarm"),
        ({"detail-type": "CloudWatch Alarm State Change", "detail": 5}, "alarm"),
        ({"hello": "world"}, "unknown"),
        ("just a string", "text"),
        (12345, "unknown"),
        ([1, 2, 3], "unknown"),
    ],
)
def test_odd_input_becomes_a_record_never_an_error(event: object, kind: str) -> None:
    assert only(event).kind == kind


def test_a_dict_message_is_read_like_a_json_string() -> None:
    message = json.loads(load_event("sns-alarm-cpu-high")["Records"][0]["Sns"]["Message"])
    assert only(sns_event(message)).name == "prod-web-1-cpu"


def test_an_alarm_message_invoked_directly_is_understood() -> None:
    message = json.loads(load_event("sns-ok")["Records"][0]["Sns"]["Message"])
    alarm = only(message)
    assert (alarm.event_kind, alarm.state) == ("event-alarm", "OK")


def test_sqs_records_carrying_alarm_messages_are_understood() -> None:
    body = load_event("sns-alarm-cpu-high")["Records"][0]["Sns"]["Message"]
    alarm = only({"Records": [{"eventSource": "aws:sqs", "body": body}]})
    assert (alarm.event_kind, alarm.name) == ("sqs-alarm", "prod-web-1-cpu")


@pytest.mark.parametrize(
    ("arn", "expected"),
    [
        ("arn:aws:cloudwatch:us-east-1:123456789012:alarm:a:b c", ("aws", "us-east-1", "a:b c")),
        (
            "arn:aws-us-gov:cloudwatch:us-gov-west-1:123456789012:alarm:x",
            ("aws-us-gov", "us-gov-west-1", "x"),
        ),
        ("arn:aws:sns:us-east-1:123456789012:topic", None),
        ("arn:aws:cloudwatch:Asia Pacific (Seoul):123456789012:alarm:x", None),
        ("", None),
        (None, None),
        (42, None),
    ],
)
def test_alarm_arn_parsing(arn: object, expected: tuple[str, str, str] | None) -> None:
    parsed = parse_alarm_arn(arn)
    assert (None if parsed is None else (parsed.partition, parsed.region, parsed.name)) == expected


# --- organization capture: events that came through a central (cross-account) bus -----------


def test_a_forwarded_event_says_which_account_and_region_the_alarm_lives_in() -> None:
    alarm = only(load_event("eventbridge-cross-account-alarm"))
    assert (alarm.event_kind, alarm.name, alarm.state) == (
        "eventbridge-alarm",
        "payments-db-free-storage",
        "ALARM",
    )
    assert (alarm.account, alarm.region) == ("444455556666", "us-west-2")
    assert (alarm.namespace, alarm.metric_name) == ("AWS/RDS", "FreeStorageSpace")


def test_a_forwarded_event_in_an_sqs_record_is_understood() -> None:
    body = json.dumps(load_event("eventbridge-cross-account-alarm"))
    alarm = only({"Records": [{"eventSource": "aws:sqs", "messageId": "m-1", "body": body}]})
    assert (alarm.event_kind, alarm.account, alarm.region) == (
        "sqs-eventbridge-alarm",
        "444455556666",
        "us-west-2",
    )


def test_the_alarm_arn_wins_over_the_account_and_region_of_whoever_put_the_event() -> None:
    # A process in the central account that re-puts the event makes itself its `account`.
    event = load_event("eventbridge-cross-account-alarm")
    event["account"], event["region"] = "111122223333", "eu-west-1"
    alarm = only(event)
    assert (alarm.account, alarm.region) == ("444455556666", "us-west-2")


def test_without_a_parsable_alarm_arn_the_event_fields_say_where() -> None:
    event = load_event("eventbridge-cross-account-alarm")
    event["resources"] = []
    alarm = only(event)
    assert (alarm.account, alarm.region) == ("444455556666", "us-west-2")
