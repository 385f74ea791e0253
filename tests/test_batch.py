"""SQS batches through the handler: digests, pacing, partial failure reported per record."""

from __future__ import annotations

import json
from typing import Any

import pytest

from handler import handle_event
from settings import load_settings
from slack import RetryPolicy
from support import load_event
from support.fake_clock import FakeClock
from support.fake_slack import FakeSlack, Response
from support.storm import alarm_message, sns_envelope, sqs_event, sqs_record, storm_event

NO_WAIT = RetryPolicy(max_attempts=3, request_timeout=2.0, base_delay=0.0, max_delay=0.0)


class Context:
    def __init__(self, remaining_ms: int) -> None:
        self.remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


def run(event: dict, slack: FakeSlack, clock: FakeClock | None = None, **env: str) -> Any:
    settings = load_settings({"SLACK_WEBHOOK_URL": slack.url, **env})
    clock = clock or FakeClock()
    return handle_event(
        event, Context(30_000), settings=settings, policy=NO_WAIT, sleep=clock.sleep, clock=clock
    )


def test_a_storm_batch_becomes_digest_messages_and_every_record_is_acknowledged(
    fake_slack: FakeSlack,
) -> None:
    result = run(storm_event(200), fake_slack)
    assert result == {"batchItemFailures": []}
    texts = [r["text"] for r in fake_slack.requests]
    assert 1 <= len(texts) <= 5
    assert all(":rotating_light: *200 alarms changed state" in t for t in texts)


def test_a_few_alarms_each_get_their_full_message(fake_slack: FakeSlack) -> None:
    event = sqs_event([sns_envelope(alarm_message(f"web-{i}")) for i in range(3)])
    assert run(event, fake_slack) == {"batchItemFailures": []}
    assert [r["text"] for r in fake_slack.requests] == [
        f":rotating_light: *ALARM*: web-{i}" for i in range(3)
    ]


def test_messages_to_one_webhook_are_at_least_a_second_apart(fake_slack: FakeSlack) -> None:
    clock = FakeClock()
    event = sqs_event([sns_envelope(alarm_message(f"web-{i}")) for i in range(3)])
    run(event, fake_slack, clock)
    assert len(fake_slack.requests) == 3
    assert len(clock.sleeps) == 2
    assert all(s == pytest.approx(1.0) for s in clock.sleeps)


def test_only_the_records_of_a_refused_message_are_reported_for_retry(
    fake_slack: FakeSlack,
) -> None:
    event = storm_event(200)
    # A refusal that no other form of the message escapes (content refusals go again as plain
    # text: test_refused_fallback.py).
    fake_slack.script([Response(200), Response(403, "action_prohibited")])
    result = run(event, fake_slack)
    failed = {f["itemIdentifier"] for f in result["batchItemFailures"]}
    second = fake_slack.requests[1]
    named = {
        record["messageId"]
        for record in event["Records"]
        if json.loads(json.loads(record["body"])["Message"])["AlarmName"] in json.dumps(second)
    }
    assert failed
    assert failed == named
    assert len(failed) < len(event["Records"])


def test_a_retry_after_is_waited_out_in_full_while_time_allows(fake_slack: FakeSlack) -> None:
    clock = FakeClock()
    fake_slack.script([Response(429, "rate_limited", (("Retry-After", "20"),))])
    event = sqs_event([sns_envelope(alarm_message("web-1"))])
    assert run(event, fake_slack, clock) == {"batchItemFailures": []}
    assert clock.sleeps == [pytest.approx(20.0)]
    assert len(fake_slack.requests) == 2


def test_a_retry_after_over_20_s_is_left_to_the_queue(fake_slack: FakeSlack) -> None:
    """docs/delivery-failures.md: a Retry-After of up to 20 s is honoured in place, a longer one
    is left to redelivery (the function has 30 s in all)."""
    clock = FakeClock()
    fake_slack.script([Response(429, "rate_limited", (("Retry-After", "21"),))])
    event = sqs_event([sns_envelope(alarm_message("web-1"))])
    result = run(event, fake_slack, clock)
    assert result == {"batchItemFailures": [{"itemIdentifier": event["Records"][0]["messageId"]}]}
    assert clock.sleeps == []
    assert len(fake_slack.requests) == 1


def test_messages_left_without_time_come_back_later(fake_slack: FakeSlack) -> None:
    clock = FakeClock()
    fake_slack.script([Response(429, "rate_limited", (("Retry-After", "40"),))])
    event = sqs_event([sns_envelope(alarm_message(f"web-{i}")) for i in range(2)])
    result = run(event, fake_slack, clock)
    assert {f["itemIdentifier"] for f in result["batchItemFailures"]} == {
        r["messageId"] for r in event["Records"]
    }


