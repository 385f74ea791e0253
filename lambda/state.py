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
from dataclasses import dataclass, field
from typing import Any, Protocol

NEW, DONE, BUSY = "new", "done", "busy"
DEFAULT_TTL_DAYS = 30


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


@dataclass(frozen=True)
class DigestRecord:
    """A digest's first message, the counts it announced and the alarms in it still open."""

    channel: str
    ts: str
    payload: dict[str, Any] = field(compare=False)
    counts: dict[str, int]
    open_alarms: frozenset[str] = frozenset()


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


def _client(region: str | None = None) -> Any:  # noqa: ANN401 - a boto3 client has no type
    import boto3  # noqa: PLC0415 - app mode only
    from botocore.config import Config  # noqa: PLC0415

    config = Config(
        connect_timeout=3, read_timeout=3, retries={"max_attempts": 3, "mode": "standard"}
    )
    return boto3.client("dynamodb", region_name=region, config=config)


class DynamoStore:
    """The StateStore on the module's DynamoDB table (GetItem, PutItem, UpdateItem only)."""

    def __init__(
        self,
        table: str,
        *,
        ttl_days: int = DEFAULT_TTL_DAYS,
        client: Any = None,  # noqa: ANN401
        clock: Any = time.time,  # noqa: ANN401
    ) -> None:
        self.table = table
        self.ttl_seconds = int(ttl_days) * 86400
        self._client = client if client is not None else _client()
        self._clock = clock

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
        self._client.update_item(
            TableName=self.table,
            Key={"pk": {"S": f"event#{event_id}"}},
            UpdateExpression="SET #s = :s, lease_until = :zero, expires_at = :exp",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={
                ":s": {"S": "done" if delivered else "failed"},
                ":zero": {"N": "0"},
                ":exp": self._expires(),
            },
        )

    def get_message(self, alarm_key: str) -> AlarmMessage | None:
        item = self._client.get_item(
            TableName=self.table, Key={"pk": {"S": f"alarm#{alarm_key}"}}, ConsistentRead=True
        ).get("Item")
        if not item or self._expired(item):
            return None
        payload = item.get("payload", {}).get("S")
        return AlarmMessage(
            alarm_key=alarm_key,
            channel=item["channel"]["S"],
            ts=item["ts"]["S"],
            state=item["state"]["S"],
            since=item.get("since", {}).get("S"),
            payload=json.loads(payload) if payload else None,
            digest=item.get("digest", {}).get("BOOL", False),
            changed_at=item.get("changed_at", {}).get("S"),
            pending_update=item.get("pending_update", {}).get("BOOL", False),
        )

    def put_message(self, message: AlarmMessage) -> None:
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
        if message.payload is not None:
            item["payload"] = {"S": _dumps(message.payload)}
        self._client.put_item(TableName=self.table, Item=item)

    def put_digest(self, digest: DigestRecord) -> None:
        item: dict[str, Any] = {
            "pk": {"S": f"digest#{digest.channel}#{digest.ts}"},
            "channel": {"S": digest.channel},
            "ts": {"S": digest.ts},
            "payload": {"S": _dumps(digest.payload)},
            "counts": {"S": _dumps(digest.counts)},
            "expires_at": self._expires(),
        }
        if digest.open_alarms:
            item["open_alarms"] = {"SS": sorted(digest.open_alarms)}
        self._client.put_item(TableName=self.table, Item=item)

    def resolve_in_digest(self, channel: str, ts: str, alarm_key: str) -> DigestRecord | None:
        from botocore.exceptions import ClientError  # noqa: PLC0415

        try:
            # DELETE from a string set is atomic: concurrent OKs each remove their own alarm.
            item = self._client.update_item(
                TableName=self.table,
                Key={"pk": {"S": f"digest#{channel}#{ts}"}},
                UpdateExpression="DELETE open_alarms :key",
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeValues={":key": {"SS": [alarm_key]}},
                ReturnValues="ALL_NEW",
            ).get("Attributes", {})
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return None
            raise
        return DigestRecord(
            channel=channel,
            ts=ts,
            payload=json.loads(item["payload"]["S"]),
            counts=json.loads(item["counts"]["S"]),
            open_alarms=frozenset(item.get("open_alarms", {}).get("SS", [])),
        )

    def _expired(self, item: dict[str, Any]) -> bool:
        # DynamoDB deletes expired items within days, not at once: treat them as gone now.
        expires = item.get("expires_at", {}).get("N")
        return expires is not None and int(expires) < int(self._clock())


def _dumps(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
