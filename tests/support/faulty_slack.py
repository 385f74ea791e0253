"""A fake Slack webhook that injects faults at seeded random rates, and the soak that counts losses.

`FaultySlack` is a stdlib http.server on 127.0.0.1:<free port> (a context manager: always
stopped). Each POST draws one outcome from a seeded RNG: a clean 200 "ok", or one of the faults

- ``http_500`` / ``http_502`` / ``http_503``: a transient server error, nothing posted;
- ``rate_limited``: 429 with ``Retry-After``, nothing posted;
- ``slow``: Slack posts the message but answers only after ``slow_seconds`` (set it past the
  client timeout): the client sees a timeout although the alarm reached the channel, which is
  exactly how duplicates happen in production;
- ``reset``: the body is read, then the connection is reset (RST) without an answer, nothing posted;
- ``invalid_payload``: 400 ``invalid_payload``, a permanent error, nothing posted (with
  ``permanent_invalid_payload``, every later request for that alarm is rejected too, as real
  Slack rejects the same payload every time).

Content Slack refuses (support.slack_rules: a block over its limit, more than 50 blocks, the
block-text total) is answered 400 with Slack's error string every time, before any fault is
drawn; such a request is recorded as ``refused_<error>``.

Every request is attributed to an alarm by a key found in its JSON body (``soak-00042`` by
default), so after a run the fake can say whether a given alarm was delivered (a 200 or a
``slow`` post) and how many times. A body that is not JSON gets a real 400 and is counted apart.

`run_soak` drives events through a Lambda-style handler one invocation per event: an invocation
that raises is handed to Lambda's retries and failure queue, so an alarm is *silently lost* only
when it was neither delivered nor raised.
"""

from __future__ import annotations

import contextlib
import json
import random
import re
import socket
import struct
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

from support.loopback_server import LoopbackServer
from support.slack_rules import message_refusal

OK = "ok"
NOT_JSON = "not_json"
# Outcomes after which Slack has posted the message to the channel.
POSTED = frozenset({OK, "slow"})


@dataclass(frozen=True)
class FaultRates:
    """Probability of each fault per request; the rest of the probability mass answers 200 "ok"."""

    http_500: float = 0.0
    http_502: float = 0.0
    http_503: float = 0.0
    rate_limited: float = 0.0
    slow: float = 0.0
    reset: float = 0.0
    invalid_payload: float = 0.0

    def __post_init__(self) -> None:
        for item in fields(self):
            value = getattr(self, item.name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"fault rate {item.name}={value} is not within [0, 1]")
        if self.total() > 1.0:
            raise ValueError(f"fault rates add up to {self.total():.3f} > 1")

    @classmethod
    def kinds(cls) -> tuple[str, ...]:
        """The fault names, in declaration order."""
        return tuple(item.name for item in fields(cls))

    def items(self) -> list[tuple[str, float]]:
        """(fault, rate) pairs with a rate above zero."""
        return [(kind, getattr(self, kind)) for kind in self.kinds() if getattr(self, kind) > 0]

    def total(self) -> float:
        """The probability that a request gets any fault."""
        return sum(getattr(self, kind) for kind in self.kinds())


NO_FAULTS = FaultRates()


