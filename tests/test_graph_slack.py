"""post_graph: the alarm's graph lands in its Slack thread; every failure leaves the text alone."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

import graph
from alarm import Alarm, parse_event
from graph import GraphError, graphs_for_digest, post_graph
from records import replace
from slack import Delivery, RetryPolicy
from slack_api import SlackApi
from slack_files import _may_have_run, is_allowed_upload_url, upload_file
from support import load_event
from support.app_mode import SharedClock, sns_alarm_event
from support.fake_slack_api import DEFAULT_TOKEN, Answer, FakeSlackApi
from support.moto_server import tiny_png

CHANNEL = "C0ALERTS01"
POLICY = RetryPolicy(max_attempts=3, request_timeout=2.0, base_delay=0.1, max_delay=0.2)
PNG = tiny_png(80, 40)
FILE_STEPS = ("files.getUploadURLExternal", "upload", "files.completeUploadExternal")


class FakeCloudWatch:
    """Answers get_metric_widget_image with PNG, or raises `error`; records the widgets."""

    def __init__(self, error: Exception | None = None) -> None:
        self.error = error
        self.widgets: list[dict[str, Any]] = []

    def get_metric_widget_image(self, **kwargs: Any) -> dict[str, Any]:
        self.widgets.append(json.loads(kwargs["MetricWidget"]))
        if self.error is not None:
            raise self.error
        return {"MetricWidgetImage": PNG}


def throttled() -> ClientError:
    error = {"Code": "Throttling", "Message": "Rate exceeded"}
    return ClientError({"Error": error}, "GetMetricWidgetImage")


@pytest.fixture(autouse=True)
def _fresh_container() -> Iterator[None]:
    """Each test a new container: no channel membership remembered from another test."""
    graph.forget_channels()
    yield
    graph.forget_channels()


@pytest.fixture
def clock() -> SharedClock:
    return SharedClock()


@pytest.fixture
def fake(clock: SharedClock) -> Iterator[FakeSlackApi]:
    with FakeSlackApi(channels={CHANNEL: "alerts"}, clock=clock) as server:
        yield server


@pytest.fixture
def api(fake: FakeSlackApi, clock: SharedClock) -> SlackApi:
    return SlackApi(
        DEFAULT_TOKEN, base_url=fake.base_url, policy=POLICY, sleep=clock.sleep, clock=clock
    )


def alarm_in(state: str = "ALARM") -> Alarm:
    (alarm,) = parse_event(sns_alarm_event(state, message_id="m-1"))
    return alarm


def posted_message(api: SlackApi, text: str = "ALARM prod-web-1-cpu") -> str:
    """The alarm's text message, posted first; its ts."""
    result = api.post_message({"channel": CHANNEL, "text": text}, deadline=None)
    assert result.ok
    assert result.ts is not None
    return result.ts


def file_calls(fake: FakeSlackApi) -> list[str]:
    return [call.method for call in fake.calls if call.method in FILE_STEPS]


# --- the happy path -------------------------------------------------------------------------


def test_graph_lands_in_the_thread_of_the_alarm_message(fake: FakeSlackApi, api: SlackApi) -> None:
    ts = posted_message(api)
    cloudwatch = FakeCloudWatch()
    outcome = post_graph(alarm_in(), CHANNEL, ts, api=api, tz="Asia/Seoul", client=cloudwatch)
    assert outcome.posted
    assert outcome.reason == "posted"
    (message,) = fake.messages(CHANNEL)
    assert message.text == "ALARM prod-web-1-cpu"
    assert not message.edited
    (reply,) = message.replies
    assert reply.thread_ts == ts
    (shared,) = reply.content["files"]
    assert shared["id"] == outcome.file_id
    assert shared["title"] == "prod-web-1-cpu"
    assert shared["name"] == "prod-web-1-cpu-20240514T072104Z.png"
    # The bytes Slack received are the PNG CloudWatch drew for this alarm's widget.
    assert fake.files[outcome.file_id].content == PNG
    assert fake.files[outcome.file_id].shared_in == (CHANNEL, ts)
    (widget,) = cloudwatch.widgets
    assert widget["metrics"][0][:2] == ["AWS/EC2", "CPUUtilization"]
    assert widget["timezone"] == "+0900"


