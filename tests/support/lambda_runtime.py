"""A Lambda-like runtime: worker processes killed at the timeout, an SQS-like queue, DynamoDB delay.

- `LambdaFunction` runs each invocation in a worker process, one process per container: a
  container is reused while warm (module state, the DynamoDB client and the SSM cache stay), a new
  one pays the init phase again. An invocation still running at the timeout gets SIGKILL, as
  Lambda ends a timed-out runtime, and its container is gone.
- `SqsQueue` and `EventSourceMapping` play the inbox queue and Lambda's poller: batch size,
  batching window, maximum concurrency, ReportBatchItemFailures, the visibility timeout and
  maxReceiveCount (then the dead-letter queue).
- `VirtualClock` compresses waits: whenever no invocation runs, the runner jumps over the time
  until the next thing happens (a batching window closing, a message becoming visible again, a
  scheduled arrival) instead of sleeping it. While an invocation runs, time is real. The worker's
  wall clock (`time.time`) and whatever else is given `clock.monotonic` (a fake Slack's rate
  limits) include the skipped time, so a DynamoDB lease written before a skipped visibility
  timeout has expired after it, as it would have in AWS.
- `install_dynamodb_latency` delays every DynamoDB HTTP request of a boto3 session (botocore's
  `before-send` event, each retry included) without touching the code under test.

    python -I -B tests/support/lambda_runtime.py worker   (started by Container, never by hand)
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import select
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from pathlib import Path
from typing import Any

# "The Init phase is limited to 10 seconds" (Lambda's "Understanding the Lambda execution
# environment lifecycle"); here a worker that is not ready by then fails the invocation.
INIT_TIMEOUT_SECONDS = 10.0
# Without a kill at the timeout, an invocation that never answers is still stopped after this
# many timeouts, so a hung handler cannot hang the caller.
UNKILLED_CAP_TIMEOUTS = 20
QUEUE_ARN = "arn:aws:sqs:ap-northeast-2:123456789012:alerts-inbox"
DEFAULT_FUNCTION_NAME = "alerts-alarm-to-slack"
TIMEOUT = "timeout"
ERROR = "error"
OK = "ok"
CRASHED = "crashed"


class VirtualClock:
    """Real time plus the waits the runner skipped; `advance` only while nothing runs."""

    def __init__(self) -> None:
        self._offset = 0.0
        self._lock = threading.Lock()

    @property
    def offset(self) -> float:
        """Seconds skipped so far."""
        with self._lock:
            return self._offset

    def monotonic(self) -> float:
        """time.monotonic() plus the skipped seconds."""
        return time.monotonic() + self.offset

    def wall(self) -> float:
        """time.time() plus the skipped seconds (the workers' time.time)."""
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        """Skip `seconds` (ignored when not positive)."""
        if seconds > 0:
            with self._lock:
                self._offset += seconds


@dataclasses.dataclass(frozen=True)
class FunctionConfig:
    """A function as the runner deploys it: code, handler, environment, timeout."""

    code_dir: Path
    environment: Mapping[str, str]
    handler: str = "handler.lambda_handler"
    timeout: float = 30.0
    kill_at_timeout: bool = True
    dynamodb_latency: float = 0.0
    name: str = DEFAULT_FUNCTION_NAME
    log_path: Path | None = None  # the workers' stderr (the function's log), appended


@dataclasses.dataclass(frozen=True)
class Invocation:
    """One invocation: outcome (ok, error, timeout, crashed), answer, seconds, cold or warm."""

    outcome: str
    result: Any = None
    error: str | None = None
    seconds: float = 0.0
    cold: bool = False
    dynamodb_calls: int = 0
    pid: int | None = None


def lambda_environment(config: FunctionConfig) -> dict[str, str]:
    """The worker's environment: the function's variables and the runtime's own, nothing else
    from the caller (no user AWS config or credentials file is read)."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "TZ": "UTC",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_LAMBDA_FUNCTION_NAME": config.name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
        "AWS_LAMBDA_FUNCTION_TIMEOUT": f"{config.timeout:g}",
        **config.environment,
    }


class Container:
    """One warm execution environment: a worker process that runs invocations one at a time.

    Sources: Lambda, "Understanding the Lambda execution environment lifecycle": an environment
    is reused for later invocations (module state survives), init runs once per environment,
    and a function that times out is stopped and its environment reset (here: SIGKILL, the
    next invocation gets a new process). A handler that raises does not end the runtime: the
    runtime reports the error and asks for the next event (Lambda, "Using the Lambda runtime
    API for custom runtimes", the invocation error path), so the container stays warm.
    """

    def __init__(self, config: FunctionConfig, clock: VirtualClock) -> None:
        self.config = config
        self.clock = clock
        self.invocations = 0
        self._buffer = bytearray()
        log = open(config.log_path, "ab") if config.log_path else subprocess.DEVNULL  # noqa: SIM115
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-I", "-B", str(Path(__file__).resolve()), "worker"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log,
                env=lambda_environment(config),
                cwd=str(config.code_dir),
                start_new_session=True,
            )
        finally:
            if log is not subprocess.DEVNULL:
                log.close()
        self.init_error: str | None = None
        self._send(
            {
                "code_dir": str(Path(config.code_dir).resolve()),
                "handler": config.handler,
                "dynamodb_latency": config.dynamodb_latency,
                "time_offset": clock.offset,
            }
        )
        ready = self._read(time.monotonic() + INIT_TIMEOUT_SECONDS)
        if ready is None or not ready.get("ready"):
            self.init_error = (ready or {}).get("init_error") or "init timed out or crashed"
            self.kill()

    @property
    def alive(self) -> bool:
        """The worker process still runs."""
        return self.process.poll() is None

    @property
    def pid(self) -> int:
        """The worker's process id."""
        return self.process.pid

    def invoke(self, event: Any) -> Invocation:
        """Run one invocation; SIGKILL at the timeout (if configured)."""
        cold = self.invocations == 0
        self.invocations += 1
        started = time.monotonic()
        if self.init_error is not None:
            return Invocation(CRASHED, error=f"init: {self.init_error}", cold=cold, pid=self.pid)
        deadline = started + self.config.timeout
        cap = 1 if self.config.kill_at_timeout else UNKILLED_CAP_TIMEOUTS
        stop_at = started + self.config.timeout * cap
        try:
            self._send({"event": event, "deadline": deadline, "time_offset": self.clock.offset})
        except (BrokenPipeError, OSError):
            self.kill()
            return Invocation(CRASHED, error="worker gone", cold=cold, pid=self.pid)
        answer = self._read(stop_at)
        seconds = time.monotonic() - started
        if answer is None:
            timed_out = self.alive
            self.kill()
            return Invocation(
                TIMEOUT if timed_out else CRASHED,
                error=f"Task timed out after {seconds:.2f} seconds" if timed_out else "crashed",
                seconds=seconds,
                cold=cold,
                pid=self.pid,
            )
        return Invocation(
            ERROR if "error" in answer else OK,
            result=answer.get("result"),
            error=answer.get("error"),
            seconds=seconds,
            cold=cold,
            dynamodb_calls=int(answer.get("dynamodb_calls", 0)),
            pid=self.pid,
        )

    def kill(self) -> None:
        """SIGKILL the worker's process group and reap it."""
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None:
                stream.close()

    def _send(self, message: Mapping[str, Any]) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(message).encode() + b"\n")
        self.process.stdin.flush()

    def _read(self, stop_at: float) -> dict[str, Any] | None:
        """The worker's next answer line, or None if none came by `stop_at` (monotonic)."""
        assert self.process.stdout is not None
        fd = self.process.stdout.fileno()
        while b"\n" not in self._buffer:
            remaining = stop_at - time.monotonic()
            if remaining <= 0:
                return None
            readable, _, _ = select.select([fd], [], [], remaining)
            if not readable:
                continue
            chunk = os.read(fd, 1 << 20)
            if not chunk:  # the worker exited
                return None
            self._buffer += chunk
        line, _, rest = bytes(self._buffer).partition(b"\n")
        self._buffer = bytearray(rest)
        return json.loads(line)


class LambdaFunction:
    """A function's containers: an idle warm one serves an invocation, else a new one starts."""

    def __init__(self, config: FunctionConfig, clock: VirtualClock | None = None) -> None:
        self.config = config
        self.clock = clock or VirtualClock()
        self.containers_started = 0
        self._idle: list[Container] = []
        self._busy: set[Container] = set()
        self._lock = threading.Lock()

    def invoke(self, event: Any) -> Invocation:
        """One invocation in a warm container if one is idle, else in a new one."""
        with self._lock:
            container = self._idle.pop() if self._idle else None
        if container is None:
            container = Container(self.config, self.clock)
            with self._lock:
                self.containers_started += 1
        with self._lock:
            self._busy.add(container)
        try:
            return container.invoke(event)
        finally:
            with self._lock:
                self._busy.discard(container)
                if container.alive:
                    self._idle.append(container)

    def close(self) -> None:
        """Stop every container."""
        with self._lock:
            containers = [*self._idle, *self._busy]
            self._idle.clear()
        for container in containers:
            container.kill()

    def __enter__(self) -> LambdaFunction:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclasses.dataclass
class QueuedMessage:
    """A message in the queue: its body, receive count and when it is visible."""

    message_id: str
    body: str
    sent_at: float
    visible_at: float
    receive_count: int = 0
    first_received_at: float | None = None


class SqsQueue:
    """A standard queue with a redrive policy: invisible for `visibility_timeout` after each
    receive; a message received `max_receive_count` times goes to `dead_letters` instead of a
    further receive.

    Sources: SQS Developer Guide, "Amazon SQS visibility timeout" (a received message stays in
    the queue, hidden for the visibility timeout, until it is deleted) and "Using dead-letter
    queues" ("when the ReceiveCount for a message exceeds the maxReceiveCount for a queue,
    Amazon SQS moves the message to a dead-letter queue"). Lambda returns a failed batch to the
    queue by not deleting it: "After your queue's visibility timeout runs out, the message will
    again reappear in the queue" (Lambda, "Handling errors for an SQS event source").
    """

    def __init__(
        self, clock: VirtualClock, *, visibility_timeout: float, max_receive_count: int
    ) -> None:
        self.clock = clock
        self.visibility_timeout = visibility_timeout
        self.max_receive_count = max_receive_count
        self.messages: dict[str, QueuedMessage] = {}
        self.dead_letters: list[QueuedMessage] = []
        self.deleted: list[QueuedMessage] = []
        self._lock = threading.Lock()

    def send(
        self,
        body: str | Mapping[str, Any],
        *,
        message_id: str | None = None,
        at: float | None = None,
    ) -> str:
        """Enqueue a body (a dict is sent as JSON), visible from `at` (default: now)."""
        text = body if isinstance(body, str) else json.dumps(body)
        now = self.clock.monotonic() if at is None else at
        message = QueuedMessage(message_id or str(uuid.uuid4()), text, now, now)
        with self._lock:
            self.messages[message.message_id] = message
        return message.message_id

    def visible(self) -> list[QueuedMessage]:
        """Messages a receive would see now, oldest visible first."""
        now = self.clock.monotonic()
        with self._lock:
            shown = [m for m in self.messages.values() if m.visible_at <= now]
        return sorted(shown, key=lambda m: m.visible_at)

    def next_visible_at(self) -> float | None:
        """When the next message in flight becomes visible (None: nothing in flight)."""
        now = self.clock.monotonic()
        with self._lock:
            times = [m.visible_at for m in self.messages.values() if m.visible_at > now]
        return min(times) if times else None

    def receive(self, limit: int) -> list[QueuedMessage]:
        """Up to `limit` visible messages, now in flight; moves exhausted ones to dead_letters."""
        now = self.clock.monotonic()
        taken: list[QueuedMessage] = []
        with self._lock:
            for message in sorted(self.messages.values(), key=lambda m: m.visible_at):
                if len(taken) >= limit or message.visible_at > now:
                    continue
                if message.receive_count >= self.max_receive_count:
                    self.dead_letters.append(self.messages.pop(message.message_id))
                    continue
                message.receive_count += 1
                message.first_received_at = message.first_received_at or now
                message.visible_at = now + self.visibility_timeout
                taken.append(dataclasses.replace(message))
        return taken

    def delete(self, message_ids: Iterable[str]) -> None:
        """Delete messages (acknowledged by the poller)."""
        with self._lock:
            for message_id in message_ids:
                message = self.messages.pop(message_id, None)
                if message is not None:
                    self.deleted.append(message)

    def __len__(self) -> int:
        with self._lock:
            return len(self.messages)


def sqs_record(message: QueuedMessage, *, queue_arn: str = QUEUE_ARN) -> dict[str, Any]:
    """One record of Lambda's SQS event for a received message."""
    first = message.first_received_at or message.sent_at
    return {
        "messageId": message.message_id,
        "receiptHandle": f"AQEB{message.message_id}-{message.receive_count}",
        "body": message.body,
        "attributes": {
            "ApproximateReceiveCount": str(message.receive_count),
            "SentTimestamp": str(int(message.sent_at * 1000)),
            "SenderId": "AIDAIENQZJOLO23YVJ4VO",
            "ApproximateFirstReceiveTimestamp": str(int(first * 1000)),
        },
        "messageAttributes": {},
        "md5OfBody": hashlib.md5(message.body.encode()).hexdigest(),  # noqa: S324 - SQS's own
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": queue_arn.split(":")[3],
    }


def failed_message_ids(invocation: Invocation, batch: Sequence[str]) -> set[str]:
    """What goes back to the queue after an invocation with ReportBatchItemFailures: the whole
    batch after an error or a timeout ("If your function throws an exception, the entire batch
    is considered a complete failure", Lambda's "Handling errors for an SQS event source"), or
    an answer naming an item not in the batch (same page; support.sqs_poller checks the
    answer), else the items it names."""
    from support.sqs_poller import InvalidBatchResponse, failed_item_ids  # noqa: PLC0415

    if invocation.outcome != OK:
        return set(batch)
    try:
        return failed_item_ids(invocation.result, batch)
    except InvalidBatchResponse:
        return set(batch)


@dataclasses.dataclass(frozen=True)
class BatchRun:
    """One poll: when (virtual), how many records, the invocation, how many went back."""

    started_at: float
    records: int
    invocation: Invocation
    returned: int


@dataclasses.dataclass(frozen=True)
class Arrival:
    """A message sent to the queue at virtual time `at` (clock.monotonic())."""

    at: float
    body: str | Mapping[str, Any]


class EventSourceMapping:
    """Lambda's SQS poller: waits the batching window from the first visible message (or until
    the batch is full), hands up to `batch_size` messages to at most `maximum_concurrency`
    concurrent invocations, deletes what the function acknowledged.

    Sources: Lambda, "Lambda event source mappings", batching behavior (an invocation starts
    when the batching window ends or the batch size is reached, whichever comes first; the 6 MB
    payload limit is not modelled: alarm bodies are ~2 KB, 1,000 of them stay below it) and
    "Configuring maximum concurrency for Amazon SQS event sources" (at most that many
    concurrent invocations). Lambda's backoff after function errors (it scales the poller's
    concurrency down) is not modelled: the harsher reading, every visible batch is retried.
    """

    def __init__(
        self,
        queue: SqsQueue,
        function: LambdaFunction,
        *,
        batch_size: int,
        batching_window: float,
        maximum_concurrency: int,
    ) -> None:
        self.queue = queue
        self.function = function
        self.clock = queue.clock
        self.batch_size = batch_size
        self.batching_window = batching_window
        self.maximum_concurrency = maximum_concurrency
        self.runs: list[BatchRun] = []
        self._lock = threading.Lock()

    def _invoke(self, messages: list[QueuedMessage]) -> None:
        started = self.clock.monotonic()
        ids = [m.message_id for m in messages]
        invocation = self.function.invoke({"Records": [sqs_record(m) for m in messages]})
        failed = failed_message_ids(invocation, ids)
        self.queue.delete(i for i in ids if i not in failed)
        with self._lock:
            self.runs.append(BatchRun(started, len(ids), invocation, len(failed)))

    def _ready_batch(self) -> bool:
        visible = self.queue.visible()
        if not visible:
            return False
        full = len(visible) >= self.batch_size
        return full or visible[0].visible_at + self.batching_window <= self.clock.monotonic()

    def _next_event(self, arrivals: list[Arrival]) -> float | None:
        times = [a.at for a in arrivals[:1]]
        visible = self.queue.visible()
        if visible:
            times.append(visible[0].visible_at + self.batching_window)
        upcoming = self.queue.next_visible_at()
        if upcoming is not None:
            times.append(upcoming)
        return min(times) if times else None

    def run(self, arrivals: Iterable[Arrival] = (), *, max_seconds: float = 3600.0) -> None:
        """Poll until the queue is empty and every arrival was sent and handled."""
        pending = sorted(arrivals, key=lambda a: a.at)
        give_up = time.monotonic() + max_seconds
        in_flight: set[Future[None]] = set()
        with ThreadPoolExecutor(self.maximum_concurrency) as pool:
            while True:
                if time.monotonic() > give_up:
                    raise TimeoutError(f"the queue did not drain within {max_seconds:g} s")
                for done in [f for f in in_flight if f.done()]:
                    in_flight.discard(done)
                    done.result()
                if len(in_flight) < self.maximum_concurrency and self._ready_batch():
                    batch = self.queue.receive(self.batch_size)
                    if batch:
                        in_flight.add(pool.submit(self._invoke, batch))
                    continue
                # After the receive: a message arriving just as a window closes waits for the
                # next batch (a storm sent in batches one window apart gives one batch each).
                if pending and pending[0].at <= self.clock.monotonic():
                    while pending and pending[0].at <= self.clock.monotonic():
                        arrival = pending.pop(0)
                        self.queue.send(arrival.body, at=arrival.at)
                    continue
                if not in_flight and not pending and not len(self.queue):
                    return
                if len(in_flight) >= self.maximum_concurrency:
                    # Only an invocation ending (or a message arriving) changes anything now.
                    upcoming = pending[0].at if pending else None
                else:
                    upcoming = self._next_event(pending)
                if not in_flight:
                    if upcoming is not None:
                        self.clock.advance(upcoming - self.clock.monotonic())
                    continue
                timeout = 1.0 if upcoming is None else upcoming - self.clock.monotonic()
                wait(in_flight, timeout=max(0.001, min(1.0, timeout)), return_when=FIRST_COMPLETED)


# --- inside the worker process ------------------------------------------------------------


def dynamodb_latency_hook(
    seconds: float, *, sleep: Callable[[float], None] = time.sleep, calls: list[str] | None = None
) -> Callable[..., None]:
    """A botocore `before-send` handler that waits `seconds` (and notes the operation)."""

    def delay(*, request: Any = None, event_name: str = "", **_: Any) -> None:
        if calls is not None:
            calls.append(event_name.rsplit(".", 1)[-1])
        if seconds > 0:
            sleep(seconds)

    return delay


def install_dynamodb_latency(
    events: Any,
    seconds: float,
    *,
    sleep: Callable[[float], None] = time.sleep,
) -> list[str]:
    """Delay every DynamoDB request of clients made afterwards from `events`' session; the
    returned list grows by one operation name per request sent (retries included)."""
    calls: list[str] = []
    events.register(
        "before-send.dynamodb", dynamodb_latency_hook(seconds, sleep=sleep, calls=calls)
    )
    return calls


class _Context:
    """The Lambda context object the handler sees."""

    def __init__(self, deadline: float, name: str, timeout: float) -> None:
        self._deadline = deadline
        self.function_name = name
        self.function_version = "$LATEST"
        self.memory_limit_in_mb = "128"
        self.invoked_function_arn = f"arn:aws:lambda:ap-northeast-2:123456789012:function:{name}"
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{name}"
        self.log_stream_name = "2024/05/14/[$LATEST]0123456789abcdef"
        self.timeout = timeout

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def _worker() -> int:
    """The worker's loop: init (patch the wall clock, hook DynamoDB, import the handler), then
    one JSON line in, one JSON line out per invocation."""
    import importlib  # noqa: PLC0415
    import logging  # noqa: PLC0415

    answers = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # the handler's own prints and logs go to the function's log (stderr)
    config = json.loads(sys.stdin.readline())
    offset = [float(config.get("time_offset", 0.0))]
    real_time = time.time
    # Before the handler is imported, so `clock=time.time` defaults bind the shifted clock.
    time.time = lambda: real_time() + offset[0]
    logging.basicConfig(
        stream=sys.stderr, level=logging.INFO, format="%(levelname)s %(name)s %(message)s"
    )
    calls: list[str] = []
    try:
        import boto3  # noqa: PLC0415 - present on Lambda's Python runtime

        boto3.setup_default_session()
        calls = install_dynamodb_latency(
            boto3.DEFAULT_SESSION.events, float(config.get("dynamodb_latency", 0.0))
        )
    except ImportError:
        pass
    sys.path.insert(0, config["code_dir"])
    module_name, _, function_name = config["handler"].rpartition(".")
    try:
        function = getattr(importlib.import_module(module_name), function_name)
    except Exception as exc:  # Lambda reports Runtime.ImportModuleError and never invokes
        answers.write(json.dumps({"init_error": f"{type(exc).__name__}: {exc}"}) + "\n")
        return 1
    answers.write(json.dumps({"ready": True}) + "\n")
    name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", DEFAULT_FUNCTION_NAME)
    timeout = float(os.environ.get("AWS_LAMBDA_FUNCTION_TIMEOUT", "30"))
    for line in sys.stdin:
        request = json.loads(line)
        offset[0] = float(request.get("time_offset", 0.0))
        before = len(calls)
        context = _Context(float(request["deadline"]), name, timeout)
        try:
            answer: dict[str, Any] = {"result": function(request["event"], context)}
        except Exception as exc:  # the runtime reports it; the container stays warm
            logging.getLogger().exception("invocation failed")
            answer = {"error": f"{type(exc).__name__}: {exc}"[:500]}
        answer["dynamodb_calls"] = len(calls) - before
        answers.write(json.dumps(answer, default=str) + "\n")
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] != ["worker"]:
        sys.exit("usage: lambda_runtime.py worker (started by support.lambda_runtime.Container)")
    sys.exit(_worker())