@dataclass(frozen=True)
class Attempt:
    """One request the fake received: which alarm it carried and what the fake did with it."""

    key: str | None
    outcome: str

    @property
    def posted(self) -> bool:
        """True when Slack posted this request's message to the channel."""
        return self.outcome in POSTED


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: FaultySlack


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    error_content_type = "text/plain"

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output clean: the fake records requests itself."""

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        fake = self.server.fake
        try:
            json.loads(body)
        except ValueError:
            fake._record(Attempt(fake.key_of(body), NOT_JSON))
            self._answer(400, "invalid_payload")
            return
        key = fake.key_of(body)
        refusal = message_refusal(json.loads(body))
        if refusal is not None:
            # Slack refuses such content every time, whatever else goes on (slack_rules).
            fake._record(Attempt(key, f"refused_{refusal.error}"))
            self._answer(400, refusal.error)
            return
        outcome = fake._draw(key)
        fake._record(Attempt(key, outcome))
        if outcome == OK:
            self._answer(200, "ok")
        elif outcome.startswith("http_"):
            self._answer(int(outcome.removeprefix("http_")), "upstream error")
        elif outcome == "rate_limited":
            self._answer(429, "rate_limited", {"Retry-After": fake.retry_after})
        elif outcome == "invalid_payload":
            self._answer(400, "invalid_payload")
        elif outcome == "slow":
            # Posted already; the answer comes too late. stop() cuts the wait short.
            fake._stopping.wait(fake.slow_seconds)
            with contextlib.suppress(OSError):
                self._answer(200, "ok")
        elif outcome == "reset":
            # SO_LINGER with a zero timeout makes close() send RST instead of FIN.
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
        else:  # pragma: no cover -- _draw only returns known outcomes
            raise AssertionError(outcome)

    def _answer(self, status: int, text: str, headers: Mapping[str, str] | None = None) -> None:
        data = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Connection", "close")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)
        self.close_connection = True


class FaultySlack(LoopbackServer):
    """Fake Slack incoming webhook with seeded random faults; records every request per alarm."""

    DEFAULT_KEY_PATTERN: ClassVar[str] = r"soak-\d{5}"

    def __init__(
        self,
        rates: FaultRates = NO_FAULTS,
        *,
        seed: int = 0,
        slow_seconds: float = 1.0,
        retry_after: str = "1",
        key_pattern: str = DEFAULT_KEY_PATTERN,
        permanent_invalid_payload: bool = False,
    ) -> None:
        super().__init__(name="FaultySlack", strict_start=True)
        self.rates = rates
        # Real Slack rejects the same payload every time: with this, once an alarm drew
        # invalid_payload every later request for it gets invalid_payload too.
        self.permanent_invalid_payload = permanent_invalid_payload
        self._rejected: set[str] = set()
        self.slow_seconds = slow_seconds
        self.retry_after = retry_after
        self._key_re = re.compile(key_pattern)
        self._rng = random.Random(seed)  # noqa: S311 -- reproducible faults, not secrets
        self._lock = threading.Lock()
        self._attempts: list[Attempt] = []
        self._stopping = threading.Event()

    # -- lifecycle -------------------------------------------------------------------------
    def _build_server(self, address: tuple[str, int]) -> _Server:
        self._stopping.clear()
        server = _Server(address, _Handler)
        server.fake = self
        return server

    def _on_stop(self) -> None:
        """Wake any slow answer so that stop() does not wait for it."""
        self._stopping.set()

    @property
    def url(self) -> str:
        """The webhook URL to give the handler."""
        host, port = self._running().server_address[:2]
        return f"http://{host}:{port}/services/T00000000/B00000000/soak"

    # -- request side (called from server threads) -----------------------------------------
    def key_of(self, body: bytes) -> str | None:
        """The one alarm key in a request body, or None when there is none or several."""
        keys = set(self._key_re.findall(body.decode("utf-8", "replace")))
        return keys.pop() if len(keys) == 1 else None

    def _draw(self, key: str | None = None) -> str:
        with self._lock:
            roll = self._rng.random()
            if key is not None and key in self._rejected:
                return "invalid_payload"
        outcome = OK
        for kind, rate in self.rates.items():
            if roll < rate:
                outcome = kind
                break
            roll -= rate
        if outcome == "invalid_payload" and self.permanent_invalid_payload and key is not None:
            with self._lock:
                self._rejected.add(key)
        return outcome

    def _record(self, attempt: Attempt) -> None:
        with self._lock:
            self._attempts.append(attempt)

    # -- what happened ---------------------------------------------------------------------
    @property
    def attempts(self) -> list[Attempt]:
        """Every request received so far, in arrival order."""
        with self._lock:
            return list(self._attempts)

    def attempts_for(self, key: str) -> list[str]:
        """The outcomes of the requests that carried `key`, in arrival order."""
        return [attempt.outcome for attempt in self.attempts if attempt.key == key]

    def delivery_counts(self) -> Counter[str]:
        """How many times each alarm key reached the channel (200, or a slow answer)."""
        return Counter(attempt.key for attempt in self.attempts if attempt.posted and attempt.key)

    def delivered(self, key: str) -> int:
        """How many times the alarm `key` reached the channel."""
        return self.delivery_counts()[key]

    def outcome_counts(self) -> Counter[str]:
        """Requests per outcome (``ok``, each fault kind, ``not_json``)."""
        return Counter(attempt.outcome for attempt in self.attempts)

    def unattributed(self) -> int:
        """Requests whose body carried no alarm key, or more than one."""
        return sum(1 for attempt in self.attempts if attempt.key is None)


# -- the soak ------------------------------------------------------------------------------
@dataclass(frozen=True)
class LambdaContext:
    """The parts of the Lambda context object a handler may read."""

    function_name: str = "alarm-to-slack-soak"
    memory_limit_in_mb: int = 128
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:alarm-to-slack-soak"
    aws_request_id: str = "00000000-0000-0000-0000-000000000000"
    log_group_name: str = "/aws/lambda/alarm-to-slack-soak"
    log_stream_name: str = "soak"
    timeout_seconds: float = 30.0
    started: float = field(default_factory=time.monotonic)

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left before the (simulated) Lambda timeout."""
        return max(0, int((self.started + self.timeout_seconds - time.monotonic()) * 1000))


