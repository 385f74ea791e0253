"""The state store: DynamoDB (moto, in-process) and the in-memory one answer alike."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws

from state import BUSY, DONE, NEW, AlarmMessage, DigestRecord, DynamoStore
from support.memory_state import MemoryState

TABLE = "alerts-state"


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def dynamodb(monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "eu-west-1",
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        client = boto3.client("dynamodb", region_name="eu-west-1")
        client.create_table(
            TableName=TABLE,
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        )
        yield client


@pytest.fixture(params=["dynamodb", "memory"])
def store(request: pytest.FixtureRequest, clock: Clock) -> object:
    if request.param == "memory":
        return MemoryState(clock=clock)
    client = request.getfixturevalue("dynamodb")
    return DynamoStore(TABLE, ttl_days=7, client=client, clock=clock)


def test_a_record_is_new_once_and_done_after_delivery(store: DynamoStore) -> None:
    assert store.claim("m-1", lease_seconds=30) == NEW
    assert store.claim("m-1", lease_seconds=30) == BUSY, "held by the running attempt"
    store.finish("m-1", delivered=True)
    assert store.claim("m-1", lease_seconds=30) == DONE
    assert store.claim("m-2", lease_seconds=30) == NEW


def test_a_failed_record_can_be_claimed_again(store: DynamoStore) -> None:
    assert store.claim("m-1", lease_seconds=30) == NEW
    store.finish("m-1", delivered=False)
    assert store.claim("m-1", lease_seconds=30) == NEW


def test_the_lease_of_a_dead_attempt_runs_out(store: DynamoStore, clock: Clock) -> None:
    assert store.claim("m-1", lease_seconds=30) == NEW
    clock.now += 29
    assert store.claim("m-1", lease_seconds=30) == BUSY
    clock.now += 5
    assert store.claim("m-1", lease_seconds=30) == NEW


def test_message_round_trip(store: DynamoStore) -> None:
    message = AlarmMessage(
        "arn:aws:cloudwatch:eu-west-1:1:alarm:a",
        "C1",
        "1.000100",
        "ALARM",
        since="2024-05-14T07:21:04.987+0000",
        payload={"text": "héllo", "attachments": [{"color": "#E01E5A"}]},
    )
    assert store.get_message(message.alarm_key) is None
    store.put_message(message)
    assert store.get_message(message.alarm_key) == message
    assert store.get_message(message.alarm_key).payload == message.payload
    pointer = AlarmMessage("k2", "C1", "2.2", "ALARM", digest=True)
    store.put_message(pointer)
    assert store.get_message("k2") == pointer


def test_resolving_in_a_digest_removes_one_alarm_at_a_time(store: DynamoStore) -> None:
    assert store.resolve_in_digest("C1", "9.9", "a") is None
    digest = DigestRecord("C1", "9.9", {"text": "3 ALARM"}, {"ALARM": 3}, frozenset("abc"))
    store.put_digest(digest)
    assert store.resolve_in_digest("C1", "9.9", "b").open_alarms == {"a", "c"}
    assert store.resolve_in_digest("C1", "9.9", "b").open_alarms == {"a", "c"}
    store.resolve_in_digest("C1", "9.9", "a")
    last = store.resolve_in_digest("C1", "9.9", "c")
    assert last.open_alarms == frozenset()
    assert last.payload == {"text": "3 ALARM"}
    assert last.counts == {"ALARM": 3}


def test_dynamodb_items_carry_a_ttl_and_expired_ones_count_as_gone(
    dynamodb: object, clock: Clock
) -> None:
    store = DynamoStore(TABLE, ttl_days=7, client=dynamodb, clock=clock)
    store.put_message(AlarmMessage("k", "C1", "1.1", "ALARM"))
    item = dynamodb.get_item(TableName=TABLE, Key={"pk": {"S": "alarm#k"}})["Item"]
    assert int(item["expires_at"]["N"]) == int(clock.now) + 7 * 86400
    clock.now += 7 * 86400 + 1
    assert store.get_message("k") is None


def test_dynamodb_store_uses_only_what_the_iam_policy_grants(
    dynamodb: object, clock: Clock
) -> None:
    calls: list[str] = []

    class Recording:
        def __getattr__(self, name: str) -> object:
            calls.append(name)
            return getattr(dynamodb, name)

    store = DynamoStore(TABLE, client=Recording(), clock=clock)
    store.claim("e", lease_seconds=10)
    store.claim("e", lease_seconds=10)
    store.finish("e", delivered=True)
    store.put_message(AlarmMessage("k", "C1", "1.1", "ALARM"))
    store.get_message("k")
    store.put_digest(DigestRecord("C1", "1.1", {}, {}, frozenset({"k"})))
    store.resolve_in_digest("C1", "1.1", "k")
    store.claim_many(["e", "f"], lease_seconds=10)
    store.get_messages(["k"])
    store.write(messages=[AlarmMessage("k", "C1", "1.1", "OK")], finished={"f": True})
    store.resolve_many_in_digest("C1", "1.1", ["k"])
    # What the IAM policy grants (iam.tf; TransactWriteItems' Puts are dynamodb:PutItem):
    # nothing else may be needed.
    assert set(calls) == {
        "put_item", "get_item", "update_item", "transact_write_items", "batch_get_item",
        "batch_write_item",
    }  # fmt: skip


# --- batched: calls proportional to messages, not records ---------------------------------


def test_claim_many_answers_like_claim_one_by_one(store: DynamoStore, clock: Clock) -> None:
    ids = [f"e-{i}" for i in range(250)]
    assert store.claim("e-5", lease_seconds=30) == NEW  # another invocation holds it
    store.finish("e-7", delivered=True)  # delivered before
    store.finish("e-9", delivered=False)  # failed before: tried again
    answers = store.claim_many([*ids, "e-1"], lease_seconds=30)
    assert answers.pop("e-5") == BUSY
    assert answers.pop("e-7") == DONE
    assert set(answers.values()) == {NEW}
    assert len(answers) == 248
    assert store.claim_many(["e-1", "e-300"], lease_seconds=30) == {"e-1": BUSY, "e-300": NEW}
    clock.now += 40
    assert store.claim_many(["e-1"], lease_seconds=30) == {"e-1": NEW}, "the lease ran out"


def test_batched_reads_and_writes_round_trip(store: DynamoStore) -> None:
    messages = [
        AlarmMessage(f"k-{i}", "C1", f"{i}.1", "ALARM", since="2024-05-14T07:21:04Z",
                     changed_at="2024-05-14T07:21:04Z", digest=True, pending_update=i == 3)
        for i in range(130)
    ]  # fmt: skip
    digest = DigestRecord("C1", "9.9", {"text": "3 ALARM"}, {"ALARM": 3}, frozenset({"k-1", "k-2"}))
    store.write(messages=messages, digests=[digest], finished={"e-1": True, "e-2": False})
    found = store.get_messages([m.alarm_key for m in messages] + ["absent"])
    assert found == {m.alarm_key: m for m in messages}
    assert found["k-3"].pending_update
    assert store.claim("e-1", lease_seconds=5) == DONE
    assert store.claim("e-2", lease_seconds=5) == NEW
    left = store.resolve_many_in_digest("C1", "9.9", ["k-1", "k-2", "k-1"])
    assert left.open_alarms == frozenset()
    assert left.payload == {"text": "3 ALARM"}


class Counting:
    """A boto3 DynamoDB client that counts calls and, like DynamoDB under throttling (its
    BatchWriteItem/BatchGetItem reference: "UnprocessedItems"/"UnprocessedKeys" hold what was
    not done), leaves part of the first batch call unprocessed."""

    def __init__(self, client: object) -> None:
        self.client = client
        self.calls: dict[str, int] = {}
        self.throttle_first = True

    def __getattr__(self, name: str) -> object:
        method = getattr(self.client, name)

        def call(**kwargs: object) -> object:
            self.calls[name] = self.calls.get(name, 0) + 1
            if name == "batch_write_item" and self.throttle_first:
                self.throttle_first = False
                ((table, requests),) = kwargs["RequestItems"].items()
                done, later = requests[: len(requests) // 2], requests[len(requests) // 2 :]
                method(RequestItems={table: done})
                return {"UnprocessedItems": {table: later}}
            if name == "batch_get_item" and self.throttle_first:
                self.throttle_first = False
                ((table, request),) = kwargs["RequestItems"].items()
                keys = request["Keys"]
                answer = method(RequestItems={table: {**request, "Keys": keys[:1]}})
                return {**answer, "UnprocessedKeys": {table: {**request, "Keys": keys[1:]}}}
            return method(**kwargs)

        return call


def test_batches_respect_dynamodb_limits_and_retry_what_was_left_unprocessed(
    dynamodb: object, clock: Clock
) -> None:
    client = Counting(dynamodb)
    pauses: list[float] = []
    store = DynamoStore(TABLE, client=client, clock=clock, sleep=pauses.append)
    messages = [AlarmMessage(f"k-{i}", "C1", "1.1", "ALARM") for i in range(60)]
    store.write(messages=messages, finished={f"e-{i}": True for i in range(40)})
    # 100 items: 4 calls of 25 (BatchWriteItem's limit), plus one for the unprocessed half.
    assert client.calls == {"batch_write_item": 5}
    assert pauses == [0.05]
    client.throttle_first = True
    assert len(store.get_messages([m.alarm_key for m in messages])) == 60
    assert client.calls["batch_get_item"] == 2
    assert store.claim_many([f"x-{i}" for i in range(250)], lease_seconds=9)
    assert client.calls["transact_write_items"] == 3  # 100 per transaction


def test_joins_and_resolves_of_a_live_digest_never_lose_each_other(store: DynamoStore) -> None:
    """Two invocations join the same live digest while a third resolves one of its alarms:
    every change counts, whatever each of them read before (no read-modify-write)."""
    store.put_digest(DigestRecord("C1", "9.9", {"text": "2 ALARM"}, {"ALARM": 2}, frozenset("ab")))
    stale = store.get_digest("C1", "9.9")
    first = store.join_digest("C1", "9.9", ["c"], {"ALARM": 1})
    store.resolve_many_in_digest("C1", "9.9", ["a"])
    second = store.join_digest(stale.channel, stale.ts, ["d", "e"], {"ALARM": 1, "OK": 1})
    assert first.counts == {"ALARM": 3}
    assert second.counts == {"ALARM": 4, "OK": 1}
    assert second.open_alarms == frozenset("bcde")
    assert second.joined
    assert store.get_digest("C1", "9.9") == second
    assert store.join_digest("C1", "0.0", ["x"], {"ALARM": 1}) is None, "unknown digest"
