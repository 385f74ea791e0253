"""Metric graphs through the handler in Slack app mode: text first, graph in the thread, and a
failing graph never fails a record."""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

import graph
import handler
from handler import handle_event
from settings import load_settings
from slack import RetryPolicy
from support.app_mode import SharedClock, sns_alarm_event
from support.fake_slack_api import DEFAULT_TOKEN, FakeSlackApi
from support.memory_state import MemoryState
from support.moto_server import tiny_png
from support.storm import START, alarm_message, sns_envelope, sqs_event

ALERTS = "C0ALERTS01"
PARAMETER = "/alerts/slack-bot-token"
POLICY = RetryPolicy(max_attempts=3, request_timeout=2.0, base_delay=0.1, max_delay=0.2)
PNG = tiny_png(80, 40)
HOME = "123456789012"  # the function's account, and the sample alarms' (sns_alarm_event)
# The app as the README sets it up: posting to public channels through chat:write.public (it
# is not a member of #alerts), joining them for graphs through channels:join.
SCOPES = frozenset({"chat:write", "chat:write.public", "files:write", "channels:join"})


class Context:
    invoked_function_arn = f"arn:aws:lambda:ap-northeast-2:{HOME}:function:alerts"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


class FakeCloudWatch:
    """Stands in for the boto3 CloudWatch client graph.render_png uses; logs into `timeline`."""

    def __init__(self, timeline: list[str], error: Exception | None = None) -> None:
        self.timeline = timeline
        self.error = error
        self.widgets: list[dict[str, Any]] = []

    def get_metric_widget_image(self, **kwargs: Any) -> dict[str, Any]:
        widget = json.loads(kwargs["MetricWidget"])
        self.widgets.append(widget)
        self.timeline.append(f"widget {widget['title']}")
        if self.error is not None:
            raise self.error
        return {"MetricWidgetImage": PNG}


@pytest.fixture(autouse=True)
def _fresh_container() -> Iterator[None]:
    handler.reset_caches()
    graph.forget_channels()
    yield
    handler.reset_caches()
    graph.forget_channels()
    graph._client = None


@pytest.fixture
def ssm(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "ap-northeast-2",
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        client = boto3.client("ssm", region_name="ap-northeast-2")
        client.put_parameter(Name=PARAMETER, Value=DEFAULT_TOKEN, Type="SecureString")
        yield client


@pytest.fixture
def clock() -> SharedClock:
    return SharedClock()


@pytest.fixture
def fake(clock: SharedClock) -> Iterator[FakeSlackApi]:
    with FakeSlackApi(channels={ALERTS: "alerts"}, scopes=SCOPES, clock=clock) as api:
        api.set_channel(ALERTS, member=False)
        yield api


@pytest.fixture
def timeline(fake: FakeSlackApi) -> list[str]:
    """What happened, in order: Slack calls (from the fake) and widget calls (from CloudWatch)."""
    events: list[str] = []
    original = fake.answer

    def recording(
        method: str, authorization: str | None, arguments: object, *, form: bool = False
    ) -> Any:
        events.append(method)
        return original(method, authorization, arguments, form=form)

    fake.answer = recording  # type: ignore[method-assign]
    return events


def graph_lines(caplog: pytest.LogCaptureFixture, message: str = "slack graph") -> list[Any]:
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "alarm_to_slack"]
    return [line for line in lines if line.get("message") == message]


def use_cloudwatch(client: FakeCloudWatch) -> None:
    """The container's CloudWatch client (graph._client), as boto3 would have made it."""
    graph._client = client


class Harness:
    """The handler in app mode as Lambda would invoke it, one container (state kept)."""

    def __init__(self, fake: FakeSlackApi, clock: SharedClock, **env: str) -> None:
        self.state = MemoryState()
        self.clock = clock
        self.settings = load_settings(
            {
                "SLACK_BOT_TOKEN_SSM_PARAMETER": PARAMETER,
                "SLACK_CHANNEL_ID": ALERTS,
                "SLACK_API_BASE_URL": fake.base_url,
                "SLACK_GRAPHS": "true",
                "TIMEZONE": "Asia/Seoul",
                **env,
            }
        )

    def __call__(self, event: object) -> Any:
        return handle_event(
            event,
            Context(),
            settings=self.settings,
            state=self.state,
            policy=POLICY,
            sleep=self.clock.sleep,
            clock=self.clock,
        )


ALARM = sns_alarm_event("ALARM", message_id="m-1", time="2024-05-14T07:21:04.987+0000")
OK = sns_alarm_event("OK", message_id="m-2", time="2024-05-14T07:29:30.000+0000")