@dataclass(frozen=True)
class SoakResult:
    """What happened to every alarm of a soak: delivered, raised, or silently lost."""

    keys: tuple[str, ...]
    raised_keys: frozenset[str]  # raised on the first invocation
    deliveries: Counter[str]
    outcomes: Counter[str]
    requests: int
    unattributed: int
    acknowledged_keys: frozenset[str]
    seconds: float
    # Still raising after Lambda's asynchronous retries: what the on-failure queue keeps.
    # Equal to raised_keys when the soak simulates no retries.
    failure_queue_keys: frozenset[str] = frozenset()
    lambda_retries: int = 0

    @property
    def events(self) -> int:
        """Invocations made (one alarm each)."""
        return len(self.keys)

    @property
    def delivered(self) -> int:
        """Alarms that reached the channel at least once."""
        return sum(1 for key in self.keys if self.deliveries[key] > 0)

    @property
    def delivered_more_than_once(self) -> int:
        """Alarms that reached the channel more than once."""
        return sum(1 for key in self.keys if self.deliveries[key] > 1)

    @property
    def raised(self) -> int:
        """Invocations that raised: Lambda retries them, then the failure queue keeps them."""
        return len(self.raised_keys)

    @property
    def lost_keys(self) -> list[str]:
        """Alarms neither delivered nor raised: gone without a trace."""
        kept = self.failure_queue_keys
        return [k for k in self.keys if self.deliveries[k] == 0 and k not in kept]

    @property
    def delivered_by_lambda_retry(self) -> int:
        """Alarms that raised at first and went through on one of Lambda's retries."""
        return len(self.raised_keys - self.failure_queue_keys)

    @property
    def in_failure_queue(self) -> int:
        """Alarms whose every invocation raised: the on-failure destination keeps them."""
        return len(self.failure_queue_keys)

    @property
    def silently_lost(self) -> int:
        """How many alarms were silently lost (the soak passes only with zero)."""
        return len(self.lost_keys)

    @property
    def faults(self) -> int:
        """Requests that got an injected fault."""
        return sum(n for outcome, n in self.outcomes.items() if outcome not in (OK, NOT_JSON))


