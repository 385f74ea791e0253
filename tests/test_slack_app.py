"""Slack app mode delivery: one alert, one place, against the fake Web API and in-memory state."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import replace

import pytest

import records
from alarm import Alarm, parse_event
from delivery import Pacer
from message import format_message
from settings import Settings
from slack import RetryPolicy
from slack_api import SlackApi
from slack_app import (
    SlackApp,
    digest_progress_payload,
    format_duration,
    resolved_label,
    resolved_payload,
)
from state import DigestRecord
from support.app_mode import SharedClock, sns_alarm_event
from support.fake_slack_api import DEFAULT_TOKEN, FakeSlackApi
from support.memory_state import MemoryState

CHANNEL = "C0ALERTS01"
OTHER = "C0DBONCALL"
POLICY = RetryPolicy(max_attempts=3, request_timeout=2.0, base_delay=0.1, max_delay=0.2)
SETTINGS = Settings(bot_token_ssm_parameter="/slack/bot-token", channel_id=CHANNEL)  # noqa: S106


@pytest.fixture
def clock() -> SharedClock:
    return SharedClock()


@pytest.fixture
def fake(clock: SharedClock) -> Iterator[FakeSlackApi]:
    with FakeSlackApi(channels={CHANNEL: "alerts", OTHER: "db-oncall"}, clock=clock) as api:
        yield api


@pytest.fixture
def state() -> MemoryState:
    return MemoryState()


def make_app(
    fake: FakeSlackApi, state: MemoryState, clock: SharedClock, settings: Settings = SETTINGS
) -> SlackApp:
    api = SlackApi(
        DEFAULT_TOKEN, base_url=fake.base_url, policy=POLICY, sleep=clock.sleep, clock=clock
    )
    return SlackApp(api, state, settings, pacer=Pacer(1.0, sleep=clock.sleep, clock=clock))


def alarm(state: str, message_id: str, time: str, **kwargs: str) -> Alarm:
    (parsed,) = parse_event(sns_alarm_event(state, message_id=message_id, time=time, **kwargs))
    return parsed


ALARM_1 = alarm("ALARM", "m-1", "2024-05-14T07:21:04.987+0000")
OK_1 = alarm("OK", "m-2", "2024-05-14T07:29:04.987+0000")
ALARM_2 = alarm("ALARM", "m-3", "2024-05-14T07:40:00.000+0000")


def send(app: SlackApp, item: Alarm, channel: str = CHANNEL, settings: Settings = SETTINGS):
    return app.deliver_alarm(item, format_message(item, settings), channel, deadline=None)


# --- pure rendering -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seconds", "english", "korean"),
    [
        (45, "45 s", "45초"),
        (480, "8 min", "8분"),
        (3900, "1 h 5 min", "1시간 5분"),
        (7200, "2 h", "2시간"),
        (183600, "2 d 3 h", "2일 3시간"),
        (0, "0 s", "0초"),
    ],
)
def test_durations_read_like_a_person_would_say_them(
    seconds: int, english: str, korean: str
) -> None:
    assert format_duration(seconds) == english
    assert format_duration(seconds, "ko") == korean


def test_resolved_label_needs_both_times() -> None:
    start, end = "2024-05-14T07:21:04.987+0000", "2024-05-14T07:29:04.987+0000"
    assert resolved_label(start, end) == "Resolved after 8 min"
    assert resolved_label(start, end, "ko") == "8분 만에 해결됨"
    assert resolved_label(None, end) == "Resolved"
    assert resolved_label(end, start) == "Resolved"
    assert resolved_label("yesterday", end, "ko") == "해결됨"


def test_resolved_payload_turns_the_message_green_and_keeps_its_details() -> None:
    original = format_message(ALARM_1, SETTINGS)
    resolved = resolved_payload(original, OK_1, ALARM_1.timestamp, SETTINGS)
    attachment = resolved["attachments"][0]
    assert attachment["color"] == "#2EB67D"
    assert attachment["blocks"][0]["text"]["text"] == (
        ":white_check_mark: Resolved after 8 min: prod-web-1-cpu"
    )
    assert resolved["text"] == ":white_check_mark: *Resolved after 8 min*: prod-web-1-cpu"
    # Every other block (reason, fields, console button) is the ALARM's, unchanged.
    assert attachment["blocks"][1:] == original["attachments"][0]["blocks"][1:]
    assert original["attachments"][0]["color"] == "#E01E5A", "the original is not modified"


def test_digest_progress_counts_what_is_still_open() -> None:
    payload = {
        "text": "143 alarms changed state",
        "attachments": [
            {
                "color": "#E01E5A",
                "blocks": [{"type": "header", "text": {"type": "plain_text", "text": "131 ALARM"}}],
            }
        ],
    }
    digest = DigestRecord(CHANNEL, "1.1", payload, {"ALARM": 131}, frozenset({"a", "b"}))
    progress = digest_progress_payload(digest)
    assert progress["attachments"][0]["blocks"][0]["text"]["text"] == "131 ALARM → 2 still open"
    assert progress["attachments"][0]["color"] == "#E01E5A"
    done = digest_progress_payload(replace(digest, open_alarms=frozenset()), "ko")
    assert done["attachments"][0]["blocks"][0]["text"]["text"] == "131 ALARM → 모두 해결됨"
    assert done["attachments"][0]["color"] == "#2EB67D"


# --- sequences ----------------------------------------------------------------------------


def test_alarm_then_ok_updates_the_message_in_place_and_replies_in_its_thread(
    fake: FakeSlackApi, state: MemoryState, clock: SharedClock
) -> None:
    app = make_app(fake, state, clock)
    first = send(app, ALARM_1)
    second = send(app, OK_1)

    assert first.delivered
    assert first.outcome == "posted"
    assert second.delivered
    assert second.outcome == "resolved"
    (message,) = fake.messages(CHANNEL)
    assert message.ts == first.ts
    assert message.text == ":white_check_mark: *Resolved after 8 min*: prod-web-1-cpu"
    assert message.color == "#2EB67D"
    assert message.edited
    (reply,) = message.replies
    assert reply.text == ":white_check_mark: *OK*: prod-web-1-cpu"
    assert not reply.reply_broadcast
    assert state.messages[ALARM_1.arn].state == "OK"


def test_alarm_again_after_ok_is_a_new_message_and_while_open_a_thread_reply(
    fake: FakeSlackApi, state: MemoryState, clock: SharedClock
) -> None:
    app = make_app(fake, state, clock)
    send(app, ALARM_1)
    send(app, OK_1)
    new = send(app, ALARM_2)
    again = send(app, alarm("ALARM", "m-4", "2024-05-14T07:45:00.000+0000"))
    insufficient = send(app, alarm("INSUFFICIENT_DATA", "m-5", "2024-05-14T07:50:00.000+0000"))

    first, second = fake.messages(CHANNEL)
    assert new.outcome == "posted"
    assert second.ts == new.ts
    assert again.outcome == "replied"
    assert again.thread_ts == second.ts
    assert insufficient.outcome == "replied"
    assert [r.text for r in second.replies] == [
        ":rotating_light: *ALARM*: prod-web-1-cpu",
        ":grey_question: *INSUFFICIENT_DATA*: prod-web-1-cpu",
    ]
    assert len(first.replies) == 1
    assert state.messages[ALARM_1.arn].state == "INSUFFICIENT_DATA"
    assert state.messages[ALARM_1.arn].since == ALARM_2.timestamp, "open since the new ALARM"


def test_ok_without_a_record_is_just_posted(
    fake: FakeSlackApi, state: MemoryState, clock: SharedClock
) -> None:
    posted = send(make_app(fake, state, clock), OK_1)
    assert posted.outcome == "posted"
    (message,) = fake.messages(CHANNEL)
    assert message.text == ":white_check_mark: *OK*: prod-web-1-cpu"
    assert not message.edited
    assert not message.replies


def test_reply_broadcast_sends_the_ok_to_the_channel_too(
    fake: FakeSlackApi, state: MemoryState, clock: SharedClock
) -> None:
    settings = records.replace(SETTINGS, reply_broadcast=True)
    app = make_app(fake, state, clock, settings)
    send(app, ALARM_1, settings=settings)
    send(app, OK_1, settings=settings)
    (message,) = fake.messages(CHANNEL)
    assert message.replies[0].reply_broadcast
    (call,) = [c for c in fake.calls_to("chat.postMessage") if "thread_ts" in c.arguments]
    assert call.arguments["reply_broadcast"] is True


def test_the_thread_stays_in_the_channel_of_the_first_message(
    fake: FakeSlackApi, state: MemoryState, clock: SharedClock
) -> None:
    app = make_app(fake, state, clock)
    send(app, ALARM_1, channel=OTHER)
    send(app, OK_1, channel=CHANNEL)  # routing changed meanwhile: the thread lives in OTHER
    assert fake.messages(CHANNEL) == []
    (message,) = fake.messages(OTHER)
    assert len(message.replies) == 1
    assert message.edited


def test_text_messages_are_just_posted_and_keep_no_state(
    fake: FakeSlackApi, state: MemoryState, clock: SharedClock
) -> None:
    text = Alarm(kind="text", source="sns", subject="hello", text="a plain message")
    app = make_app(fake, state, clock)
    assert app.deliver_alarm(text, {"text": "a plain message"}, CHANNEL, deadline=None).delivered
    assert state.messages == {}


# --- errors -------------------------------------------------------------------------------


def test_ok_for_a_deleted_message_is_posted_as_a_new_message(
    fake: FakeSlackApi, state: MemoryState, clock: SharedClock
) -> None:
    app = make_app(fake, state, clock)
    send(app, ALARM_1)
    fake.channels[CHANNEL].messages.clear()  # someone deleted it
    posted = send(app, OK_1)
    assert posted.delivered
    assert posted.outcome == "posted_after_message_gone"
    (message,) = fake.messages(CHANNEL)
    assert message.text == ":white_check_mark: *OK*: prod-web-1-cpu"


@pytest.mark.parametrize(
    "error", ["message_not_found", "cant_update_message", "edit_window_closed"]
)
def test_update_failures_fall_back_to_a_new_post(
    fake: FakeSlackApi, state: MemoryState, clock: SharedClock, error: str
) -> None:
    app = make_app(fake, state, clock)
    send(app, ALARM_1)
    fake.fail_next("chat.update", error)
    posted = send(app, OK_1)
    assert posted.delivered
    assert posted.outcome == "posted_after_update_failed"
    original, fallback = fake.messages(CHANNEL)
    assert not original.edited
    assert len(original.replies) == 1
    assert fallback.text == ":white_check_mark: *OK*: prod-web-1-cpu"


def test_a_failed_resolve_update_stays_pending_and_lands_without_a_second_reply(
    fake: FakeSlackApi, state: MemoryState, clock: SharedClock
) -> None:
    app = make_app(fake, state, clock)
    send(app, ALARM_1)
    fake.fail_next("chat.update", "internal_error", status=500, count=3)
    posted = send(app, OK_1)
    assert not posted.delivered, "reported, so the record comes back"
    assert posted.outcome == "update_pending"
    (message,) = fake.messages(CHANNEL)
    assert len(message.replies) == 1
    assert not message.edited
    assert state.messages[ALARM_1.arn].pending_update

    again = send(app, OK_1)  # the same record, redelivered
    assert again.delivered
    assert again.outcome == "resolved"
    (message,) = fake.messages(CHANNEL)
    assert len(message.replies) == 1, "the OK reply is not posted twice"
    assert message.color == "#2EB67D"
    assert not state.messages[ALARM_1.arn].pending_update
    assert send(app, OK_1).outcome == "duplicate"


def test_an_alarm_arriving_after_its_newer_ok_never_reopens_the_alert(
    fake: FakeSlackApi, state: MemoryState, clock: SharedClock
) -> None:
    app = make_app(fake, state, clock)
    send(app, ALARM_1)
    send(app, OK_1)
    late = alarm("ALARM", "m-late", "2024-05-14T07:25:00.000+0000")  # before OK_1
    posted = send(app, late)
    assert posted.delivered
    assert posted.outcome == "late"
    (message,) = fake.messages(CHANNEL)
    assert message.color == "#2EB67D", "still resolved"
    assert message.replies[-1].text.startswith("_Arrived late")
    assert state.messages[ALARM_1.arn].state == "OK"
    assert state.messages[ALARM_1.arn].changed_at == OK_1.timestamp
    # A genuinely new ALARM after the OK is a new incident, a new message.
    assert send(app, ALARM_2).outcome == "posted"
    assert len(fake.messages(CHANNEL)) == 2


def test_an_ok_older_than_the_alarm_shown_leaves_it_open(
    fake: FakeSlackApi, state: MemoryState, clock: SharedClock
) -> None:
    app = make_app(fake, state, clock)
    send(app, ALARM_2)  # 07:40
    posted = send(app, OK_1)  # 07:29, from the incident before
    assert posted.outcome == "late"
    (message,) = fake.messages(CHANNEL)
    assert not message.edited
    assert state.messages[ALARM_2.arn].state == "ALARM"


def test_alarm_reply_into_a_deleted_thread_starts_a_new_message(
    fake: FakeSlackApi, state: MemoryState, clock: SharedClock
) -> None:
    app = make_app(fake, state, clock)
    send(app, ALARM_1)
    fake.channels[CHANNEL].messages.clear()
    again = send(app, ALARM_2)
    assert again.outcome == "posted"
    (message,) = fake.messages(CHANNEL)
    assert state.messages[ALARM_1.arn].ts == message.ts


@pytest.mark.parametrize(
    ("error", "hint"),
    [
        ("channel_not_found", "check slack_channel_id / slack_routes"),
        ("not_in_channel", "/invite the app"),
        ("invalid_auth", "Bot User OAuth Token"),
        ("token_revoked", "reinstall the app"),
        ("missing_scope", "add it under OAuth & Permissions"),
        ("account_inactive", "deactivated"),
    ],
)
def test_permanent_errors_fail_at_once_and_log_what_to_do(  # noqa: PLR0917 - fixtures
    fake: FakeSlackApi,
    state: MemoryState,
    clock: SharedClock,
    caplog: pytest.LogCaptureFixture,
    error: str,
    hint: str,
) -> None:
    caplog.set_level(logging.INFO, logger="alarm_to_slack")
    fake.fail_next("chat.postMessage", error, needed="chat:write")
    posted = send(make_app(fake, state, clock), ALARM_1)
    assert not posted.delivered
    assert posted.outcome == "permanent_error"
    assert posted.error == error
    assert len(fake.calls_to("chat.postMessage")) == 1, "no retry of a permanent error"
    assert state.messages == {}
    (line,) = [json.loads(r.getMessage()) for r in caplog.records]
    assert line["error"] == error
    assert hint in line["what_to_do"]
    if error == "missing_scope":
        assert line["needed"] == "chat:write"
    assert DEFAULT_TOKEN not in caplog.text
    assert DEFAULT_TOKEN.split("-")[-1] not in caplog.text


def test_real_channel_errors_from_the_fake(
    fake: FakeSlackApi, state: MemoryState, clock: SharedClock
) -> None:
    app = make_app(fake, state, clock)
    assert send(app, ALARM_1, channel="C0NOSUCHCH").error == "channel_not_found"
    fake.channels[OTHER].member = False
    fake.scopes.discard("chat:write.public")
    assert send(app, ALARM_1, channel=OTHER).error == "not_in_channel"


def test_token_errors_forget_the_cached_token(
    fake: FakeSlackApi, state: MemoryState, clock: SharedClock
) -> None:
    forgotten = []
    app = make_app(fake, state, clock)
    app.on_token_error = lambda: forgotten.append(True)
    fake.fail_next("chat.postMessage", "token_revoked")
    send(app, ALARM_1)
    assert forgotten == [True]


def test_ratelimited_waits_for_retry_after(
    fake: FakeSlackApi, state: MemoryState, clock: SharedClock
) -> None:
    fake.fail_next("chat.postMessage", "ratelimited", status=429, headers={"Retry-After": "7"})
    posted = send(make_app(fake, state, clock), ALARM_1)
    assert posted.delivered
    assert 7 in clock.sleeps
    assert len(fake.calls_to("chat.postMessage")) == 2


def test_retry_after_beyond_the_deadline_gives_up_in_time(
    fake: FakeSlackApi, state: MemoryState, clock: SharedClock
) -> None:
    fake.fail_next("chat.postMessage", "ratelimited", status=429, headers={"Retry-After": "5"})
    app = make_app(fake, state, clock)
    payload = format_message(ALARM_1, SETTINGS)
    posted = app.deliver_alarm(ALARM_1, payload, CHANNEL, deadline=clock() + 3)
    assert not posted.delivered
    assert posted.outcome == "out_of_time"
    assert clock.sleeps == []


def test_posts_to_one_channel_are_paced_one_per_second(
    fake: FakeSlackApi, state: MemoryState, clock: SharedClock
) -> None:
    app = make_app(fake, state, clock)
    for index in range(3):
        send(app, alarm("ALARM", f"p-{index}", "2024-05-14T07:21:04Z", name=f"db-{index}"))
    send(app, alarm("ALARM", "p-x", "2024-05-14T07:21:04Z", name="other"), channel=OTHER)
    assert [c.status for c in fake.calls] == [200, 200, 200, 200], "never a 429"
    assert clock.sleeps == [1.0, 1.0]


def test_state_store_failures_degrade_to_plain_posts(
    fake: FakeSlackApi, clock: SharedClock, caplog: pytest.LogCaptureFixture
) -> None:
    class Broken(MemoryState):
        def get_message(self, alarm_key: str) -> None:
            raise RuntimeError("throttled")

    caplog.set_level(logging.INFO, logger="alarm_to_slack")
    app = make_app(fake, Broken(), clock)
    assert send(app, ALARM_1).delivered
    assert send(app, OK_1).delivered
    assert len(fake.messages(CHANNEL)) == 2
    assert "state store error" in caplog.text


# --- digests ------------------------------------------------------------------------------


def digest_payload(header: str) -> dict:
    return {
        "text": header,
        "attachments": [
            {
                "color": "#E01E5A",
                "blocks": [{"type": "header", "text": {"type": "plain_text", "text": header}}],
            }
        ],
    }


def test_digest_parts_each_own_their_alarms_and_resolve_in_their_threads(
    fake: FakeSlackApi, state: MemoryState, clock: SharedClock
) -> None:
    app = make_app(fake, state, clock)
    storm = [alarm("ALARM", f"s-{i}", "2024-05-14T07:21:04Z", name=f"web-{i}") for i in range(3)]
    parts = [(digest_payload("🚨 3 alarms changed state: 3 ALARM"), storm[:2]),
             (digest_payload("(continued)"), storm[2:])]  # fmt: skip
    outcomes = app.deliver_digest(parts, CHANNEL, {"ALARM": 3}, deadline=None)
    assert [o.delivered for o in outcomes] == [True, True]
    digest, continued = fake.messages(CHANNEL)
    assert {k.rsplit(":", 1)[-1]: m.ts for k, m in state.messages.items()} == {
        "web-0": digest.ts,
        "web-1": digest.ts,
        "web-2": continued.ts,
    }, "each alarm points at the part that names it"

    ok = alarm("OK", "s-ok-1", "2024-05-14T07:31:04Z", name="web-1")
    assert send(app, ok).outcome == "resolved"
    app.flush(deadline=None)
    assert [r.text for r in digest.replies] == [":white_check_mark: *OK*: web-1"]
    assert digest.content["attachments"][0]["blocks"][0]["text"]["text"] == (
        "🚨 3 alarms changed state: 3 ALARM → 1 still open"
    )
    for index in (0, 2):
        send(app, alarm("OK", f"s-ok-{index}-x", "2024-05-14T07:32:04Z", name=f"web-{index}"))
    app.flush(deadline=None)
    assert digest.text.endswith("→ all resolved")
    assert digest.color == "#2EB67D"
    assert continued.text.endswith("→ all resolved"), "the part 2 update keeps part 2's content"
    assert continued.content["attachments"][0]["blocks"][0]["text"]["text"].startswith(
        "(continued)"
    )
    assert [r.text for r in continued.replies] == [":white_check_mark: *OK*: web-2"]
    assert len(digest.replies) == 2


def test_ok_in_a_digest_resolves_the_alarms_own_open_message(
    fake: FakeSlackApi, state: MemoryState, clock: SharedClock
) -> None:
    app = make_app(fake, state, clock)
    send(app, ALARM_1)
    parts = [(digest_payload("🚨 2 alarms changed state: 1 ALARM, 1 OK"),
              [OK_1, alarm("ALARM", "d-2", "2024-05-14T07:29:00Z", name="db-1")])]  # fmt: skip
    app.deliver_digest(parts, CHANNEL, {"ALARM": 1, "OK": 1}, deadline=None)
    assert app.flush(deadline=None) == []
    own, digest = fake.messages(CHANNEL)
    assert own.edited
    assert own.color == "#2EB67D"
    assert not own.replies
    assert state.messages[ALARM_1.arn].state == "OK"
    assert not state.messages[ALARM_1.arn].pending_update
    assert state.digests[(CHANNEL, digest.ts)].open_alarms == {
        "arn:aws:cloudwatch:ap-northeast-2:123456789012:alarm:db-1"
    }


def test_an_alarm_with_its_own_open_message_keeps_it_when_a_digest_names_it(
    fake: FakeSlackApi, state: MemoryState, clock: SharedClock
) -> None:
    app = make_app(fake, state, clock)
    send(app, ALARM_1)
    again = alarm("INSUFFICIENT_DATA", "d-1", "2024-05-14T07:25:00Z")
    parts = [(digest_payload("🚨 2 alarms changed state"),
              [again, alarm("ALARM", "d-2", "2024-05-14T07:25:00Z", name="db-1")])]  # fmt: skip
    app.deliver_digest(parts, CHANNEL, {}, deadline=None)
    own, _digest = fake.messages(CHANNEL)
    record = state.messages[ALARM_1.arn]
    assert (record.ts, record.state) == (own.ts, "INSUFFICIENT_DATA")
    send(app, OK_1)
    assert own.color == "#2EB67D", "its OK still resolves its own message"
