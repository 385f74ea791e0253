"""App-mode batches against the clock: state I/O proportional to messages, every loop bounded
by the deadline, and a process killed mid-batch whose redelivery shows each alarm once.

Deterministic: a shared fake clock moves only when the code sleeps (pacing, Retry-After) or
calls DynamoDB (8 ms a call, the latency the review measured); "killed" means the clock
reached the kill time, as Lambda's timeout would, and the invocation stops dead there.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

import handler
from handler import handle_event
from settings import load_settings
from slack import RetryPolicy
from support.app_mode import SharedClock
from support.costed_state import CostedState
from support.fake_slack_api import DEFAULT_TOKEN, FakeSlackApi
from support.storm import (
    START,
    alarm_message,
    sns_envelope,
    sqs_event,
    storm_event,
    storm_messages,
)

CHANNEL = "C0ALERTS01"
STATE_CALL_SECONDS = 0.008
LAMBDA_TIMEOUT_SECONDS = 30.0  # variables.tf lambda_timeout default
VISIBILITY_TIMEOUT_SECONDS = 200.0  # inbox.tf: 6 x lambda_timeout + group_wait_seconds
POLICY = RetryPolicy(max_attempts=3, request_timeout=2.0, base_delay=0.1, max_delay=0.2)


class Killed(BaseException):
    """Lambda stopped the process (its timeout): no except clause in the handler sees it."""


class Lambda:
    """One function container after another on the same table and Slack workspace: invoke()
    runs the handler until it returns or the clock reaches `kill_at` (or DynamoDB call number
    `kill_at_call`), whichever is first."""

    def __init__(self, fake: FakeSlackApi, clock: SharedClock) -> None:
        self.fake, self.clock = fake, clock
        self.store = CostedState(clock=clock, on_call=self._state_call)
        self.kill_at = float("inf")
        self.kill_at_call: int | None = None
        self.state_calls = 0
        self.settings = load_settings(
            {
                "SLACK_BOT_TOKEN_SSM_PARAMETER": "/alerts/slack-bot-token",
                "SLACK_CHANNEL_ID": CHANNEL,
                "SLACK_API_BASE_URL": fake.base_url,
            }
        )

    def _tick(self, seconds: float) -> None:
        if self.clock.now + seconds >= self.kill_at:
            self.clock.now = self.kill_at
            raise Killed
        self.clock.now += seconds

    def sleep(self, seconds: float) -> None:
        self._tick(max(0.0, seconds))
        self.clock.sleeps.append(seconds)

    def _state_call(self) -> None:
        self.state_calls += 1
        if self.kill_at_call is not None and self.state_calls >= self.kill_at_call:
            raise Killed
        self._tick(STATE_CALL_SECONDS)

    def invoke(
        self, event: dict[str, Any], *, kill_after: float | None = None
    ) -> dict[str, object]:
        handler.reset_caches()  # a new container each time (a killed one is gone)
        start = self.clock.now
        self.kill_at = start + min(kill_after or LAMBDA_TIMEOUT_SECONDS, LAMBDA_TIMEOUT_SECONDS)
        remaining_ms = int(LAMBDA_TIMEOUT_SECONDS * 1000)

        class Context:
            @staticmethod
            def get_remaining_time_in_millis() -> int:
                return remaining_ms

        self.store.on_call = self._state_call
        store = self.store
        try:
            return handle_event(
                event, Context(), settings=self.settings, state=store, bot_token=DEFAULT_TOKEN,
                policy=POLICY, sleep=self.sleep, clock=self.clock, wall_clock=self.clock,
            )  # fmt: skip
        finally:
            self.kill_at = float("inf")
            self.kill_at_call = None


@pytest.fixture
def clock() -> SharedClock:
    return SharedClock()


@pytest.fixture
def fake(clock: SharedClock) -> Iterator[FakeSlackApi]:
    with FakeSlackApi(channels={CHANNEL: "alerts"}, clock=clock) as api:
        yield api


@pytest.fixture
def function(fake: FakeSlackApi, clock: SharedClock) -> Lambda:
    return Lambda(fake, clock)


def top_level_names(fake: FakeSlackApi, names: list[str]) -> Counter[str]:
    """How often each alarm is named in the channel's top-level messages (not threads)."""
    shown: Counter[str] = Counter()
    for message in fake.messages(CHANNEL):
        text = json.dumps(message.content, ensure_ascii=False)
        shown.update(name for name in names if name in text)
    return shown


