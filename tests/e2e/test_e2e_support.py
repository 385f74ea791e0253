"""The e2e harness's own stand-ins, checked without moto or Terraform: the CloudWatch message
and events carry AWS's field names and formats, and the provider override stays out of the repo."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from e2e.harness import terraform_env_for

from support import cloudwatch
from support.aws_override import (
    OVERRIDE_FILE_NAME,
    PROVIDER_FILE_NAME,
    RepoTreeError,
    write_aws_override,
)
from support.terraform import REPO_ROOT

pytestmark = pytest.mark.e2e

EVENTS = REPO_ROOT / "examples" / "events"

# One MetricAlarms entry as boto3's describe_alarms returns it (datetimes, not strings).
DESCRIBED_ALARM = {
    "AlarmName": "prod-web-1-cpu",
    "AlarmArn": "arn:aws:cloudwatch:ap-northeast-2:123456789012:alarm:prod-web-1-cpu",
    "AlarmDescription": "CPU high",
    "AlarmConfigurationUpdatedTimestamp": dt.datetime(2024, 5, 1, 2, 10, 33, 512000, dt.UTC),
    "ActionsEnabled": True,
    "OKActions": ["arn:aws:sns:ap-northeast-2:123456789012:prod-alarms"],
    "AlarmActions": ["arn:aws:sns:ap-northeast-2:123456789012:prod-alarms"],
    "InsufficientDataActions": [],
    "StateValue": "ALARM",
    "StateReason": "Threshold Crossed: 1 out of the last 1 datapoints [93.4 (14/05/24 07:20:00)]",
    "StateReasonData": '{"version":"1.0"}',
    "StateUpdatedTimestamp": dt.datetime(2024, 5, 14, 7, 21, 4, 987000, dt.UTC),
    "MetricName": "CPUUtilization",
    "Namespace": "AWS/EC2",
    "Statistic": "Average",
    "Dimensions": [{"Name": "InstanceId", "Value": "i-0a1b2c3d4e5f67890"}],
    "Period": 60,
    "EvaluationPeriods": 1,
    "DatapointsToAlarm": 1,
    "Threshold": 80.0,
    "ComparisonOperator": "GreaterThanOrEqualToThreshold",
    "TreatMissingData": "missing",
}


def test_timestamps_use_cloudwatch_notification_format() -> None:
    when = dt.datetime(2017, 1, 12, 16, 30, 42, 236999, dt.UTC)
    assert cloudwatch.cloudwatch_timestamp(when) == "2017-01-12T16:30:42.236+0000"
    seoul = dt.timezone(dt.timedelta(hours=9))
    assert cloudwatch.cloudwatch_timestamp(when.astimezone(seoul)) == "2017-01-12T16:30:42.236+0000"


def test_state_change_message_has_the_fields_of_a_real_notification() -> None:
    sample = json.loads(
        json.loads((EVENTS / "sns-alarm-cpu-high.json").read_text())["Records"][0]["Sns"]["Message"]
    )
    message = cloudwatch.alarm_state_change_message(DESCRIBED_ALARM, old_state="OK")
    assert set(message) == set(sample)
    assert set(message["Trigger"]) == set(sample["Trigger"])
    assert message["StateChangeTime"] == "2024-05-14T07:21:04.987+0000"
    assert message["Region"] == "Asia Pacific (Seoul)"
    assert message["AWSAccountId"] == "123456789012"
    assert message["Trigger"]["Statistic"] == "AVERAGE"
    assert message["Trigger"]["Dimensions"] == [
        {"value": "i-0a1b2c3d4e5f67890", "name": "InstanceId"}
    ]
    assert cloudwatch.sns_subject(message) == 'ALARM: "prod-web-1-cpu" in Asia Pacific (Seoul)'


def test_subject_is_cut_to_the_sns_limit() -> None:
    message = {"NewStateValue": "ALARM", "AlarmName": "x" * 200, "Region": "US East (N. Virginia)"}
    assert len(cloudwatch.sns_subject(message)) == 100


def test_direct_invocation_event_has_the_documented_shape() -> None:
    sample = json.loads((EVENTS / "direct-alarm-cpu-high.json").read_text())
    event = cloudwatch.direct_invocation_event(
        DESCRIBED_ALARM,
        previous_state={
            "value": "OK",
            "reason": "fine",
            "timestamp": dt.datetime(2024, 5, 14, 7, 11, 4, 611000, dt.UTC),
        },
    )
    assert set(event) == set(sample)
    assert set(event["alarmData"]) == set(sample["alarmData"])
    assert event["region"] == "ap-northeast-2"
    assert event["alarmData"]["previousState"]["timestamp"] == "2024-05-14T07:11:04.611+0000"
    metric = event["alarmData"]["configuration"]["metrics"][0]["metricStat"]["metric"]
    assert metric == {
        "namespace": "AWS/EC2",
        "name": "CPUUtilization",
        "dimensions": {"InstanceId": "i-0a1b2c3d4e5f67890"},
    }


def test_sns_lambda_event_renames_the_two_url_fields_of_the_envelope() -> None:
    envelope = {
        "Type": "Notification",
        "MessageId": "m-1",
        "TopicArn": "arn:aws:sns:ap-northeast-2:123456789012:t",
        "Subject": "ALARM",
        "Message": "{}",
        "Timestamp": "2024-05-14T07:21:05.123Z",
        "SignatureVersion": "1",
        "Signature": "sig",
        "SigningCertURL": "https://sns.example/cert.pem",
        "UnsubscribeURL": "https://sns.example/unsubscribe",
    }
    record = cloudwatch.sns_lambda_event(envelope, subscription_arn="arn:sub")["Records"][0]
    assert record["EventSource"] == "aws:sns"
    assert record["EventSubscriptionArn"] == "arn:sub"
    assert record["Sns"]["SigningCertUrl"] == "https://sns.example/cert.pem"
    assert record["Sns"]["UnsubscribeUrl"] == "https://sns.example/unsubscribe"
    assert record["Sns"]["MessageAttributes"] == {}


def test_override_is_refused_inside_the_repository() -> None:
    with pytest.raises(RepoTreeError):
        write_aws_override(REPO_ROOT / "examples" / "ec2-cpu-alarm")
    assert not list((REPO_ROOT / "examples").rglob("e2e_moto_*.tf"))


def test_override_merges_over_the_module_provider_block(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text('provider "aws" {\n  region = var.aws_region\n}\n')
    written = write_aws_override(tmp_path)
    assert written.name == OVERRIDE_FILE_NAME
    text = written.read_text()
    assert "region " not in text  # the example's own region stays
    for setting in (
        "skip_credentials_validation = true",
        "skip_requesting_account_id  = true",
        "skip_metadata_api_check     = true",
        "skip_region_validation      = true",
    ):
        assert setting in text
    # The endpoint is the environment's (moto_endpoint_env): an `endpoints` block costs the
    # provider about 3 s of CPU on every validation of its configuration.
    assert "endpoints" not in text


def test_the_environment_sends_the_provider_to_moto_and_drops_the_callers_aws_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_PROFILE", "production")
    monkeypatch.setenv("AWS_ENDPOINT_URL_SQS", "https://sqs.ap-northeast-2.amazonaws.com")
    env = terraform_env_for("http://127.0.0.1:4566")
    assert env["AWS_ENDPOINT_URL"] == "http://127.0.0.1:4566"
    assert {key for key in env if key.startswith("AWS_")} == {"AWS_ENDPOINT_URL"}


def test_without_a_provider_block_a_plain_provider_file_is_written(tmp_path: Path) -> None:
    written = write_aws_override(tmp_path, region="eu-west-1")
    assert written.name == PROVIDER_FILE_NAME
    assert 'region     = "eu-west-1"' in written.read_text()