def test_upload_follows_the_three_step_flow_with_a_bearer_token(
    fake: FakeSlackApi, api: SlackApi
) -> None:
    ts = posted_message(api)
    post_graph(alarm_in(), CHANNEL, ts, api=api, client=FakeCloudWatch())
    assert file_calls(fake) == list(FILE_STEPS)
    start, _, complete = (c for c in fake.calls if c.method in FILE_STEPS)
    # Both files.* calls go as a form (Slack refuses a JSON body on getUploadURLExternal):
    # every value a string, the list of files a JSON string.
    for call in (start, complete):
        assert call.content_type == "application/x-www-form-urlencoded; charset=utf-8"
    assert start.arguments["filename"].endswith(".png")
    assert start.arguments["length"] == str(len(PNG))
    assert start.arguments["alt_txt"].startswith("Graph of CPUUtilization for alarm prod-web-1-cpu")
    assert start.authorization == complete.authorization == "Bearer"
    files = json.loads(complete.arguments.pop("files"))
    assert files == [{"id": complete.answer["files"][0]["id"], "title": "prod-web-1-cpu"}]
    assert complete.arguments == {"channel_id": CHANNEL, "thread_ts": ts}
    # files.upload is retired: never called.
    assert not fake.calls_to("files.upload")


def test_digest_graphs_go_to_the_first_three_alarms_that_have_one() -> None:
    composite = parse_event(load_event("sns-composite-alarm"))[0]
    ok = alarm_in("OK")
    alarms = [composite, ok] + [replace(alarm_in(), name=f"a{i}") for i in range(5)]
    assert [a.name for a in graphs_for_digest(alarms)] == ["a0", "a1", "a2"]
    assert graphs_for_digest(alarms, limit=1)[0].name == "a0"
    assert graph.MAX_GRAPHS_PER_DIGEST == 3


# --- skipped on purpose -----------------------------------------------------------------------


@pytest.mark.parametrize("state", ["OK", "INSUFFICIENT_DATA"])
def test_only_alarm_state_gets_a_graph(state: str, fake: FakeSlackApi, api: SlackApi) -> None:
    ts = posted_message(api)
    cloudwatch = FakeCloudWatch()
    outcome = post_graph(alarm_in(state), CHANNEL, ts, api=api, client=cloudwatch)
    assert (outcome.posted, outcome.reason) == (False, "state")
    assert cloudwatch.widgets == []
    assert file_calls(fake) == []


def test_composite_alarm_gets_no_graph_and_no_widget_call(
    fake: FakeSlackApi, api: SlackApi
) -> None:
    ts = posted_message(api)
    (composite,) = parse_event(load_event("sns-composite-alarm"))
    cloudwatch = FakeCloudWatch()
    outcome = post_graph(composite, CHANNEL, ts, api=api, client=cloudwatch)
    assert outcome.reason == "no_graph"
    assert cloudwatch.widgets == []
    assert file_calls(fake) == []


def test_no_graph_is_started_close_to_the_deadline(
    fake: FakeSlackApi, api: SlackApi, clock: SharedClock
) -> None:
    ts = posted_message(api)
    cloudwatch = FakeCloudWatch()
    deadline = clock() + graph.MIN_SECONDS_FOR_A_GRAPH - 0.5
    outcome = post_graph(alarm_in(), CHANNEL, ts, api=api, client=cloudwatch, deadline=deadline)
    assert outcome.reason == "out_of_time"
    assert cloudwatch.widgets == []


# --- failures: logged, never raised, the text message stays ---------------------------------


def assert_text_alone(fake: FakeSlackApi) -> None:
    (message,) = fake.messages(CHANNEL)
    assert message.text == "ALARM prod-web-1-cpu"
    assert not message.edited
    assert message.replies == []


