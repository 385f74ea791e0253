"""App-mode state: the open Slack message per alarm, digests, and which records were delivered.

One DynamoDB table (created by the module), one string key `pk`, a TTL attribute `expires_at`:
- `alarm#<alarm ARN>`: the channel and ts of the alarm's message (its own, or the digest it is
  in), the state it shows, since when, and the posted payload (to re-render it as resolved);
- `digest#<channel>#<ts>`: a digest's first message, its counts and the alarms still open;
- `event#<SNS MessageId or EventBridge id>`: idempotency; a conditional PutItem decides whether
  a record is new, so a redelivered record posts nothing.
boto3 is imported only when a DynamoStore is built: webhook mode never loads it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

NEW, DONE, BUSY = "new", "done", "busy"
DEFAULT_TTL_DAYS = 30
# DynamoDB's limits per call (API reference): BatchGetItem 100 keys, BatchWriteItem 25 put or
# delete requests (no conditions), TransactWriteItems 100 actions (conditions allowed).
BATCH_GET_LIMIT = 100
BATCH_WRITE_LIMIT = 25
TRANSACT_LIMIT = 100
# Unprocessed keys/items (throttling) and cancelled transactions are tried again this often,
# with a short exponential pause, before the call counts as failed.
BATCH_ROUNDS = 5
BATCH_PAUSE_SECONDS = 0.05
CLAIM_CONDITION = "attribute_not_exists(pk) OR (#s <> :done AND lease_until < :now)"


@dataclass(frozen=True)
class AlarmMessage:
    """Where an alarm's notification lives in Slack and what it shows.

    `ts` is the message to update and to reply under: the alarm's own message, or the digest
    it was reported in (`digest` is True, `payload` is None then).
    """

    alarm_key: str
    channel: str
    ts: str
    state: str
    since: str | None = None
    payload: dict[str, Any] | None = field(default=None, compare=False)
    digest: bool = False
    # The StateChangeTime of the state shown: an older event arriving late never overrides it.
    changed_at: str | None = None
    # Resolved, but the chat.update that turns the message green has not landed yet.
    pending_update: bool = False
    # Its chat.postMessage failed in a way that may have posted it (internal_error, timeout
    # after sending): `ts` is unknown until the message is found by its metadata.
    unsure: bool = False


@dataclass(frozen=True)
class DigestRecord:
    """A digest's first message, the counts it announced and the alarms in it still open."""

    channel: str
    ts: str
    payload: dict[str, Any] = field(compare=False)
    counts: dict[str, int]
    open_alarms: frozenset[str] = frozenset()
    # A live storm digest that later batches joined: its header is rebuilt from `counts`.
    joined: bool = False


@dataclass(frozen=True)
class LiveDigest:
    """A channel's storm digest that later batches still join: its first message and when it
    was posted (epoch seconds)."""

    channel: str
    ts: str
    started_at: float


class StateStore(Protocol):
    """What app mode needs from its state; DynamoStore in Lambda, an in-memory one in tests."""

    def claim(self, event_id: str, *, lease_seconds: float) -> str:
        """NEW (deliver it), DONE (delivered before: skip) or BUSY (another attempt holds it)."""
        ...

    def finish(self, event_id: str, *, delivered: bool) -> None:
        """Mark a claimed record delivered, or release it so a redelivery tries again."""
        ...

    def get_message(self, alarm_key: str) -> AlarmMessage | None: ...

    def put_message(self, message: AlarmMessage) -> None: ...

    def put_digest(self, digest: DigestRecord) -> None: ...

    def resolve_in_digest(self, channel: str, ts: str, alarm_key: str) -> DigestRecord | None:
        """Remove an alarm from a digest's open set; the updated digest, None if unknown."""
        ...

    def get_digest(self, channel: str, ts: str) -> DigestRecord | None: ...

    def join_digest(
        self, channel: str, ts: str, alarm_keys: list[str], counts: dict[str, int]
    ) -> DigestRecord | None:
        """Add a joined part's alarms (open) and counts to a live digest, atomically; the
        digest as it is now, None if unknown."""
        ...

    def get_live(self, channel: str) -> LiveDigest | None: ...

    def put_live(self, live: LiveDigest) -> None: ...

    # Batched forms: state I/O proportional to the messages posted, not the records received.

    def claim_many(self, event_ids: list[str], *, lease_seconds: float) -> dict[str, str]:
        """claim() for many records at once: NEW, DONE or BUSY for each event id."""
        ...

    def get_messages(self, alarm_keys: list[str]) -> dict[str, AlarmMessage]:
        """The stored records of these alarms (absent: no record)."""
        ...

    def write(
        self,
        *,
        messages: Sequence[AlarmMessage] = (),
        digests: Sequence[DigestRecord] = (),
        finished: dict[str, bool] | None = None,
    ) -> None:
        """Store records, digests and finished records (event id -> delivered) together."""
        ...

    def resolve_many_in_digest(
        self, channel: str, ts: str, alarm_keys: list[str]
    ) -> DigestRecord | None:
        """resolve_in_digest() for several alarms of one digest at once."""
        ...

    def record_posted(self, finished: dict[str, bool], digests: Sequence[DigestRecord]) -> None:
        """What one post delivered, in one atomic call where it fits (one transaction of up to
        100 items): the window in which a kill repeats a message is this one call."""
        ...