def soak_events(count: int, *, seed: int = 0) -> list[tuple[str, dict[str, Any]]]:
    """`count` alarm events with unique keys, in the shapes Lambda receives them.

    Mostly SNS alarm notifications (ALARM and OK), plus direct alarm invocations, EventBridge
    events and plain-text SNS messages, each carrying its key in the alarm name or text.
    """
    rng = random.Random(seed)  # noqa: S311 -- reproducible events, not secrets
    shapes: list[tuple[Callable[[str, str], dict[str, Any]], int]] = [
        (_sns_alarm_event, 6),
        (_direct_alarm_event, 2),
        (_eventbridge_alarm_event, 1),
        (_sns_text_event, 1),
    ]
    builders = [builder for builder, weight in shapes for _ in range(weight)]
    events = []
    for index in range(count):
        key = f"soak-{index:05d}"
        state = "ALARM" if rng.random() < 0.7 else "OK"
        events.append((key, rng.choice(builders)(key, state)))
    return events


_ACCOUNT = "123456789012"
_REGION = "ap-northeast-2"
_TIME = "2026-11-25T03:04:05.678+0000"


def _alarm_arn(name: str) -> str:
    return f"arn:aws:cloudwatch:{_REGION}:{_ACCOUNT}:alarm:{name}"


def _sns_record(message: str, subject: str | None) -> dict[str, Any]:
    return {
        "Records": [
            {
                "EventSource": "aws:sns",
                "EventVersion": "1.0",
                "EventSubscriptionArn": f"arn:aws:sns:{_REGION}:{_ACCOUNT}:alarms:0000",
                "Sns": {
                    "Type": "Notification",
                    "MessageId": "95df01b4-ee98-5cb9-9903-4c221d41eb5e",
                    "TopicArn": f"arn:aws:sns:{_REGION}:{_ACCOUNT}:alarms",
                    "Subject": subject,
                    "Message": message,
                    "Timestamp": "2026-11-25T03:04:06.000Z",
                    "SignatureVersion": "1",
                    "Signature": "EXAMPLE",
                    "SigningCertUrl": "https://sns.ap-northeast-2.amazonaws.com/cert.pem",
                    "UnsubscribeUrl": "https://sns.ap-northeast-2.amazonaws.com/?unsubscribe",
                    "MessageAttributes": {},
                },
            }
        ]
    }


def _sns_alarm_event(key: str, state: str) -> dict[str, Any]:
    old = "OK" if state == "ALARM" else "ALARM"
    message = {
        "AlarmName": key,
        "AlarmDescription": f"CPU of {key} is high",
        "AWSAccountId": _ACCOUNT,
        "AlarmConfigurationUpdatedTimestamp": "2026-11-25T02:00:00.000+0000",
        "NewStateValue": state,
        "NewStateReason": "Threshold Crossed: 1 datapoint [93.5 (25/11/26 03:03:00)] was"
        " greater than or equal to the threshold (80.0).",
        "StateChangeTime": _TIME,
        "Region": "Asia Pacific (Seoul)",
        "AlarmArn": _alarm_arn(key),
        "OldStateValue": old,
        "OKActions": [],
        "AlarmActions": [f"arn:aws:sns:{_REGION}:{_ACCOUNT}:alarms"],
        "InsufficientDataActions": [],
        "Trigger": {
            "MetricName": "CPUUtilization",
            "Namespace": "AWS/EC2",
            "StatisticType": "Statistic",
            "Statistic": "AVERAGE",
            "Unit": None,
            "Dimensions": [{"value": "i-0123456789abcdef0", "name": "InstanceId"}],
            "Period": 60,
            "EvaluationPeriods": 1,
            "DatapointsToAlarm": 1,
            "ComparisonOperator": "GreaterThanOrEqualToThreshold",
            "Threshold": 80.0,
            "TreatMissingData": "missing",
            "EvaluateLowSampleCountPercentile": "",
        },
    }
    return _sns_record(json.dumps(message), f'{state}: "{key}" in Asia Pacific (Seoul)')


