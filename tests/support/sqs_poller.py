"""Plays Lambda's SQS poller: receive a batch, invoke the handler, delete what it acknowledged."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping
from typing import Any

# ReceiveMessage returns at most 10 messages per call; Lambda's poller calls it repeatedly to fill
# a larger batch.
RECEIVE_LIMIT = 10
# The system attributes Lambda copies into each record (AWS's documented SQS event).
RECORD_ATTRIBUTES = (
    "ApproximateReceiveCount",
    "SentTimestamp",
    "SenderId",
    "ApproximateFirstReceiveTimestamp",
    "AWSTraceHeader",
    "SequenceNumber",
    "MessageGroupId",
    "MessageDeduplicationId",
)


class InvalidBatchResponse(ValueError):
    """The handler's answer names an item that is not in the batch (Lambda then fails it all)."""


@dataclasses.dataclass(frozen=True)
class PollResult:
    """One poll: what was received and handed to the handler, what it answered, what was deleted
    and what stays in the queue (in flight until the visibility timeout, as with Lambda)."""

    event: dict[str, Any]
    response: Any
    received: tuple[str, ...]
    deleted: tuple[str, ...]
    failed: tuple[str, ...]
    error: BaseException | None = None


def _message_attribute(value: Mapping[str, Any]) -> dict[str, Any]:
    """An SQS API message attribute in the shape of Lambda's SQS event (camelCase, lists)."""
    attribute: dict[str, Any] = {
        "stringListValues": list(value.get("StringListValues", [])),
        "binaryListValues": list(value.get("BinaryListValues", [])),
        "dataType": value["DataType"],
    }
    if "StringValue" in value:
        attribute["stringValue"] = value["StringValue"]
    if "BinaryValue" in value:
        attribute["binaryValue"] = value["BinaryValue"]
    return attribute


def sqs_record(message: Mapping[str, Any], *, queue_arn: str) -> dict[str, Any]:
    """One record of Lambda's SQS event from one ReceiveMessage message (received with
    AttributeNames=["All"] and MessageAttributeNames=["All"])."""
    attributes = message.get("Attributes", {})
    record: dict[str, Any] = {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": {key: attributes[key] for key in RECORD_ATTRIBUTES if key in attributes},
        "messageAttributes": {
            name: _message_attribute(value)
            for name, value in message.get("MessageAttributes", {}).items()
        },
        "md5OfBody": message["MD5OfBody"],
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": queue_arn.split(":")[3],
    }
    if "MD5OfMessageAttributes" in message:
        record["md5OfMessageAttributes"] = message["MD5OfMessageAttributes"]
    return record


def sqs_event(messages: Iterable[Mapping[str, Any]], *, queue_arn: str) -> dict[str, Any]:
    """Lambda's SQS event for a batch of received messages."""
    return {"Records": [sqs_record(message, queue_arn=queue_arn) for message in messages]}


def failed_item_ids(response: Any, batch_ids: Iterable[str]) -> set[str]:
    """The message IDs Lambda returns to the queue for a ReportBatchItemFailures response.

    A missing or empty `batchItemFailures` acknowledges the whole batch; an item identifier that
    is empty or not in the batch makes Lambda fail the whole batch (InvalidBatchResponse)."""
    batch = set(batch_ids)
    if not isinstance(response, Mapping) or response.get("batchItemFailures") is None:
        return set()
    failures = response["batchItemFailures"]
    if not isinstance(failures, list):
        raise InvalidBatchResponse(f"batchItemFailures is not a list: {failures!r}")
    failed: set[str] = set()
    for item in failures:
        identifier = item.get("itemIdentifier") if isinstance(item, Mapping) else None
        if not isinstance(identifier, str) or identifier not in batch:
            raise InvalidBatchResponse(f"{item!r} names no message of the batch")
        failed.add(identifier)
    return failed


def receive_batch(sqs: Any, queue_url: str, *, batch_size: int) -> list[dict[str, Any]]:
    """Up to `batch_size` messages, receiving 10 at a time until the queue answers with none
    (the poller's batching window, without the waiting)."""
    messages: list[dict[str, Any]] = []
    while len(messages) < batch_size:
        received = sqs.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=min(RECEIVE_LIMIT, batch_size - len(messages)),
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
            WaitTimeSeconds=0,
        ).get("Messages", [])
        if not received:
            break
        messages.extend(received)
    return messages


def delete_messages(sqs: Any, queue_url: str, messages: Iterable[Mapping[str, Any]]) -> None:
    """Delete messages by receipt handle, 10 per call; any refused entry is an error."""
    batch = list(messages)
    for start in range(0, len(batch), RECEIVE_LIMIT):
        entries = [
            {"Id": str(index), "ReceiptHandle": message["ReceiptHandle"]}
            for index, message in enumerate(batch[start : start + RECEIVE_LIMIT])
        ]
        answer = sqs.delete_message_batch(QueueUrl=queue_url, Entries=entries)
        if answer.get("Failed"):
            raise RuntimeError(f"delete_message_batch refused {answer['Failed']}")


def poll_once(
    sqs: Any,
    queue_url: str,
    invoke: Callable[[dict[str, Any]], Any],
    *,
    batch_size: int,
) -> PollResult | None:
    """One turn of Lambda's poller with ReportBatchItemFailures: receive a batch, invoke the
    handler with it, delete every message it did not report as failed. A handler that raises or
    answers with an unknown item fails the whole batch (nothing is deleted). None: queue empty."""
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    messages = receive_batch(sqs, queue_url, batch_size=batch_size)
    if not messages:
        return None
    event = sqs_event(messages, queue_arn=queue_arn)
    received = tuple(message["MessageId"] for message in messages)
    try:
        response = invoke(event)
        failed = failed_item_ids(response, received)
    except Exception as error:  # Lambda turns any function error into a retry of the batch
        return PollResult(event, None, received, (), received, error)
    done = [message for message in messages if message["MessageId"] not in failed]
    delete_messages(sqs, queue_url, done)
    return PollResult(
        event=event,
        response=response,
        received=received,
        deleted=tuple(message["MessageId"] for message in done),
        failed=tuple(message_id for message_id in received if message_id in failed),
    )


def poll_until_empty(
    sqs: Any,
    queue_url: str,
    invoke: Callable[[dict[str, Any]], Any],
    *,
    batch_size: int,
    max_polls: int = 100,
) -> list[PollResult]:
    """poll_once until the queue has no visible message left (failed ones stay in flight)."""
    results: list[PollResult] = []
    for _ in range(max_polls):
        result = poll_once(sqs, queue_url, invoke, batch_size=batch_size)
        if result is None:
            return results
        results.append(result)
    raise AssertionError(f"{queue_url} still had messages after {max_polls} polls")
