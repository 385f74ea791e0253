"""Alarm storms against a Slack that enforces 1 message/s (burst 5) with 429 + Retry-After.

Two paths side by side, both through the real handler code and real HTTP on loopback:

- grouped (the default): alarms -> SNS -> inbox queue -> event source mapping. The poller is
  played here as Lambda plays it: it waits the batching window, hands the queued records to at
  most `MAXIMUM_CONCURRENCY` concurrent invocations (split between them in SQS receive chunks of
  10, the less favourable case for grouping), and returns the records listed in
  batchItemFailures to the queue after the visibility timeout; after `MAX_RECEIVE_COUNT`
  receives a record goes to the dead-letter (failure) queue.
- per alarm (direct mode, and v0.1's SNS -> Lambda): one concurrent invocation per alarm with
  Lambda's two asynchronous retries; what still fails goes to the failure queue.

Time is real except the waits between Lambda's retries (about 1 and 2 minutes in AWS) and the
visibility timeout (6 x the function timeout), which are compressed to a few seconds. A
compressed wait leaves Slack's bucket less time to refill, so it is the less favourable choice
for the per-alarm path's retries and for the grouped path's redeliveries alike.
"""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from common import use_repo_paths

GROUP_WAIT_SECONDS = 20.0  # the module's default group_wait_seconds
MAXIMUM_CONCURRENCY = 2  # the module's default (the minimum AWS allows)
BATCH_SIZE = 1000  # the module's default
MAX_RECEIVE_COUNT = 5  # the module's default inbox_max_receive_count
LAMBDA_TIMEOUT = 30.0  # the module's default lambda_timeout
LAMBDA_RETRY_DELAYS = (1.0, 2.0)  # compressed from about 1 and 2 minutes
VISIBILITY_DELAY = 3.0  # compressed from 6 x lambda_timeout
SQS_RECEIVE_CHUNK = 10


@dataclass(frozen=True)
class StormResult:
    """What one storm left in the channel and in the failure queue."""

    path: str
    alarms: int
    messages: int
    named: int
    rate_limited: int
    undelivered: int
    seconds_to_last_message: float
    seconds: float


class _Context:
    def __init__(self, timeout: float) -> None:
        self._deadline = time.monotonic() + timeout

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def _named(accepted: list[dict], names: list[str]) -> int:
    text = "\n".join(json.dumps(body, ensure_ascii=False) for body in accepted)
    return sum(1 for name in names if name in text)


def _result(
    path: str, slack: object, names: list[str], undelivered: int, started: float
) -> StormResult:
    answers = slack.answers  # type: ignore[attr-defined]
    ok = [a.at for a in answers if a.status == 200]
    return StormResult(
        path=path,
        alarms=len(names),
        messages=len(ok),
        named=_named(slack.accepted, names),  # type: ignore[attr-defined]
        rate_limited=sum(1 for a in answers if a.status == 429),
        undelivered=undelivered,
        seconds_to_last_message=max(ok) if ok else float("nan"),
        seconds=time.monotonic() - started,
    )


def grouped(count: int, *, window: float = GROUP_WAIT_SECONDS, seed: int = 0) -> StormResult:
    """The default path: inbox queue, batching window, concurrency cap, partial batch failures."""
    use_repo_paths()
    from handler import handle_event  # noqa: PLC0415
    from settings import load_settings  # noqa: PLC0415
    from support.rate_limited_slack import RateLimitedSlack  # noqa: PLC0415
    from support.storm import sns_envelope, sqs_record, storm_messages  # noqa: PLC0415

    messages = storm_messages(count, seed=seed)
    names = [m["AlarmName"] for m in messages]
    with RateLimitedSlack() as slack:
        settings = load_settings({"SLACK_WEBHOOK_URL": slack.url, "LOG_LEVEL": "CRITICAL"})
        started = slack.started
        # (record, receive count, visible from): all published within the same second.
        queue = [(sqs_record(sns_envelope(m)), 0, started) for m in messages]
        dead: list[dict] = []
        lock = threading.Lock()

        def invoke(batch: list[tuple[dict, int, float]]) -> None:
            result = handle_event(
                {"Records": [record for record, _, _ in batch]},
                _Context(LAMBDA_TIMEOUT),
                settings=settings,
            )
            failed = {f["itemIdentifier"] for f in result["batchItemFailures"]}
            with lock:
                for record, receives, _ in batch:
                    if record["messageId"] not in failed:
                        continue
                    if receives + 1 >= MAX_RECEIVE_COUNT:
                        dead.append(record)
                    else:
                        queue.append((record, receives + 1, time.monotonic() + VISIBILITY_DELAY))

        while True:
            with lock:
                if not queue:
                    break
                first_visible = min(q[2] for q in queue)
            if first_visible > time.monotonic():
                time.sleep(min(0.05, first_visible - time.monotonic()))
                continue
            # The batching window runs from the first record the pollers see.
            time.sleep(max(0.0, first_visible + window - time.monotonic()))
            with lock:
                visible = [q for q in queue if q[2] <= time.monotonic()]
                for item in visible:
                    queue.remove(item)
            batches: list[list[tuple[dict, int, float]]] = [[] for _ in range(MAXIMUM_CONCURRENCY)]
            for index in range(0, len(visible), SQS_RECEIVE_CHUNK):
                chunk = visible[index : index + SQS_RECEIVE_CHUNK]
                smallest = min(batches, key=len)
                if len(smallest) + len(chunk) <= BATCH_SIZE:
                    smallest.extend(chunk)
                else:
                    with lock:
                        queue.extend(chunk)
            with ThreadPoolExecutor(MAXIMUM_CONCURRENCY) as pool:
                list(pool.map(invoke, [b for b in batches if b]))
        return _result("grouped", slack, names, len(dead), started)


def per_alarm(count: int, *, seed: int = 0) -> StormResult:
    """Direct mode: one concurrent invocation per alarm, Lambda's async retries, failure queue."""
    use_repo_paths()
    from handler import DeliveryError, handle_event  # noqa: PLC0415
    from settings import load_settings  # noqa: PLC0415
    from support.cloudwatch import sns_lambda_event  # noqa: PLC0415
    from support.rate_limited_slack import RateLimitedSlack  # noqa: PLC0415
    from support.storm import sns_envelope, storm_messages  # noqa: PLC0415

    messages = storm_messages(count, seed=seed)
    names = [m["AlarmName"] for m in messages]
    with RateLimitedSlack() as slack:
        settings = load_settings({"SLACK_WEBHOOK_URL": slack.url, "LOG_LEVEL": "CRITICAL"})
        started = slack.started

        def invoke_with_retries(message: dict) -> bool:
            event = sns_lambda_event(sns_envelope(message))
            for attempt in range(1 + len(LAMBDA_RETRY_DELAYS)):
                if attempt:
                    time.sleep(LAMBDA_RETRY_DELAYS[attempt - 1])
                try:
                    handle_event(event, _Context(LAMBDA_TIMEOUT), settings=settings)
                except DeliveryError:
                    continue
                return True
            return False

        with ThreadPoolExecutor(max(1, count)) as pool:
            delivered = list(pool.map(invoke_with_retries, messages))
        return _result("per alarm", slack, names, delivered.count(False), started)