def test_throttled_widget_call_is_logged_and_leaves_the_text(
    fake: FakeSlackApi, api: SlackApi, caplog: pytest.LogCaptureFixture
) -> None:
    ts = posted_message(api)
    with caplog.at_level(logging.INFO, logger="alarm_to_slack"):
        outcome = post_graph(alarm_in(), CHANNEL, ts, api=api, client=FakeCloudWatch(throttled()))
    assert (outcome.posted, outcome.reason) == (False, "throttled")
    assert_text_alone(fake)
    assert file_calls(fake) == []
    (line,) = [json.loads(r.getMessage()) for r in caplog.records if "slack graph" in r.message]
    assert line["outcome"] == "throttled"
    assert line["alarm_name"] == "prod-web-1-cpu"
    assert caplog.records[-1].levelno == logging.WARNING


def test_missing_permission_is_named_in_the_log(fake: FakeSlackApi, api: SlackApi) -> None:
    ts = posted_message(api)
    denied = ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, "Get")
    outcome = post_graph(alarm_in(), CHANNEL, ts, api=api, client=FakeCloudWatch(denied))
    assert outcome.reason == "permission_denied"
    assert "cloudwatch:GetMetricWidgetImage" in (outcome.error or "")
    assert_text_alone(fake)


@pytest.mark.parametrize(
    ("method", "error", "step"),
    [
        ("files.getUploadURLExternal", "file_uploads_disabled", "get_upload_url"),
        ("files.completeUploadExternal", "posting_to_channel_denied", "complete"),
    ],
)
def test_slack_refusing_the_upload_leaves_the_text(
    fake: FakeSlackApi, api: SlackApi, method: str, error: str, step: str
) -> None:
    ts = posted_message(api)
    fake.fail_next(method, error)
    outcome = post_graph(alarm_in(), CHANNEL, ts, api=api, client=FakeCloudWatch())
    assert (outcome.posted, outcome.reason) == (False, "upload_failed")
    assert outcome.error == f"{step}: {error}"
    assert_text_alone(fake)


def test_app_without_files_write_scope_gets_no_graph_but_keeps_the_text(
    clock: SharedClock,
) -> None:
    scopes = frozenset({"chat:write"})
    with FakeSlackApi(channels={CHANNEL: "alerts"}, scopes=scopes, clock=clock) as fake:
        api = SlackApi(DEFAULT_TOKEN, base_url=fake.base_url, policy=POLICY, clock=clock)
        ts = posted_message(api)
        outcome = post_graph(alarm_in(), CHANNEL, ts, api=api, client=FakeCloudWatch())
        assert outcome.error == "get_upload_url: missing_scope"
        assert_text_alone(fake)


def test_a_failed_byte_upload_is_retried(fake: FakeSlackApi, api: SlackApi) -> None:
    ts = posted_message(api)
    receive = fake._receive_upload
    attempts: list[int] = []

    def fails_once(file_id: str, body: bytes) -> Answer:
        attempts.append(len(body))
        if len(attempts) == 1:
            return Answer({"ok": False, "error": "internal"}, 500)
        return receive(file_id, body)

    fake._receive_upload = fails_once  # type: ignore[method-assign]
    outcome = post_graph(alarm_in(), CHANNEL, ts, api=api, client=FakeCloudWatch())
    assert outcome.posted
    assert attempts == [len(PNG), len(PNG)]


def test_a_byte_upload_that_keeps_failing_is_reported(fake: FakeSlackApi, api: SlackApi) -> None:
    ts = posted_message(api)
    fake._receive_upload = lambda file_id, body: Answer({"ok": False}, 403)  # type: ignore[method-assign]
    outcome = post_graph(alarm_in(), CHANNEL, ts, api=api, client=FakeCloudWatch())
    assert (outcome.posted, outcome.reason) == (False, "upload_failed")
    assert outcome.error == "upload: permanent_error: HTTP 403"
    assert_text_alone(fake)


def test_a_bug_in_rendering_is_caught_and_logged(fake: FakeSlackApi, api: SlackApi) -> None:
    ts = posted_message(api)

    def broken(widget: dict[str, Any], client: Any) -> bytes:
        raise KeyError("surprise")

    outcome = post_graph(alarm_in(), CHANNEL, ts, api=api, render=broken)
    assert (outcome.posted, outcome.reason) == (False, "error")
    assert "KeyError" in (outcome.error or "")
    assert_text_alone(fake)