def channel_names(fake: FakeSlackApi, names: list[str]) -> Counter[str]:
    """How often each alarm is named in the channel, thread replies included."""
    shown: Counter[str] = Counter()
    for message in fake.messages(CHANNEL):
        for one in (message, *message.replies):
            text = json.dumps(one.content, ensure_ascii=False)
            shown.update(name for name in names if name in text)
    return shown


def names_of(count: int) -> list[str]:
    return [m["AlarmName"] for m in storm_messages(count)]


def test_a_1000_record_storm_finishes_inside_the_default_timeout(
    function: Lambda, fake: FakeSlackApi
) -> None:
    result = function.invoke(storm_event(1000))  # killed at 30 s if it were slower
    assert result == {"batchItemFailures": []}
    names = names_of(1000)
    assert top_level_names(fake, names) == Counter(dict.fromkeys(names, 1))
    parts = len(fake.messages(CHANNEL))
    # State calls follow the messages: a few per digest part, not three per record.
    assert function.state_calls <= 10 + 10 + 7 * parts, function.state_calls


def test_a_batch_killed_halfway_is_redelivered_without_repeats_or_dead_letters(
    function: Lambda, fake: FakeSlackApi, clock: SharedClock
) -> None:
    event = storm_event(1000)
    with pytest.raises(Killed):
        function.invoke(event, kill_after=8.0)
    names = names_of(1000)
    shown_before = top_level_names(fake, names)
    assert 0 < len(shown_before) < 1000, "killed halfway"
    for receive in range(2, 6):  # noqa: B007 - asserted after the loop; SQS hands the whole batch back after the visibility timeout
        clock.now += VISIBILITY_TIMEOUT_SECONDS
        result = function.invoke(event)
        if result == {"batchItemFailures": []}:
            break
    else:
        pytest.fail("still failing after maxReceiveCount (5) receives: dead-lettered")
    assert receive == 2
    assert top_level_names(fake, names) == Counter(dict.fromkeys(names, 1))


def test_every_kill_point_loses_nothing_and_repeats_at_most_one_message(
    function: Lambda, fake: FakeSlackApi, clock: SharedClock
) -> None:
    """Kill at each DynamoDB call of a 150-record batch in turn, then redeliver: no alarm is
    ever lost; a part is shown twice only when the kill fell on the one call that records it
    right after its post (a window that Slack, without idempotency keys, leaves open)."""
    event = storm_event(150)
    names = names_of(150)
    function.invoke(event)
    calls_per_run = function.state_calls
    parts = len(fake.messages(CHANNEL))
    duplicated_runs = 0
    for kill_call in range(1, calls_per_run + 1):
        fake.channels[CHANNEL].messages.clear()
        function.store = CostedState(clock=clock, on_call=function._state_call)
        function.state_calls, function.kill_at_call = 0, kill_call
        with contextlib.suppress(Killed):
            function.invoke(event)
        clock.now += VISIBILITY_TIMEOUT_SECONDS
        function.state_calls = 0
        assert function.invoke(event) == {"batchItemFailures": []}
        shown = top_level_names(fake, names)
        assert set(shown) == set(names), f"lost alarms when killed at call {kill_call}"
        repeated = [n for n, times in shown.items() if times > 1]
        if repeated:
            duplicated_runs += 1
            assert len(repeated) <= 70, "at most one digest part repeated"
    # Printed for the report (pytest -s): how often a kill point causes a repeat.
    print(f"kill points: {calls_per_run}, parts: {parts}, repeats: {duplicated_runs}")
    assert duplicated_runs <= parts


def test_a_resolving_storm_updates_each_digest_message_once(
    function: Lambda, fake: FakeSlackApi, clock: SharedClock
) -> None:
    """437 OKs for alarms reported in digests: one chat.update per digest message, not one per
    OK (chat.update is Tier 3, about 50 a minute); every header ends true."""
    alarms = storm_messages(437, ok_share=0.0)
    assert function.invoke(sqs_event([sns_envelope(m) for m in alarms])) == {
        "batchItemFailures": []
    }
    digests = fake.messages(CHANNEL)
    clock.now += 600
    later = START + dt.timedelta(minutes=10)
    oks = [alarm_message(m["AlarmName"], state="OK", when=later) for m in alarms]
    assert function.invoke(sqs_event([sns_envelope(m) for m in oks])) == {"batchItemFailures": []}
    updates = fake.calls_to("chat.update")
    assert len(updates) == len(digests)
    assert len({c.arguments["ts"] for c in updates}) == len(digests)
    assert all(d.text.endswith("→ all resolved") for d in digests)