def _alarm_data(key: str, state: str) -> dict[str, Any]:
    old = "OK" if state == "ALARM" else "ALARM"
    return {
        "alarmName": key,
        "state": {
            "value": state,
            "reason": "Threshold Crossed: 1 out of the last 1 datapoints was greater than or"
            " equal to the threshold (80.0).",
            "timestamp": "2026-11-25T03:04:05.678+0000",
        },
        "previousState": {
            "value": old,
            "reason": "Threshold Crossed",
            "timestamp": "2026-11-25T02:04:05.678+0000",
        },
        "configuration": {
            "description": f"CPU of {key} is high",
            "metrics": [
                {
                    "id": "m1",
                    "metricStat": {
                        "metric": {
                            "namespace": "AWS/EC2",
                            "name": "CPUUtilization",
                            "dimensions": {"InstanceId": "i-0123456789abcdef0"},
                        },
                        "period": 60,
                        "stat": "Average",
                    },
                    "returnData": True,
                }
            ],
        },
    }


def _direct_alarm_event(key: str, state: str) -> dict[str, Any]:
    return {
        "source": "aws.cloudwatch",
        "alarmArn": _alarm_arn(key),
        "accountId": _ACCOUNT,
        "time": "2026-11-25T03:04:05.678+0000",
        "region": _REGION,
        "alarmData": _alarm_data(key, state),
    }


def _eventbridge_alarm_event(key: str, state: str) -> dict[str, Any]:
    return {
        "version": "0",
        "id": "c4c1c1c9-6542-e61b-6ef0-8c4d36933a92",
        "detail-type": "CloudWatch Alarm State Change",
        "source": "aws.cloudwatch",
        "account": _ACCOUNT,
        "time": "2026-11-25T03:04:05Z",
        "region": _REGION,
        "resources": [_alarm_arn(key)],
        "detail": _alarm_data(key, state),
    }


def _sns_text_event(key: str, state: str) -> dict[str, Any]:
    return _sns_record(f"{key}: deploy finished with state {state}", None)


def _succeeds(invoke: Callable[[dict[str, Any]], object], event: dict[str, Any]) -> bool:
    try:
        invoke(event)
    except Exception:  # any exception hands the event to Lambda's retries
        return False
    return True


def run_soak(
    invoke: Callable[[dict[str, Any]], object],
    events: Sequence[tuple[str, dict[str, Any]]],
    fake: FaultySlack,
    *,
    lambda_retries: int = 0,
) -> SoakResult:
    """Invoke once per event, the way Lambda does; record which invocations raised.

    With `lambda_retries`, an event whose invocation raised is invoked again up to that many
    times (Lambda's asynchronous retries; the module's default is 2), without the real delays;
    the events still raising at the end are the ones the on-failure queue would keep.
    """
    started = time.perf_counter()
    raised = {key for key, event in events if not _succeeds(invoke, event)}
    failing = {key: event for key, event in events if key in raised}
    for _ in range(lambda_retries):
        for key, event in list(failing.items()):
            if _succeeds(invoke, event):
                del failing[key]
    seconds = time.perf_counter() - started
    attempts = fake.attempts
    # A key whose last request got a prompt 200 is one the client was told was delivered.
    last_outcome: dict[str, str] = {}
    for attempt in attempts:
        if attempt.key is not None:
            last_outcome[attempt.key] = attempt.outcome
    return SoakResult(
        keys=tuple(key for key, _ in events),
        raised_keys=frozenset(raised),
        deliveries=fake.delivery_counts(),
        outcomes=fake.outcome_counts(),
        requests=len(attempts),
        unattributed=fake.unattributed(),
        acknowledged_keys=frozenset(k for k, outcome in last_outcome.items() if outcome == OK),
        seconds=seconds,
        failure_queue_keys=frozenset(failing),
        lambda_retries=lambda_retries,
    )