def test_graph_error_from_render_keeps_its_reason(fake: FakeSlackApi, api: SlackApi) -> None:
    ts = posted_message(api)

    def bad_image(widget: dict[str, Any], client: Any) -> bytes:
        raise GraphError("bad_image", "not a PNG")

    assert post_graph(alarm_in(), CHANNEL, ts, api=api, render=bad_image).reason == "bad_image"


def test_the_log_never_holds_the_token_or_the_upload_url(
    fake: FakeSlackApi, api: SlackApi, caplog: pytest.LogCaptureFixture
) -> None:
    ts = posted_message(api)
    fake.fail_next("files.completeUploadExternal", "not_in_channel")
    with caplog.at_level(logging.DEBUG):
        post_graph(alarm_in(), CHANNEL, ts, api=api, client=FakeCloudWatch())
    text = caplog.text
    assert DEFAULT_TOKEN not in text
    assert "/upload/v1/" not in text


# --- slack_files directly ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://files.slack.com/upload/v1/abc", True),
        ("https://slack.com/upload", True),
        ("http://127.0.0.1:9999/upload/v1/abc", True),
        ("http://files.slack.com/upload", False),
        ("https://slack.com.evil.example/upload", False),
        ("https://evil.example/files.slack.com", False),
        ("file:///etc/passwd", False),
        (None, False),
    ],
)
def test_only_slack_or_loopback_upload_urls_are_used(url: object, allowed: bool) -> None:
    assert is_allowed_upload_url(url) is allowed


def test_an_upload_url_elsewhere_is_never_posted_to(fake: FakeSlackApi, api: SlackApi) -> None:
    original = fake._get_upload_url

    def elsewhere(arguments: dict[str, Any]) -> Any:
        answer = original(arguments)
        answer.body["upload_url"] = "https://attacker.example/upload"
        return answer

    fake.methods["files.getUploadURLExternal"] = elsewhere
    result = upload_file(
        api, channel=CHANNEL, thread_ts=None, filename="g.png", title="g", content=PNG
    )
    assert (result.ok, result.step) == (False, "get_upload_url")
    assert file_calls(fake) == ["files.getUploadURLExternal"]


def test_upload_without_a_thread_shares_in_the_channel(fake: FakeSlackApi, api: SlackApi) -> None:
    result = upload_file(
        api, channel=CHANNEL, thread_ts=None, filename="g.png", title="g", content=PNG
    )
    assert result.ok
    (message,) = fake.messages(CHANNEL)
    assert message.content["files"][0]["id"] == result.file_id


def test_a_thread_slack_does_not_know_fails_the_upload(fake: FakeSlackApi, api: SlackApi) -> None:
    result = upload_file(
        api, channel=CHANNEL, thread_ts="1.000001", filename="g.png", title="g", content=PNG
    )
    assert (result.ok, result.step, result.error) == (False, "complete", "thread_not_found")


def test_post_graphs_stops_starting_graphs_when_time_runs_out(
    fake: FakeSlackApi, api: SlackApi, clock: SharedClock
) -> None:
    ts = posted_message(api)

    def slow(widget: dict[str, Any], client: Any) -> bytes:
        clock.sleep(2.0)  # each render takes 2 s of the shared clock
        return PNG

    deadline = clock() + graph.MIN_SECONDS_FOR_A_GRAPH + 3.0
    jobs = [(replace(alarm_in(), name=f"a{i}"), CHANNEL, ts) for i in range(3)]
    outcomes = graph.post_graphs(jobs, api=api, deadline=deadline, render=slow)
    # MIN + 3 s left, then MIN + 1 s, then MIN - 1 s: the third is not started.
    assert [o.reason for o in outcomes] == ["posted", "posted", "out_of_time"]
    (message,) = fake.messages(CHANNEL)
    assert len(message.replies) == 2


# --- files.completeUploadExternal runs at most once ---------------------------------------------


