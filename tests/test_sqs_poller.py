"""The test's stand-in for Lambda's SQS poller (support/sqs_poller.py) follows Lambda's rules:
record shape, ReportBatchItemFailures semantics, deleting only what was acknowledged."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from support import sqs_poller

QUEUE_ARN = "arn:aws:sqs:ap-northeast-2:123456789012:alerts-inbox"
QUEUE_URL = "https://sqs.ap-northeast-2.amazonaws.com/123456789012/alerts-inbox"


class FakeSqs:
    """Just enough of boto3's SQS client: messages handed out 10 at a time, deletions kept."""

    def __init__(self, count: int) -> None:
        self.waiting = [self._message(index) for index in range(count)]
        self.deleted: list[str] = []
        self.receive_calls = 0

    @staticmethod
    def _message(index: int) -> dict[str, Any]:
        body = f'{{"n": {index}}}'
        return {
            "MessageId": f"id-{index}",
            "ReceiptHandle": f"handle-{index}",
            "MD5OfBody": hashlib.md5(body.encode()).hexdigest(),  # noqa: S324 - SQS's checksum
            "Body": body,
            "Attributes": {
                "ApproximateReceiveCount": "1",
                "SentTimestamp": "1715671260000",
                "SenderId": "AIDAEXAMPLE",
                "ApproximateFirstReceiveTimestamp": "1715671260100",
            },
        }

    def get_queue_attributes(self, **_: Any) -> dict[str, Any]:
        return {"Attributes": {"QueueArn": QUEUE_ARN}}

    def receive_message(self, **kwargs: Any) -> dict[str, Any]:
        self.receive_calls += 1
        assert kwargs["MaxNumberOfMessages"] <= 10
        taken = self.waiting[: kwargs["MaxNumberOfMessages"]]
        self.waiting = self.waiting[len(taken) :]
        return {"Messages": taken} if taken else {}

    def delete_message_batch(self, **kwargs: Any) -> dict[str, Any]:
        assert len(kwargs["Entries"]) <= 10
        self.deleted += [entry["ReceiptHandle"] for entry in kwargs["Entries"]]
        return {"Successful": kwargs["Entries"]}


def test_records_carry_the_fields_of_lambdas_sqs_event() -> None:
    message = FakeSqs(1).waiting[0]
    message["MessageAttributes"] = {"kind": {"StringValue": "alarm", "DataType": "String"}}

    record = sqs_poller.sqs_record(message, queue_arn=QUEUE_ARN)

    assert record == {
        "messageId": "id-0",
        "receiptHandle": "handle-0",
        "body": '{"n": 0}',
        "attributes": message["Attributes"],
        "messageAttributes": {
            "kind": {
                "stringValue": "alarm",
                "stringListValues": [],
                "binaryListValues": [],
                "dataType": "String",
            }
        },
        "md5OfBody": message["MD5OfBody"],
        "eventSource": "aws:sqs",
        "eventSourceARN": QUEUE_ARN,
        "awsRegion": "ap-northeast-2",
    }


def test_a_batch_is_filled_ten_messages_at_a_time_up_to_the_batch_size() -> None:
    sqs = FakeSqs(25)

    result = sqs_poller.poll_once(sqs, QUEUE_URL, lambda event: None, batch_size=20)

    assert result is not None
    assert len(result.event["Records"]) == 20
    assert sqs.receive_calls == 2
    assert len(sqs.waiting) == 5


def test_only_messages_not_reported_as_failed_are_deleted() -> None:
    sqs = FakeSqs(12)

    result = sqs_poller.poll_once(
        sqs,
        QUEUE_URL,
        lambda event: {
            "batchItemFailures": [{"itemIdentifier": "id-3"}, {"itemIdentifier": "id-11"}]
        },
        batch_size=100,
    )

    assert result is not None
    assert result.failed == ("id-3", "id-11")
    assert sorted(sqs.deleted) == sorted(f"handle-{i}" for i in range(12) if i not in (3, 11))


@pytest.mark.parametrize("response", [None, {}, {"batchItemFailures": []}, {"other": 1}])
def test_a_response_without_failures_acknowledges_the_whole_batch(response: Any) -> None:
    sqs = FakeSqs(3)

    result = sqs_poller.poll_once(sqs, QUEUE_URL, lambda event: response, batch_size=10)

    assert result is not None
    assert result.failed == ()
    assert len(sqs.deleted) == 3


@pytest.mark.parametrize(
    "response",
    [
        {"batchItemFailures": [{"itemIdentifier": "not-in-the-batch"}]},
        {"batchItemFailures": [{"itemIdentifier": ""}]},
        {"batchItemFailures": [{}]},
    ],
)
def test_an_unknown_item_fails_the_whole_batch(response: Any) -> None:
    sqs = FakeSqs(3)

    result = sqs_poller.poll_once(sqs, QUEUE_URL, lambda event: response, batch_size=10)

    assert result is not None
    assert isinstance(result.error, sqs_poller.InvalidBatchResponse)
    assert result.failed == result.received
    assert sqs.deleted == []


def test_a_handler_that_raises_deletes_nothing() -> None:
    sqs = FakeSqs(2)

    def crash(event: Any) -> None:
        raise RuntimeError("boom")

    result = sqs_poller.poll_once(sqs, QUEUE_URL, crash, batch_size=10)

    assert result is not None
    assert isinstance(result.error, RuntimeError)
    assert sqs.deleted == []


def test_poll_until_empty_stops_when_the_queue_answers_with_nothing() -> None:
    sqs = FakeSqs(25)

    results = sqs_poller.poll_until_empty(sqs, QUEUE_URL, lambda event: None, batch_size=10)

    assert [len(r.received) for r in results] == [10, 10, 5]
    assert sqs_poller.poll_once(sqs, QUEUE_URL, lambda event: None, batch_size=10) is None