def _client(region: str | None = None) -> Any:  # noqa: ANN401 - a boto3 client has no type
    import boto3  # noqa: PLC0415 - app mode only
    from botocore.config import Config  # noqa: PLC0415

    config = Config(
        connect_timeout=3, read_timeout=3, retries={"max_attempts": 3, "mode": "standard"}
    )
    return boto3.client("dynamodb", region_name=region, config=config)


class DynamoStore:
    """The StateStore on the module's DynamoDB table: item and batch reads and writes, and
    transactions for claims; never Scan, Query or Delete."""

    def __init__(
        self,
        table: str,
        *,
        ttl_days: int = DEFAULT_TTL_DAYS,
        client: Any = None,  # noqa: ANN401
        clock: Any = time.time,  # noqa: ANN401
        sleep: Any = time.sleep,  # noqa: ANN401
    ) -> None:
        self.table = table
        self.ttl_seconds = int(ttl_days) * 86400
        self._client = client if client is not None else _client()
        self._clock = clock
        self._sleep = sleep

    def _expires(self) -> dict[str, str]:
        return {"N": str(int(self._clock()) + self.ttl_seconds)}

    def claim(self, event_id: str, *, lease_seconds: float) -> str:
        from botocore.exceptions import ClientError  # noqa: PLC0415

        now = int(self._clock())
        key = f"event#{event_id}"
        try:
            self._client.put_item(
                TableName=self.table,
                Item={
                    "pk": {"S": key},
                    "status": {"S": "pending"},
                    "lease_until": {"N": str(now + int(lease_seconds) + 1)},
                    "expires_at": self._expires(),
                },
                # New, or an earlier attempt failed, or its lease ran out (that Lambda died).
                ConditionExpression=(
                    "attribute_not_exists(pk) OR (#s <> :done AND lease_until < :now)"
                ),
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={":done": {"S": "done"}, ":now": {"N": str(now)}},
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
            item = self._client.get_item(
                TableName=self.table, Key={"pk": {"S": key}}, ConsistentRead=True
            ).get("Item", {})
            return DONE if item.get("status", {}).get("S") == "done" else BUSY
        return NEW

    def finish(self, event_id: str, *, delivered: bool) -> None:
        self._client.put_item(
            TableName=self.table, Item=self._finished_item(event_id, delivered=delivered)
        )

    def _finished_item(self, event_id: str, *, delivered: bool) -> dict[str, Any]:
        return {
            "pk": {"S": f"event#{event_id}"},
            "status": {"S": "done" if delivered else "failed"},
            "lease_until": {"N": "0"},
            "expires_at": self._expires(),
        }

    def get_message(self, alarm_key: str) -> AlarmMessage | None:
        item = self._client.get_item(
            TableName=self.table, Key={"pk": {"S": f"alarm#{alarm_key}"}}, ConsistentRead=True
        ).get("Item")
        return self._message(item) if item else None

    def _message(self, item: dict[str, Any]) -> AlarmMessage | None:
        if self._expired(item):
            return None
        payload = item.get("payload", {}).get("S")
        return AlarmMessage(
            alarm_key=item["pk"]["S"].removeprefix("alarm#"),
            channel=item["channel"]["S"],
            ts=item["ts"]["S"],
            state=item["state"]["S"],
            since=item.get("since", {}).get("S"),
            payload=json.loads(payload) if payload else None,
            digest=item.get("digest", {}).get("BOOL", False),
            changed_at=item.get("changed_at", {}).get("S"),
            pending_update=item.get("pending_update", {}).get("BOOL", False),
            unsure=item.get("unsure", {}).get("BOOL", False),
        )

    def put_message(self, message: AlarmMessage) -> None:
        self._client.put_item(TableName=self.table, Item=self._message_item(message))

    def _message_item(self, message: AlarmMessage) -> dict[str, Any]:
        item: dict[str, Any] = {
            "pk": {"S": f"alarm#{message.alarm_key}"},
            "channel": {"S": message.channel},
            "ts": {"S": message.ts},
            "state": {"S": message.state},
            "digest": {"BOOL": message.digest},
            "expires_at": self._expires(),
        }
        if message.since:
            item["since"] = {"S": message.since}
        if message.changed_at:
            item["changed_at"] = {"S": message.changed_at}
        if message.pending_update:
            item["pending_update"] = {"BOOL": True}
        if message.unsure:
            item["unsure"] = {"BOOL": True}
        if message.payload is not None:
            item["payload"] = {"S": _dumps(message.payload)}
        return item

    def put_digest(self, digest: DigestRecord) -> None:
        self._client.put_item(TableName=self.table, Item=self._digest_item(digest))

    def _digest_item(self, digest: DigestRecord) -> dict[str, Any]:
        item: dict[str, Any] = {
            "pk": {"S": f"digest#{digest.channel}#{digest.ts}"},
            "channel": {"S": digest.channel},
            "ts": {"S": digest.ts},
            "payload": {"S": _dumps(digest.payload)},
            "counts": {"S": _dumps(digest.counts)},
            # The same counts as numbers a join adds to atomically (join_digest).
            "counts_m": {"M": {k: {"N": str(int(v))} for k, v in digest.counts.items()}},
            "expires_at": self._expires(),
        }
        if digest.open_alarms:
            item["open_alarms"] = {"SS": sorted(digest.open_alarms)}
        if digest.joined:
            item["joined"] = {"BOOL": True}
        return item

    def join_digest(
        self, channel: str, ts: str, alarm_keys: list[str], counts: dict[str, int]
    ) -> DigestRecord | None:
        from botocore.exceptions import ClientError  # noqa: PLC0415

        names: dict[str, str] = {}
        values: dict[str, Any] = {":zero": {"N": "0"}, ":true": {"BOOL": True}}
        sets = ["joined = :true"]
        for index, (state, count) in enumerate(sorted(counts.items())):
            names[f"#s{index}"] = state
            values[f":n{index}"] = {"N": str(int(count))}
            path = f"counts_m.#s{index}"
            sets.append(f"{path} = if_not_exists({path}, :zero) + :n{index}")
        expression = "SET " + ", ".join(sets)
        if alarm_keys:
            expression += " ADD open_alarms :keys"
            values[":keys"] = {"SS": sorted(set(alarm_keys))}
        arguments: dict[str, Any] = {
            "TableName": self.table,
            "Key": {"pk": {"S": f"digest#{channel}#{ts}"}},
            # SET on a map path and ADD to a set are atomic: concurrent joins and resolves
            # each change their own part (a read-modify-write would lose one of them).
            "UpdateExpression": expression,
            "ConditionExpression": "attribute_exists(pk)",
            "ExpressionAttributeValues": values,
            "ReturnValues": "ALL_NEW",
        }
        if names:
            arguments["ExpressionAttributeNames"] = names
        try:
            item = self._client.update_item(**arguments).get("Attributes", {})
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return None
            raise
        return _digest(channel, ts, item)

    def resolve_in_digest(self, channel: str, ts: str, alarm_key: str) -> DigestRecord | None:
        return self._delete_open(channel, ts, [alarm_key])

    def get_digest(self, channel: str, ts: str) -> DigestRecord | None:
        item = self._client.get_item(
            TableName=self.table, Key={"pk": {"S": f"digest#{channel}#{ts}"}}, ConsistentRead=True
        ).get("Item")
        if not item or self._expired(item):
            return None
        return _digest(channel, ts, item)

    def get_live(self, channel: str) -> LiveDigest | None:
        item = self._client.get_item(
            TableName=self.table, Key={"pk": {"S": f"live#{channel}"}}, ConsistentRead=True
        ).get("Item")
        if not item or self._expired(item):
            return None
        return LiveDigest(channel, item["ts"]["S"], float(item["started_at"]["N"]))

    def put_live(self, live: LiveDigest) -> None:
        item = {
            "pk": {"S": f"live#{live.channel}"},
            "ts": {"S": live.ts},
            "started_at": {"N": repr(float(live.started_at))},
            "expires_at": self._expires(),
        }
        self._client.put_item(TableName=self.table, Item=item)

    def _delete_open(self, channel: str, ts: str, alarm_keys: list[str]) -> DigestRecord | None:
        from botocore.exceptions import ClientError  # noqa: PLC0415

        try:
            # DELETE from a string set is atomic: concurrent OKs each remove their own alarms.
            item = self._client.update_item(
                TableName=self.table,
                Key={"pk": {"S": f"digest#{channel}#{ts}"}},
                UpdateExpression="DELETE open_alarms :keys",
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeValues={":keys": {"SS": alarm_keys}},
                ReturnValues="ALL_NEW",
            ).get("Attributes", {})
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return None
            raise
        return _digest(channel, ts, item)

    # --- batched ----------------------------------------------------------------------------

    def claim_many(self, event_ids: list[str], *, lease_seconds: float) -> dict[str, str]:
        """Conditional puts in transactions of 100: all or nothing per transaction, so a
        cancelled one names (CancellationReasons, with the old item) which records were not
        new; the others are claimed in the next round."""
        from botocore.exceptions import ClientError  # noqa: PLC0415

        now = int(self._clock())
        answers: dict[str, str] = {}
        for chunk in _chunks(list(dict.fromkeys(event_ids)), TRANSACT_LIMIT):
            todo = chunk
            for round_ in range(BATCH_ROUNDS):
                if not todo:
                    break
                puts = [{"Put": self._claim_put(e, now, lease_seconds)} for e in todo]
                try:
                    self._client.transact_write_items(TransactItems=puts)
                except ClientError as exc:
                    if exc.response.get("Error", {}).get("Code") != "TransactionCanceledException":
                        raise
                    reasons = exc.response.get("CancellationReasons") or []
                    if len(reasons) != len(todo):
                        raise
                    retry = []
                    for event_id, reason in zip(todo, reasons, strict=True):
                        if reason.get("Code") == "ConditionalCheckFailed":
                            status = reason.get("Item", {}).get("status", {}).get("S")
                            answers[event_id] = DONE if status == "done" else BUSY
                        else:  # TransactionConflict, None (not the cause), throttling
                            retry.append(event_id)
                    todo = retry
                    if todo:
                        self._sleep(BATCH_PAUSE_SECONDS * 2**round_)
                    continue
                answers.update(dict.fromkeys(todo, NEW))
                todo = []
            if todo:
                raise StateError(f"{len(todo)} record(s) could not be claimed")
        return answers

    def _claim_put(self, event_id: str, now: int, lease_seconds: float) -> dict[str, Any]:
        return {
            "TableName": self.table,
            "Item": {
                "pk": {"S": f"event#{event_id}"},
                "status": {"S": "pending"},
                "lease_until": {"N": str(now + int(lease_seconds) + 1)},
                "expires_at": self._expires(),
            },
            # New, or an earlier attempt failed, or its lease ran out (that Lambda died).
            "ConditionExpression": CLAIM_CONDITION,
            "ExpressionAttributeNames": {"#s": "status"},
            "ExpressionAttributeValues": {":done": {"S": "done"}, ":now": {"N": str(now)}},
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }

    def get_messages(self, alarm_keys: list[str]) -> dict[str, AlarmMessage]:
        found: dict[str, AlarmMessage] = {}
        for chunk in _chunks(list(dict.fromkeys(alarm_keys)), BATCH_GET_LIMIT):
            request: dict[str, Any] = {
                self.table: {
                    "Keys": [{"pk": {"S": f"alarm#{key}"}} for key in chunk],
                    "ConsistentRead": True,
                }
            }
            for round_ in range(BATCH_ROUNDS):
                answer = self._client.batch_get_item(RequestItems=request)
                for item in answer.get("Responses", {}).get(self.table, []):
                    message = self._message(item)
                    if message is not None:
                        found[message.alarm_key] = message
                request = answer.get("UnprocessedKeys") or {}
                if not request:
                    break
                self._sleep(BATCH_PAUSE_SECONDS * 2**round_)
            if request:
                raise StateError("some alarm records could not be read (throttled)")
        return found

    def write(
        self,
        *,
        messages: Sequence[AlarmMessage] = (),
        digests: Sequence[DigestRecord] = (),
        finished: dict[str, bool] | None = None,
    ) -> None:
        items: dict[str, dict[str, Any]] = {}  # by key: BatchWriteItem refuses a key twice
        for message in messages:
            item = self._message_item(message)
            items[item["pk"]["S"]] = item
        for digest in digests:
            item = self._digest_item(digest)
            items[item["pk"]["S"]] = item
        for event_id, delivered in (finished or {}).items():
            item = self._finished_item(event_id, delivered=delivered)
            items[item["pk"]["S"]] = item
        for chunk in _chunks(list(items.values()), BATCH_WRITE_LIMIT):
            request = {self.table: [{"PutRequest": {"Item": item}} for item in chunk]}
            for round_ in range(BATCH_ROUNDS):
                answer = self._client.batch_write_item(RequestItems=request)
                request = answer.get("UnprocessedItems") or {}
                if not request:
                    break
                self._sleep(BATCH_PAUSE_SECONDS * 2**round_)
            if request:
                raise StateError("some state items could not be written (throttled)")

    def record_posted(self, finished: dict[str, bool], digests: Sequence[DigestRecord]) -> None:
        items = [self._finished_item(e, delivered=ok) for e, ok in finished.items()]
        items += [self._digest_item(d) for d in digests]
        if not items:
            return
        if len(items) > TRANSACT_LIMIT:
            self.write(digests=digests, finished=finished)
            return
        self._client.transact_write_items(
            TransactItems=[{"Put": {"TableName": self.table, "Item": item}} for item in items]
        )

    def resolve_many_in_digest(
        self, channel: str, ts: str, alarm_keys: list[str]
    ) -> DigestRecord | None:
        if not alarm_keys:
            return None
        return self._delete_open(channel, ts, sorted(set(alarm_keys)))

    def _expired(self, item: dict[str, Any]) -> bool:
        # DynamoDB deletes expired items within days, not at once: treat them as gone now.
        expires = item.get("expires_at", {}).get("N")
        return expires is not None and int(expires) < int(self._clock())


def _digest(channel: str, ts: str, item: dict[str, Any]) -> DigestRecord:
    return DigestRecord(
        channel=channel,
        ts=ts,
        payload=json.loads(item["payload"]["S"]),
        counts=_counts(item),
        open_alarms=frozenset(item.get("open_alarms", {}).get("SS", [])),
        joined=item.get("joined", {}).get("BOOL", False),
    )


def _counts(item: dict[str, Any]) -> dict[str, int]:
    numbers = item.get("counts_m", {}).get("M")
    if numbers is None:  # an item written before counts_m existed
        return json.loads(item["counts"]["S"])
    return {state: int(value["N"]) for state, value in numbers.items()}


class StateError(Exception):
    """The state table did not take or give what was asked (throttled past the retries)."""


def _chunks(values: list[Any], size: int) -> list[list[Any]]:
    return [values[start : start + size] for start in range(0, len(values), size)]


def _dumps(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