@pytest.mark.parametrize(
    ("error", "status"),
    [("internal_error", 200), ("fatal_error", 200), ("service_unavailable", 503)],
)
def test_a_completion_that_may_have_run_is_never_retried(
    fake: FakeSlackApi, api: SlackApi, error: str, status: int
) -> None:
    ts = posted_message(api)
    fake.fail_next("files.completeUploadExternal", error, status=status, count=3)
    outcome = post_graph(alarm_in(), CHANNEL, ts, api=api, client=FakeCloudWatch())
    assert len(fake.calls_to("files.completeUploadExternal")) == 1
    assert (outcome.posted, outcome.reason) == (False, "upload_failed")
    assert outcome.error == (
        f"complete_unconfirmed: {error} (not retried: Slack completes an upload once; it may be "
        "shared)"
    )


def test_a_completion_whose_answer_is_lost_is_never_sent_again(
    fake: FakeSlackApi, clock: SharedClock, caplog: pytest.LogCaptureFixture
) -> None:
    """Slack shares the file but its answer comes after the client gave up: one call only."""
    policy = RetryPolicy(max_attempts=3, request_timeout=0.3, base_delay=0.1, max_delay=0.2)
    api = SlackApi(DEFAULT_TOKEN, base_url=fake.base_url, policy=policy, clock=clock)
    ts = posted_message(api)
    share = fake.methods["files.completeUploadExternal"]
    arrived: list[str] = []
    answered = threading.Event()

    def slow(arguments: dict[str, Any]) -> Answer:
        arrived.append(arguments["channel_id"])
        answer = share(arguments)  # the file is shared ...
        time.sleep(0.6)  # ... and the answer arrives after the client's timeout
        answered.set()
        return answer

    fake.methods["files.completeUploadExternal"] = slow
    with caplog.at_level(logging.INFO, logger="alarm_to_slack"):
        outcome = post_graph(alarm_in(), CHANNEL, ts, api=api, client=FakeCloudWatch())
    assert answered.wait(5)
    assert arrived == [CHANNEL]
    assert (outcome.posted, outcome.reason) == (False, "upload_failed")
    assert (outcome.error or "").startswith("complete_unconfirmed: ")
    assert "timed out" in (outcome.error or "")
    (message,) = fake.messages(CHANNEL)
    assert len(message.replies) == 1  # shared once, not twice
    (line,) = [json.loads(r.getMessage()) for r in caplog.records if "slack graph" in r.message]
    assert "not retried" in line["error"]


def test_a_rate_limited_completion_is_retried(fake: FakeSlackApi, api: SlackApi) -> None:
    """HTTP 429 means Slack did nothing: the one call is still to come."""
    ts = posted_message(api)
    fake.fail_next(
        "files.completeUploadExternal", "ratelimited", status=429, headers={"Retry-After": "1"}
    )
    outcome = post_graph(alarm_in(), CHANNEL, ts, api=api, client=FakeCloudWatch())
    assert outcome.posted
    assert len(fake.calls_to("files.completeUploadExternal")) == 2
    (message,) = fake.messages(CHANNEL)
    assert len(message.replies) == 1


def test_the_upload_url_step_is_still_retried(fake: FakeSlackApi, api: SlackApi) -> None:
    ts = posted_message(api)
    fake.fail_next("files.getUploadURLExternal", "internal_error")
    outcome = post_graph(alarm_in(), CHANNEL, ts, api=api, client=FakeCloudWatch())
    assert outcome.posted
    assert len(fake.calls_to("files.getUploadURLExternal")) == 2


def test_a_completion_never_sent_for_lack_of_time_is_a_plain_failure() -> None:
    assert not _may_have_run(Delivery(False, "out_of_time", 0, error="no time left to try"))
    assert _may_have_run(Delivery(False, "permanent_error", 1, error="timed out"))
    assert not _may_have_run(Delivery(False, "permanent_error", 1, 200, error="not_in_channel"))


# --- channels: sharing a file needs membership, chat:write.public does not give it --------------

JOIN_SCOPES = frozenset({"chat:write", "chat:write.public", "files:write", "channels:join"})