def test_alarm_text_is_posted_first_and_its_graph_lands_in_its_thread(
    ssm: Any, fake: FakeSlackApi, clock: SharedClock, timeline: list[str]
) -> None:
    cloudwatch = FakeCloudWatch(timeline)
    use_cloudwatch(cloudwatch)
    assert Harness(fake, clock)(ALARM) == {"records": 1, "delivered": 1, "failed": 0}
    assert timeline == [
        "chat.postMessage",
        "conversations.join",  # files need membership; chat:write.public posted the text
        "widget prod-web-1-cpu",
        "files.getUploadURLExternal",
        "files.completeUploadExternal",
    ]
    (message,) = fake.messages(ALERTS)
    assert message.text.startswith(":rotating_light:")
    (reply,) = message.replies
    assert reply.content["files"][0]["title"] == "prod-web-1-cpu"
    (upload,) = fake.files.values()
    assert upload.content == PNG
    assert upload.shared_in == (ALERTS, message.ts)
    (widget,) = cloudwatch.widgets
    assert widget["timezone"] == "+0900"
    assert widget["start"] == "2024-05-14T04:21:04.987Z"


def test_the_window_setting_reaches_the_widget(
    ssm: Any, fake: FakeSlackApi, clock: SharedClock, timeline: list[str]
) -> None:
    cloudwatch = FakeCloudWatch(timeline)
    use_cloudwatch(cloudwatch)
    Harness(fake, clock, SLACK_GRAPH_WINDOW_MINUTES="60")(ALARM)
    (widget,) = cloudwatch.widgets
    assert widget["start"] == "2024-05-14T06:21:04.987Z"


def test_the_ok_that_resolves_the_alarm_draws_no_second_graph(
    ssm: Any, fake: FakeSlackApi, clock: SharedClock, timeline: list[str]
) -> None:
    cloudwatch = FakeCloudWatch(timeline)
    use_cloudwatch(cloudwatch)
    invoke = Harness(fake, clock)
    invoke(ALARM)
    assert invoke(OK) == {"records": 1, "delivered": 1, "failed": 0}
    assert len(cloudwatch.widgets) == 1
    (message,) = fake.messages(ALERTS)
    assert message.edited  # resolved in place
    assert [bool(r.content.get("files")) for r in message.replies] == [True, False]


def test_graphs_switched_off_make_no_widget_call(
    ssm: Any, fake: FakeSlackApi, clock: SharedClock, timeline: list[str]
) -> None:
    cloudwatch = FakeCloudWatch(timeline)
    use_cloudwatch(cloudwatch)
    assert Harness(fake, clock, SLACK_GRAPHS="false")(ALARM)["delivered"] == 1
    assert cloudwatch.widgets == []
    assert timeline == ["chat.postMessage"]