def test_sns_envelopes_raw_alarms_eventbridge_events_and_text_all_arrive(
    fake_slack: FakeSlack,
) -> None:
    raw = alarm_message("raw-delivery")
    eventbridge = {
        "version": "0",
        "id": "eb-1",
        "detail-type": "CloudWatch Alarm State Change",
        "source": "aws.cloudwatch",
        "account": "123456789012",
        "time": "2024-05-14T07:21:00Z",
        "region": "ap-northeast-2",
        "resources": ["arn:aws:cloudwatch:ap-northeast-2:123456789012:alarm:from-eventbridge"],
        "detail": {"alarmName": "from-eventbridge", "state": {"value": "ALARM"}},
    }
    event = sqs_event([sns_envelope(alarm_message("via-sns")), raw, eventbridge, "disk full"])
    assert run(event, fake_slack, DIGEST_THRESHOLD="10") == {"batchItemFailures": []}
    texts = [r["text"] for r in fake_slack.requests]
    assert texts[:3] == [
        ":rotating_light: *ALARM*: via-sns",
        ":rotating_light: *ALARM*: raw-delivery",
        ":rotating_light: *ALARM*: from-eventbridge",
    ]
    assert "disk full" in texts[3]


def test_a_redriven_failure_record_is_delivered_from_its_request_payload(
    fake_slack: FakeSlack,
) -> None:
    inner = {
        "Records": [
            {
                "EventSource": "aws:sns",
                "Sns": {
                    "MessageId": "m-9",
                    "Message": json.dumps(alarm_message("from-failure-queue")),
                },
            }
        ]
    }
    record = {
        "version": "1.0",
        "requestContext": {"condition": "RetriesExhausted", "approximateInvokeCount": 3},
        "requestPayload": inner,
        "responseContext": {"statusCode": 200, "functionError": "Unhandled"},
    }
    assert run(sqs_event([record]), fake_slack) == {"batchItemFailures": []}
    assert fake_slack.requests[0]["text"] == ":rotating_light: *ALARM*: from-failure-queue"


def test_a_bad_tuning_setting_is_ignored_with_a_warning(
    fake_slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    event = sqs_event([sns_envelope(alarm_message(f"web-{i}")) for i in range(2)])
    run(event, fake_slack, DIGEST_THRESHOLD="lots")
    assert len(fake_slack.requests) == 2
    assert "DIGEST_THRESHOLD='lots' is not a whole number" in caplog.text


def test_one_message_that_cannot_be_sent_does_not_stop_the_others(
    fake_slack: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    import delivery  # noqa: PLC0415

    real = delivery.WebhookNotifier.send
    calls = []

    def flaky(self: object, payload: dict, **kwargs: Any) -> Any:
        calls.append(payload["text"])
        if len(calls) == 1:
            raise UnicodeEncodeError("utf-8", "\ud800", 0, 1, "surrogates not allowed")
        return real(self, payload, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(delivery.WebhookNotifier, "send", flaky)
    event = sqs_event([sns_envelope(alarm_message(f"web-{i}")) for i in range(2)])
    result = run(event, fake_slack)
    assert [f["itemIdentifier"] for f in result["batchItemFailures"]] == [
        event["Records"][0]["messageId"]
    ]
    assert [r["text"] for r in fake_slack.requests] == [":rotating_light: *ALARM*: web-1"]


def test_a_duplicate_record_is_posted_once_and_both_are_acknowledged(
    fake_slack: FakeSlack,
) -> None:
    envelope = sns_envelope(alarm_message("web-1"), message_id="same")
    event = {"Records": [sqs_record(envelope), sqs_record(envelope)]}
    assert run(event, fake_slack) == {"batchItemFailures": []}
    assert len(fake_slack.requests) == 1


def test_the_sample_storm_batch_is_one_digest_with_the_flap_and_the_duplicate_folded(
    fake_slack: FakeSlack,
) -> None:
    event = load_event("sqs-storm-batch")
    assert run(event, fake_slack, TIMEZONE="Asia/Seoul") == {"batchItemFailures": []}
    (digest,) = fake_slack.requests
    assert digest["text"] == ":rotating_light: *5 alarms changed state: 4 ALARM, 1 OK*"
    text = json.dumps(digest, ensure_ascii=False)
    assert text.count("|prod-web-1-status-check>") == 1
    assert "flapped ALARM → OK · 16:21:50" in text