def app_in(
    clock: SharedClock, *, scopes: frozenset[str] = JOIN_SCOPES, **channel: bool
) -> tuple[FakeSlackApi, SlackApi]:
    """A workspace whose one channel is as given (member, private, archived); a started fake."""
    fake = FakeSlackApi(channels={CHANNEL: "alerts"}, scopes=scopes, clock=clock)
    fake.start()
    fake.set_channel(CHANNEL, **channel)
    api = SlackApi(DEFAULT_TOKEN, base_url=fake.base_url, policy=POLICY, clock=clock)
    return fake, api


@pytest.fixture
def stopped() -> Iterator[list[FakeSlackApi]]:
    fakes: list[FakeSlackApi] = []
    yield fakes
    for fake in fakes:
        fake.stop()


def graph_lines(caplog: pytest.LogCaptureFixture, message: str) -> list[dict[str, Any]]:
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "alarm_to_slack"]
    return [line for line in lines if line.get("message") == message]


def test_a_public_channel_the_app_is_not_in_is_joined_once_before_the_first_upload(
    clock: SharedClock, stopped: list[FakeSlackApi]
) -> None:
    fake, api = app_in(clock, member=False)
    stopped.append(fake)
    ts = posted_message(api)  # chat:write.public: the text needs no membership
    cloudwatch = FakeCloudWatch()
    first = post_graph(alarm_in(), CHANNEL, ts, api=api, client=cloudwatch, join_channels=True)
    second = post_graph(alarm_in(), CHANNEL, ts, api=api, client=cloudwatch, join_channels=True)
    assert (first.reason, second.reason) == ("posted", "posted")
    methods = [c.method for c in fake.calls if c.method != "chat.postMessage"]
    assert methods == ["conversations.join", *FILE_STEPS, *FILE_STEPS]
    (message,) = fake.messages(CHANNEL)
    assert len(message.replies) == 2


def test_without_channels_join_the_graph_is_skipped_with_the_fix_named(
    clock: SharedClock, stopped: list[FakeSlackApi], caplog: pytest.LogCaptureFixture
) -> None:
    fake, api = app_in(clock, scopes=JOIN_SCOPES - {"channels:join"}, member=False)
    stopped.append(fake)
    ts = posted_message(api)
    cloudwatch = FakeCloudWatch()
    with caplog.at_level(logging.INFO, logger="alarm_to_slack"):
        first = post_graph(alarm_in(), CHANNEL, ts, api=api, client=cloudwatch, join_channels=True)
        later = post_graph(alarm_in(), CHANNEL, ts, api=api, client=cloudwatch, join_channels=True)
    (join,) = graph_lines(caplog, "slack graph channel")
    assert (join["outcome"], join["error"]) == ("join_refused", "missing_scope")
    assert "channels:join" in join["fix"]
    assert "/invite" in join["fix"]
    assert first.reason == later.reason == "not_in_channel"
    assert "/invite the app" in (first.error or "")
    assert "channels:join" in (first.error or "")
    # Known after the first refusal: no second join, no billed render, no upload.
    assert len(cloudwatch.widgets) == 1
    assert len(fake.calls_to("conversations.join")) == 1
    assert len(fake.calls_to("files.getUploadURLExternal")) == 1
    assert (later.error or "").startswith("skipped: ")
    assert [line["outcome"] for line in graph_lines(caplog, "slack graph")] == [
        "not_in_channel",
        "not_in_channel",
    ]
    assert_text_alone(fake)


def test_an_invited_app_without_channels_join_still_gets_its_graphs(
    clock: SharedClock, stopped: list[FakeSlackApi]
) -> None:
    fake, api = app_in(clock, scopes=JOIN_SCOPES - {"channels:join"}, member=True)
    stopped.append(fake)
    ts = posted_message(api)
    for _ in range(2):
        outcome = post_graph(
            alarm_in(), CHANNEL, ts, api=api, client=FakeCloudWatch(), join_channels=True
        )
        assert outcome.posted
    assert len(fake.calls_to("conversations.join")) == 1


