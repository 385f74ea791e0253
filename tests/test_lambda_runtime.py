"""The Lambda-like runner itself: kill at the timeout, redelivery, dead letters, warm reuse."""

from __future__ import annotations

import itertools
import os
import textwrap
from pathlib import Path

import pytest
from botocore.awsrequest import AWSResponse

from support.lambda_runtime import (
    OK,
    TIMEOUT,
    Arrival,
    EventSourceMapping,
    FunctionConfig,
    LambdaFunction,
    SqsQueue,
    VirtualClock,
    install_dynamodb_latency,
)
from support.moto_server import FAKE_CREDENTIALS

FAKE_CREDENTIALS_ARGS = {
    "aws_access_key_id": FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
    "aws_secret_access_key": FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
}
HANDLER = r"""\
import json, os, time

def lambda_handler(event, context):
    failures = []
    for record in event["Records"]:
        body = record["body"]
        if body == "hang":
            while context.get_remaining_time_in_millis() > 0:
                time.sleep(0.01)
            time.sleep(2)
            with open(os.path.join(os.environ["MARKER_DIR"], "outlived"), "a") as marker:
                marker.write(record["messageId"] + "\n")
        if body == "fail":
            failures.append({"itemIdentifier": record["messageId"]})
    return {"batchItemFailures": failures, "pid": os.getpid()}
"""


@pytest.fixture
def code_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "task"
    directory.mkdir()
    (directory / "handler.py").write_text(textwrap.dedent(HANDLER))
    return directory


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _mapping(function: LambdaFunction, clock: VirtualClock) -> EventSourceMapping:
    queue = SqsQueue(clock, visibility_timeout=200.0, max_receive_count=3)
    return EventSourceMapping(
        queue, function, batch_size=10, batching_window=20.0, maximum_concurrency=2
    )


def test_a_handler_past_the_timeout_is_killed_redelivered_then_dead_lettered(
    code_dir: Path,
) -> None:
    clock = VirtualClock()
    config = FunctionConfig(code_dir, {"MARKER_DIR": str(code_dir)}, timeout=0.5)
    with LambdaFunction(config, clock) as function:
        mapping = _mapping(function, clock)
        hung = mapping.queue.send("hang")
        mapping.run(max_seconds=60)

    # Killed at the timeout: no attempt lived to write its marker after the deadline.
    assert not (code_dir / "outlived").exists()
    outcomes = [run.invocation.outcome for run in mapping.runs]
    assert outcomes == [TIMEOUT] * 3
    # Each timed-out attempt started a new container: the killed process is gone.
    pids = [run.invocation.pid for run in mapping.runs]
    assert len(set(pids)) == 3
    assert all(pid is not None and not _alive(pid) for pid in pids)
    assert all(run.invocation.cold for run in mapping.runs)
    assert [m.message_id for m in mapping.queue.dead_letters] == [hung]
    assert mapping.queue.dead_letters[0].receive_count == 3
    # Each redelivery waited out the visibility timeout (skipped on the virtual clock).
    starts = [run.started_at for run in mapping.runs]
    gaps = [later - earlier for earlier, later in itertools.pairwise(starts)]
    assert all(gap >= 200.0 for gap in gaps)


def test_only_reported_failures_come_back_and_a_warm_container_is_reused(
    code_dir: Path,
) -> None:
    clock = VirtualClock()
    with LambdaFunction(FunctionConfig(code_dir, {}, timeout=5.0), clock) as function:
        mapping = _mapping(function, clock)
        mapping.queue.send("fine")
        failing = mapping.queue.send("fail")
        mapping.run(max_seconds=60)
        assert function.containers_started == 1

    assert [run.invocation.outcome for run in mapping.runs] == [OK] * 3
    assert [run.records for run in mapping.runs] == [2, 1, 1]
    assert [run.invocation.cold for run in mapping.runs] == [True, False, False]
    assert len({run.invocation.result["pid"] for run in mapping.runs}) == 1
    assert [m.message_id for m in mapping.queue.dead_letters] == [failing]
    assert [m.body for m in mapping.queue.deleted] == ["fine"]


def test_batches_sent_one_window_apart_are_invoked_one_by_one(code_dir: Path) -> None:
    clock = VirtualClock()
    with LambdaFunction(FunctionConfig(code_dir, {}, timeout=5.0), clock) as function:
        mapping = _mapping(function, clock)
        start = clock.monotonic()
        mapping.run(
            [
                Arrival(start + 20.0 * batch, f"alarm {batch}.{n}")
                for batch in range(3)
                for n in (1, 2)
            ]
        )
    assert [run.records for run in mapping.runs] == [2, 2, 2]
    # Each batch waited out its window on the virtual clock (nothing else ran meanwhile).
    assert [round(run.started_at - start) for run in mapping.runs] == [20, 40, 60]


def test_without_the_kill_a_slow_handler_runs_to_its_end(code_dir: Path) -> None:
    (code_dir / "handler.py").write_text(
        "import time\n"
        "def lambda_handler(event, context):\n"
        "    time.sleep(0.8)\n"
        "    return {'left_ms': context.get_remaining_time_in_millis()}\n"
    )
    config = FunctionConfig(code_dir, {}, timeout=0.3, kill_at_timeout=False)
    with LambdaFunction(config) as function:
        invocation = function.invoke({"Records": []})
    assert invocation.outcome == OK
    assert invocation.result == {"left_ms": 0}


def test_every_dynamodb_request_is_delayed_retries_included() -> None:
    import boto3  # noqa: PLC0415

    session = boto3.session.Session(region_name="us-east-1", **FAKE_CREDENTIALS_ARGS)
    slept: list[float] = []
    calls = install_dynamodb_latency(session.events, 0.02, sleep=slept.append)
    answers = iter([500, 200, 200])

    def answer(request: object, **_: object) -> AWSResponse:
        status = next(answers)
        body = b"{}" if status == 200 else b'{"__type":"InternalServerError"}'
        return AWSResponse("http://dynamodb", status, {}, _Raw(body))

    session.events.register("before-send.dynamodb", answer)
    client = session.client("dynamodb", endpoint_url="http://127.0.0.1:9")
    client.get_item(TableName="t", Key={"pk": {"S": "a"}})  # 500, then retried: 200
    client.put_item(TableName="t", Item={"pk": {"S": "a"}})
    assert calls == ["GetItem", "GetItem", "PutItem"]
    assert slept == [0.02, 0.02, 0.02]


class _Raw:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: object) -> list[bytes]:
        return [self._body]