def test_a_throttled_widget_call_still_delivers_and_acknowledges_the_record(
    ssm: Any,
    fake: FakeSlackApi,
    clock: SharedClock,
    timeline: list[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    throttled = ClientError({"Error": {"Code": "Throttling", "Message": "Rate exceeded"}}, "Get")
    use_cloudwatch(FakeCloudWatch(timeline, throttled))
    event = sqs_event([sns_envelope(alarm_message("web-1"))])
    with caplog.at_level(logging.INFO, logger="alarm_to_slack"):
        assert Harness(fake, clock)(event) == {"batchItemFailures": []}
    (message,) = fake.messages(ALERTS)
    assert "web-1" in message.text
    assert message.replies == []
    assert [line["outcome"] for line in graph_lines(caplog)] == ["throttled"]


@pytest.mark.parametrize(
    ("method", "error"),
    [
        ("files.getUploadURLExternal", "missing_scope"),
        ("files.completeUploadExternal", "not_in_channel"),
    ],
)
def test_a_failing_upload_still_delivers_and_acknowledges_the_record(
    ssm: Any, fake: FakeSlackApi, clock: SharedClock, method: str, error: str
) -> None:
    use_cloudwatch(FakeCloudWatch([]))
    fake.fail_next(method, error)
    invoke = Harness(fake, clock)
    envelope = sns_envelope(alarm_message("web-1"))
    assert invoke(sqs_event([envelope])) == {"batchItemFailures": []}
    (message,) = fake.messages(ALERTS)
    assert message.replies == []
    # The record counts as delivered for good: its redelivery posts nothing, draws nothing.
    assert invoke(sqs_event([envelope])) == {"batchItemFailures": []}
    assert len(fake.calls_to("chat.postMessage")) == 1
    assert len(fake.calls_to("files.getUploadURLExternal")) == 1


def test_a_graph_that_breaks_unexpectedly_never_fails_the_invocation(
    ssm: Any, fake: FakeSlackApi, clock: SharedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("bug in the graph code")

    monkeypatch.setattr(graph, "widget_for", broken)
    assert Harness(fake, clock)(ALARM) == {"records": 1, "delivered": 1, "failed": 0}
    (message,) = fake.messages(ALERTS)
    assert message.replies == []


def test_a_storm_digest_gets_graphs_for_its_first_three_alarms_in_its_thread(
    ssm: Any, fake: FakeSlackApi, clock: SharedClock, timeline: list[str]
) -> None:
    cloudwatch = FakeCloudWatch(timeline)
    use_cloudwatch(cloudwatch)
    storm = [alarm_message(f"web-{i}", when=START + dt.timedelta(seconds=i)) for i in range(8)]
    invoke = Harness(fake, clock)
    assert invoke(sqs_event([sns_envelope(m) for m in storm])) == {"batchItemFailures": []}
    (digest,) = fake.messages(ALERTS)
    assert "8 alarms changed state" in digest.text
    titles = [reply.content["files"][0]["title"] for reply in digest.replies]
    assert titles == ["web-0", "web-1", "web-2"]
    assert [w["title"] for w in cloudwatch.widgets] == titles
    # Every text was posted before the first graph was asked for.
    first_widget = timeline.index("widget web-0")
    assert "chat.postMessage" not in timeline[first_widget:]


# --- the README's setup in real Slack: public channel through chat:write.public -------------------


def test_without_channels_join_the_alert_stands_and_the_log_names_the_fix(
    ssm: Any, clock: SharedClock, caplog: pytest.LogCaptureFixture
) -> None:
    use_cloudwatch(FakeCloudWatch([]))
    scopes = SCOPES - {"channels:join"}
    with FakeSlackApi(channels={ALERTS: "alerts"}, scopes=scopes, clock=clock) as fake:
        fake.set_channel(ALERTS, member=False)
        invoke = Harness(fake, clock)
        with caplog.at_level(logging.INFO, logger="alarm_to_slack"):
            assert invoke(ALARM) == {"records": 1, "delivered": 1, "failed": 0}
        (message,) = fake.messages(ALERTS)
        assert message.replies == []
        (join,) = graph_lines(caplog, "slack graph channel")
        assert join["error"] == "missing_scope"
        assert "channels:join" in join["fix"]
        (line,) = graph_lines(caplog)
        assert line["outcome"] == "not_in_channel"
        assert "/invite the app" in line["error"]


def test_joining_switched_off_never_joins(
    ssm: Any, fake: FakeSlackApi, clock: SharedClock, timeline: list[str]
) -> None:
    use_cloudwatch(FakeCloudWatch(timeline))
    assert Harness(fake, clock, SLACK_GRAPH_JOIN_CHANNELS="false")(ALARM)["delivered"] == 1
    assert "conversations.join" not in timeline
    (message,) = fake.messages(ALERTS)
    assert message.replies == []  # not a member: Slack refused the file


# --- alarms forwarded from other accounts ---------------------------------------------------------

MEMBER = "444455556666"
FOREIGN = sns_alarm_event("ALARM", message_id="m-9", name="payments-db", account=MEMBER)


def test_an_alarm_of_another_account_gets_a_note_in_its_thread_not_a_graph(
    ssm: Any, fake: FakeSlackApi, clock: SharedClock, timeline: list[str]
) -> None:
    cloudwatch = FakeCloudWatch(timeline)
    use_cloudwatch(cloudwatch)
    env = {"MESSAGE_LANGUAGE": "ko", "ACCOUNT_NAMES": json.dumps({MEMBER: "payments <!here>"})}
    assert Harness(fake, clock, **env)(FOREIGN) == {"records": 1, "delivered": 1, "failed": 0}
    assert cloudwatch.widgets == []
    assert timeline == ["chat.postMessage", "chat.postMessage"]
    (message,) = fake.messages(ALERTS)
    (note,) = message.replies
    assert "그래프 없음" in note.text
    assert "payments &lt;!here&gt; (444455556666)" in note.text  # names cannot mention
    assert "slack_graph_cross_account_ids" in note.text


def test_a_listed_account_is_drawn_from_that_account(
    ssm: Any, fake: FakeSlackApi, clock: SharedClock, timeline: list[str]
) -> None:
    cloudwatch = FakeCloudWatch(timeline)
    use_cloudwatch(cloudwatch)
    invoke = Harness(fake, clock, SLACK_GRAPH_CROSS_ACCOUNT_IDS=MEMBER)
    assert invoke(FOREIGN)["delivered"] == 1
    (widget,) = cloudwatch.widgets
    assert widget["metrics"][0][-1]["accountId"] == MEMBER
    (message,) = fake.messages(ALERTS)
    assert [bool(r.content.get("files")) for r in message.replies] == [True]