def test_a_private_channel_is_not_joined_and_its_invited_app_uploads(
    clock: SharedClock, stopped: list[FakeSlackApi], caplog: pytest.LogCaptureFixture
) -> None:
    fake, api = app_in(clock, private=True, member=True)
    stopped.append(fake)
    ts = posted_message(api)
    with caplog.at_level(logging.INFO, logger="alarm_to_slack"):
        outcome = post_graph(
            alarm_in(), CHANNEL, ts, api=api, client=FakeCloudWatch(), join_channels=True
        )
    assert outcome.posted
    (join,) = graph_lines(caplog, "slack graph channel")
    assert join["error"] == "method_not_supported_for_channel_type"
    assert [r.levelno for r in caplog.records if "slack graph channel" in r.message] == [
        logging.INFO
    ]


def test_with_joining_off_the_app_never_joins(
    clock: SharedClock, stopped: list[FakeSlackApi]
) -> None:
    fake, api = app_in(clock, member=False)
    stopped.append(fake)
    ts = posted_message(api)
    outcome = post_graph(alarm_in(), CHANNEL, ts, api=api, client=FakeCloudWatch())
    assert outcome.reason == "not_in_channel"
    assert fake.calls_to("conversations.join") == []


def test_an_app_removed_from_a_joined_channel_joins_again(
    clock: SharedClock, stopped: list[FakeSlackApi]
) -> None:
    fake, api = app_in(clock, member=False)
    stopped.append(fake)
    ts = posted_message(api)

    def graph_now() -> str:
        return post_graph(
            alarm_in(), CHANNEL, ts, api=api, client=FakeCloudWatch(), join_channels=True
        ).reason

    assert graph_now() == "posted"
    fake.set_channel(CHANNEL, member=False)  # someone removed the app
    assert graph_now() == "not_in_channel"
    assert graph_now() == "posted"
    assert len(fake.calls_to("conversations.join")) == 2


def test_a_join_that_fails_for_now_is_tried_again_with_the_next_graph(
    fake: FakeSlackApi, api: SlackApi
) -> None:
    ts = posted_message(api)
    fake.fail_next("conversations.join", "internal_error", count=POLICY.max_attempts)
    fake.fail_next("files.getUploadURLExternal", "file_uploads_disabled")
    first = post_graph(
        alarm_in(), CHANNEL, ts, api=api, client=FakeCloudWatch(), join_channels=True
    )
    assert first.reason == "upload_failed"  # nothing learnt about the channel either way
    second = post_graph(
        alarm_in(), CHANNEL, ts, api=api, client=FakeCloudWatch(), join_channels=True
    )
    assert second.posted
    assert len(fake.calls_to("conversations.join")) == POLICY.max_attempts + 1


# --- alarms of other accounts ---------------------------------------------------------------------

HOME = "111122223333"


def foreign(account: str = "444455556666", name: str = "payments-db") -> Alarm:
    return replace(alarm_in(), account=account, name=name)


def test_an_alarm_of_an_unlisted_account_gets_a_note_instead_of_a_wrong_graph(
    fake: FakeSlackApi, api: SlackApi
) -> None:
    ts = posted_message(api)
    cloudwatch = FakeCloudWatch()
    (outcome,) = graph.post_graphs(
        [(foreign(), CHANNEL, ts)], api=api, client=cloudwatch, home_account=HOME
    )
    assert (outcome.posted, outcome.reason, outcome.account) == (
        False,
        "cross_account",
        "444455556666",
    )
    assert cloudwatch.widgets == []
    assert file_calls(fake) == []
    (message,) = fake.messages(CHANNEL)
    (note,) = message.replies
    assert note.text.startswith(":information_source: Graph not available")
    assert "444455556666" in note.text
    assert "slack_graph_cross_account_ids" in note.text


def test_one_note_per_thread_and_account(fake: FakeSlackApi, api: SlackApi) -> None:
    ts = posted_message(api)
    jobs = [(foreign(name=f"db-{i}"), CHANNEL, ts) for i in range(3)]
    jobs.append((foreign("777788889999"), CHANNEL, ts))
    outcomes = graph.post_graphs(jobs, api=api, client=FakeCloudWatch(), home_account=HOME)
    assert [o.reason for o in outcomes] == ["cross_account"] * 4
    (message,) = fake.messages(CHANNEL)
    assert ["444455556666" in r.text for r in message.replies] == [True, False]
    assert "777788889999" in message.replies[1].text