def test_a_storm_over_ten_minutes_is_one_live_message_per_group_interval(
    function: Lambda, fake: FakeSlackApi, clock: SharedClock
) -> None:
    """600 alarms over 10 minutes in 30 batches (group_interval 300 s): at most 3 top-level
    messages, every alarm named once, and each header counts what it lists at the end."""
    names = [f"prod-{i:04d}-cpu" for i in range(600)]
    for batch in range(30):
        when = START + dt.timedelta(seconds=20 * batch)
        chunk = names[20 * batch : 20 * batch + 20]
        event = sqs_event([sns_envelope(alarm_message(n, when=when)) for n in chunk])
        assert function.invoke(event) == {"batchItemFailures": []}
        clock.now += 20 - (clock.now % 20)  # the next batch 20 s later
    top = fake.messages(CHANNEL)
    assert len(top) <= 3, [m.text for m in top]
    shown: Counter[str] = Counter()
    for message in top:
        listed = [message, *message.replies]
        text = " ".join(json.dumps(m.content, ensure_ascii=False) for m in listed)
        mine = [n for n in names if n in text]
        shown.update(mine)
        header = message.content["attachments"][0]["blocks"][0]["text"]["text"]
        assert header.startswith(f":rotating_light: {len(mine)} alarms changed state: "
                                 f"{len(mine)} ALARM"), header  # fmt: skip
        assert message.text.endswith(f"→ {len(mine)} still open") or len(mine) == 20
    assert shown == Counter(dict.fromkeys(names, 1))


def test_a_batch_too_big_for_one_invocation_stops_cleanly_and_reports_the_rest(
    function: Lambda, fake: FakeSlackApi, clock: SharedClock
) -> None:
    """3,000 records (48 digest parts at one post a second) cannot fit in 30 s: the invocation
    stops before its deadline, acknowledges what it posted and reports the rest, which the
    next receive posts (in the live digest's thread: within group_interval); nothing twice,
    nothing lost, nothing dead-lettered."""
    event = storm_event(3000)
    names = names_of(3000)
    first = function.invoke(event)  # killed at 30 s if it ran past its deadline
    failed = {f["itemIdentifier"] for f in first["batchItemFailures"]}
    assert 0 < len(failed) < 3000
    shown = top_level_names(fake, names)
    assert set(shown.values()) == {1}
    clock.now += VISIBILITY_TIMEOUT_SECONDS
    retry = {"Records": [r for r in event["Records"] if r["messageId"] in failed]}
    for _receive in range(2, 6):
        result = function.invoke(retry)
        failed = {f["itemIdentifier"] for f in result["batchItemFailures"]}
        if not failed:
            break
        retry = {"Records": [r for r in retry["Records"] if r["messageId"] in failed]}
        clock.now += VISIBILITY_TIMEOUT_SECONDS
    assert not failed, "dead-lettered after maxReceiveCount"
    assert channel_names(fake, names) == Counter(dict.fromkeys(names, 1))
    assert top_level_names(fake, names) == shown, "the rest joined the live digest's thread"


def test_a_deleted_live_digest_starts_a_new_one_instead_of_failing(
    function: Lambda, fake: FakeSlackApi, clock: SharedClock
) -> None:
    first = [alarm_message(f"web-{i}") for i in range(5)]
    assert function.invoke(sqs_event([sns_envelope(m) for m in first])) == {"batchItemFailures": []}
    fake.channels[CHANNEL].messages.clear()  # someone deleted the digest
    clock.now += 60
    later = [alarm_message(f"db-{i}") for i in range(5)]
    assert function.invoke(sqs_event([sns_envelope(m) for m in later])) == {"batchItemFailures": []}
    (digest,) = fake.messages(CHANNEL)
    assert all(f"db-{i}" in json.dumps(digest.content) for i in range(5))
    clock.now += 60
    again = [alarm_message(f"app-{i}") for i in range(5)]
    function.invoke(sqs_event([sns_envelope(m) for m in again]))
    (digest,) = fake.messages(CHANNEL)
    assert len(digest.replies) == 1, "the new digest is the live one now"
