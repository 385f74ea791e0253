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


def test_dynamodb_store_uses_only_get_put_update(dynamodb: object, clock: Clock) -> None:
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
    # What the IAM policy grants (iam.tf): nothing else may be needed.
    assert set(calls) == {"put_item", "get_item", "update_item"}