def test_a_listed_account_is_drawn_from_that_account(fake: FakeSlackApi, api: SlackApi) -> None:
    ts = posted_message(api)
    cloudwatch = FakeCloudWatch()
    (outcome,) = graph.post_graphs(
        [(foreign(), CHANNEL, ts)],
        api=api,
        client=cloudwatch,
        home_account=HOME,
        cross_account_ids=("444455556666",),
    )
    assert outcome.posted
    ((*_, options),) = cloudwatch.widgets[0]["metrics"]
    assert options["accountId"] == "444455556666"


def test_the_functions_own_account_is_drawn_as_always(fake: FakeSlackApi, api: SlackApi) -> None:
    ts = posted_message(api)
    cloudwatch = FakeCloudWatch()
    (outcome,) = graph.post_graphs(
        [(foreign(HOME), CHANNEL, ts)], api=api, client=cloudwatch, home_account=HOME
    )
    assert outcome.posted
    assert "accountId" not in json.dumps(cloudwatch.widgets)
    (message,) = fake.messages(CHANNEL)
    assert [bool(r.content.get("files")) for r in message.replies] == [True]


# --- a byte POST whose answer was lost ----------------------------------------------------------


def slow_upload_api(fake: FakeSlackApi, clock: SharedClock) -> SlackApi:
    policy = RetryPolicy(max_attempts=3, request_timeout=0.3, base_delay=0.1, max_delay=0.2)
    return SlackApi(DEFAULT_TOKEN, base_url=fake.base_url, policy=policy, clock=clock)


def test_bytes_that_arrived_unanswered_are_still_shared(
    fake: FakeSlackApi, clock: SharedClock
) -> None:
    """The first POST lands but its answer is lost; the single-use URL refuses the retry: the
    upload is completed anyway, once, and the graph is there."""
    api = slow_upload_api(fake, clock)
    ts = posted_message(api)
    receive = fake._receive_upload
    answers: list[int] = []

    def lands_then_stalls(file_id: str, body: bytes) -> Answer:
        answer = receive(file_id, body)
        answers.append(answer.status)
        if len(answers) == 1:
            time.sleep(0.6)  # after the client's 0.3 s timeout
        return answer

    fake._receive_upload = lands_then_stalls  # type: ignore[method-assign]
    outcome = post_graph(alarm_in(), CHANNEL, ts, api=api, client=FakeCloudWatch())
    assert answers == [200, 404]
    assert outcome.posted
    assert len(fake.calls_to("files.completeUploadExternal")) == 1
    (message,) = fake.messages(CHANNEL)
    assert len(message.replies) == 1


def test_bytes_that_never_arrived_end_in_one_refused_completion(
    fake: FakeSlackApi, clock: SharedClock
) -> None:
    api = slow_upload_api(fake, clock)
    ts = posted_message(api)
    attempts: list[int] = []

    def stalls_then_refuses(file_id: str, body: bytes) -> Answer:
        attempts.append(len(body))
        if len(attempts) == 1:
            time.sleep(0.6)  # nothing stored, no answer in time
            return Answer({"ok": False}, 500)
        return Answer({"ok": False, "error": "upload_url_invalid"}, 404)

    fake._receive_upload = stalls_then_refuses  # type: ignore[method-assign]
    outcome = post_graph(alarm_in(), CHANNEL, ts, api=api, client=FakeCloudWatch())
    assert (outcome.posted, outcome.error) == (False, "complete: file_not_found")
    assert len(fake.calls_to("files.completeUploadExternal")) == 1
    assert_text_alone(fake)


def test_a_refused_byte_post_without_a_lost_answer_is_not_completed(
    fake: FakeSlackApi, api: SlackApi
) -> None:
    ts = posted_message(api)
    fake._receive_upload = lambda file_id, body: Answer({"ok": False}, 404)  # type: ignore[method-assign]
    outcome = post_graph(alarm_in(), CHANNEL, ts, api=api, client=FakeCloudWatch())
    assert outcome.error == "upload: permanent_error: HTTP 404"
    assert fake.calls_to("files.completeUploadExternal") == []
