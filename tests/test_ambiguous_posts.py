"""A post whose answer was lost (internal_error, fatal_error, a timeout after sending): never
retried blindly, found again by its metadata, and resolved in place like any other."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

import handler
from handler import DeliveryError, handle_event
from settings import load_settings
from slack import RetryPolicy
from support.app_mode import SharedClock, sns_alarm_event
from support.fake_slack_api import DEFAULT_TOKEN, FakeSlackApi
from support.memory_state import MemoryState
from support.slack_history import SlackHistory

CHANNEL = "C0ALERTS01"
POLICY = RetryPolicy(max_attempts=3, request_timeout=2.0, base_delay=0.1, max_delay=0.2)
SCOPES = frozenset({"chat:write", "chat:write.public", "channels:history"})
ALARM = sns_alarm_event("ALARM", message_id="m-1", time="2024-05-14T07:21:04.987+0000")
OK = sns_alarm_event("OK", message_id="m-2", time="2024-05-14T07:29:30.000+0000")


@pytest.fixture(autouse=True)
def _fresh_container() -> Iterator[None]:
    handler.reset_caches()
    yield
    handler.reset_caches()


@pytest.fixture
def clock() -> SharedClock:
    return SharedClock()


def run(fake: FakeSlackApi, clock: SharedClock, state: MemoryState, event: object) -> Any:
    settings = load_settings(
        {
            "SLACK_BOT_TOKEN_SSM_PARAMETER": "/alerts/slack-bot-token",
            "SLACK_CHANNEL_ID": CHANNEL,
            "SLACK_API_BASE_URL": fake.base_url,
        }
    )
    return handle_event(
        event, None, settings=settings, state=state, bot_token=DEFAULT_TOKEN, policy=POLICY,
        sleep=clock.sleep, clock=clock,
    )  # fmt: skip


def test_a_post_that_landed_unseen_is_found_not_repeated_and_resolves(clock: SharedClock) -> None:
    state = MemoryState()
    with FakeSlackApi(channels={CHANNEL: "alerts"}, clock=clock, scopes=SCOPES) as fake:
        history = SlackHistory(fake)
        history.lose_answer("internal_error")
        with pytest.raises(DeliveryError, match="ambiguous"):
            run(fake, clock, state, ALARM)
        assert len(fake.calls_to("chat.postMessage")) == 1, "not retried blindly"
        clock.now += 60  # Lambda's asynchronous retry
        assert run(fake, clock, state, ALARM) == {"records": 1, "delivered": 1, "failed": 0}
        assert len(fake.calls_to("chat.postMessage")) == 1, "found by its metadata"
        run(fake, clock, state, OK)
        (message,) = fake.messages(CHANNEL)
        assert message.color == "#2EB67D", "the message that did land turns green"
        assert len(message.replies) == 1


def test_a_post_that_did_not_land_is_posted_on_the_next_attempt(clock: SharedClock) -> None:
    state = MemoryState()
    with FakeSlackApi(channels={CHANNEL: "alerts"}, clock=clock, scopes=SCOPES) as fake:
        SlackHistory(fake)
        fake.fail_next("chat.postMessage", "fatal_error")
        with pytest.raises(DeliveryError):
            run(fake, clock, state, ALARM)
        assert fake.messages(CHANNEL) == []
        run(fake, clock, state, ALARM)
        assert len(fake.messages(CHANNEL)) == 1


def test_without_the_history_scope_an_unseen_post_is_repeated_once(clock: SharedClock) -> None:
    """The measured cost of an ambiguous failure when the app cannot read the channel: one
    duplicate top-level message, and the first one stays red (README: add channels:history)."""
    state = MemoryState()
    scopes = frozenset({"chat:write", "chat:write.public"})
    with FakeSlackApi(channels={CHANNEL: "alerts"}, clock=clock, scopes=scopes) as fake:
        history = SlackHistory(fake)
        history.lose_answer("internal_error")
        with pytest.raises(DeliveryError):
            run(fake, clock, state, ALARM)
        run(fake, clock, state, ALARM)
        run(fake, clock, state, OK)
        first, second = fake.messages(CHANNEL)
        assert (first.color, second.color) == ("#E01E5A", "#2EB67D")
