"""Slack app mode through the handler: token from SSM, routes, idempotency, SQS batches."""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

import handler
from handler import DeliveryError, handle_event
from settings import ConfigError, load_settings
from slack import RetryPolicy
from support.app_mode import SharedClock, sns_alarm_event
from support.fake_slack_api import DEFAULT_TOKEN, FakeSlackApi
from support.memory_state import MemoryState
from support.storm import START, alarm_message, sns_envelope, sqs_event, sqs_record

ALERTS, DATABASE = "C0ALERTS01", "C0DATABASE"
PARAMETER = "/alerts/slack-bot-token"
POLICY = RetryPolicy(max_attempts=3, request_timeout=2.0, base_delay=0.1, max_delay=0.2)


class Context:
    def __init__(self, remaining_ms: int = 30_000) -> None:
        self.remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


@pytest.fixture(autouse=True)
def _fresh_container() -> Iterator[None]:
    handler.reset_caches()
    yield
    handler.reset_caches()


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
    with FakeSlackApi(channels={ALERTS: "alerts", DATABASE: "db-oncall"}, clock=clock) as api:
        yield api


class Harness:
    """Invokes the handler in app mode as Lambda would, one container (state kept)."""

    def __init__(self, fake: FakeSlackApi, clock: SharedClock, **env: str) -> None:
        self.state = MemoryState()
        self.clock = clock
        self.settings = load_settings(
            {
                "SLACK_BOT_TOKEN_SSM_PARAMETER": PARAMETER,
                "SLACK_CHANNEL_ID": ALERTS,
                "SLACK_API_BASE_URL": fake.base_url,
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


def test_alarm_then_ok_is_one_message_resolved_in_place_with_one_reply(
    ssm: Any, fake: FakeSlackApi, clock: SharedClock
) -> None:
    invoke = Harness(fake, clock)
    alarm = sns_alarm_event("ALARM", message_id="m-1", time="2024-05-14T07:21:04.987+0000")
    ok = sns_alarm_event("OK", message_id="m-2", time="2024-05-14T07:29:30.000+0000")
    assert invoke(alarm) == {"records": 1, "delivered": 1, "failed": 0}
    assert invoke(ok) == {"records": 1, "delivered": 1, "failed": 0}
    assert fake.transcript(ALERTS) == (
        ":white_check_mark: *Resolved after 8 min*: prod-web-1-cpu (edited)\n"
        "  ↳ :white_check_mark: *OK*: prod-web-1-cpu"
    )
    assert {c.authorization for c in fake.calls} == {"Bearer"}
    assert all(c.content_type == "application/json; charset=utf-8" for c in fake.calls)


def test_a_redelivered_record_posts_nothing(
    ssm: Any, fake: FakeSlackApi, clock: SharedClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="alarm_to_slack")
    invoke = Harness(fake, clock)
    alarm = sns_alarm_event("ALARM", message_id="m-1", time="2024-05-14T07:21:04.987+0000")
    invoke(alarm)
    calls = len(fake.calls)
    assert invoke(alarm) == {"records": 1, "delivered": 1, "failed": 0}
    assert len(fake.calls) == calls, "the replay made no Web API call"
    assert "record delivered before; not posted again" in caplog.text


def test_a_failed_record_is_tried_again_on_redelivery(
    ssm: Any, fake: FakeSlackApi, clock: SharedClock
) -> None:
    invoke = Harness(fake, clock)
    alarm = sns_alarm_event("ALARM", message_id="m-1", time="2024-05-14T07:21:04.987+0000")
    fake.fail_next("chat.postMessage", "channel_not_found")
    with pytest.raises(DeliveryError, match="permanent_error"):
        invoke(alarm)
    invoke(alarm)
    assert len(fake.messages(ALERTS)) == 1


def test_routes_send_alarms_to_their_channels(
    ssm: Any, fake: FakeSlackApi, clock: SharedClock
) -> None:
    routes = [{"channel_id": DATABASE, "alarm_name_prefix": "prod-db-"}]
    invoke = Harness(fake, clock, SLACK_ROUTES=json.dumps(routes))
    invoke(sns_alarm_event("ALARM", message_id="a", name="prod-db-primary-cpu"))
    invoke(sns_alarm_event("ALARM", message_id="b", name="prod-web-1-cpu"))
    assert [m.text for m in fake.messages(DATABASE)] == [
        ":rotating_light: *ALARM*: prod-db-primary-cpu"
    ]
    assert [m.text for m in fake.messages(ALERTS)] == [":rotating_light: *ALARM*: prod-web-1-cpu"]


def test_sqs_batch_reports_exactly_the_records_slack_refused(
    ssm: Any, fake: FakeSlackApi, clock: SharedClock
) -> None:
    routes = [{"channel_id": DATABASE, "alarm_name_prefix": "db-"}]
    invoke = Harness(fake, clock, SLACK_ROUTES=json.dumps(routes))
    fake.channels[DATABASE].archived = True
    web = sqs_record(sns_envelope(alarm_message("web-1")), message_id="q-web")
    db = sqs_record(sns_envelope(alarm_message("db-1")), message_id="q-db")
    result = invoke({"Records": [web, db]})
    assert result == {"batchItemFailures": [{"itemIdentifier": "q-db"}]}
    assert len(fake.messages(ALERTS)) == 1


def test_a_record_held_by_another_invocation_comes_back_later(
    ssm: Any, fake: FakeSlackApi, clock: SharedClock
) -> None:
    invoke = Harness(fake, clock)
    body = sns_envelope(alarm_message("web-1"), message_id="sns-1")
    assert invoke.state.claim("sns-1", lease_seconds=60) == "new"  # another invocation
    result = invoke({"Records": [sqs_record(body, message_id="q-1")]})
    assert result == {"batchItemFailures": [{"itemIdentifier": "q-1"}]}
    assert fake.calls == []


def test_a_storm_digest_is_posted_once_and_resolves_in_its_thread(
    ssm: Any, fake: FakeSlackApi, clock: SharedClock
) -> None:
    invoke = Harness(fake, clock)
    storm = [alarm_message(f"web-{i}") for i in range(5)]
    assert invoke(sqs_event([sns_envelope(m) for m in storm])) == {"batchItemFailures": []}
    (digest,) = fake.messages(ALERTS)
    assert "5 alarms changed state" in digest.text
    later = START + dt.timedelta(minutes=12)
    oks = [alarm_message(f"web-{i}", state="OK", when=later) for i in range(2)]
    invoke(sqs_event([sns_envelope(m) for m in oks]))
    (digest,) = fake.messages(ALERTS)
    assert len(digest.replies) == 2
    assert digest.content["attachments"][0]["blocks"][0]["text"]["text"].endswith("→ 3 still open")


def test_the_token_is_read_once_per_container_and_never_logged(
    ssm: Any,
    fake: FakeSlackApi,
    clock: SharedClock,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    caplog.set_level(logging.DEBUG, logger="alarm_to_slack")
    reads = []
    original = boto3.client

    def counting_client(service: str, *args: Any, **kwargs: Any) -> Any:
        if service == "ssm":
            reads.append(service)
        return original(service, *args, **kwargs)

    monkeypatch.setattr(boto3, "client", counting_client)
    invoke = Harness(fake, clock)
    invoke(sns_alarm_event("ALARM", message_id="a"))
    invoke(sns_alarm_event("ALARM", message_id="b", name="other"))
    assert reads == ["ssm"]
    assert DEFAULT_TOKEN not in caplog.text
    assert DEFAULT_TOKEN not in json.dumps([c.arguments for c in fake.calls])


def test_a_revoked_token_is_read_again_on_the_next_invocation(
    ssm: Any, fake: FakeSlackApi, clock: SharedClock
) -> None:
    invoke = Harness(fake, clock)
    fake.token = "xoxb-new-token-after-reinstall"  # noqa: S105 - a test value
    with pytest.raises(DeliveryError):
        invoke(sns_alarm_event("ALARM", message_id="a"))
    ssm.put_parameter(Name=PARAMETER, Value=fake.token, Type="SecureString", Overwrite=True)
    invoke(sns_alarm_event("ALARM", message_id="a"))
    assert len(fake.messages(ALERTS)) == 1


def test_a_parameter_without_a_bot_token_is_a_configuration_error(
    ssm: Any, fake: FakeSlackApi, clock: SharedClock
) -> None:
    ssm.put_parameter(
        Name=PARAMETER, Value="https://hooks.slack.com/x", Type="SecureString", Overwrite=True
    )
    with pytest.raises(ConfigError, match="does not hold a Slack bot token") as raised:
        Harness(fake, clock)(sns_alarm_event("ALARM", message_id="a"))
    assert "hooks.slack.com" not in str(raised.value)


def test_app_mode_without_a_state_table_is_a_configuration_error(
    fake: FakeSlackApi, clock: SharedClock
) -> None:
    invoke = Harness(fake, clock)
    with pytest.raises(ConfigError, match="SLACK_STATE_TABLE"):
        handle_event(sns_alarm_event("ALARM", message_id="a"), Context(), settings=invoke.settings)


# --- settings -------------------------------------------------------------------------------

APP = {"SLACK_BOT_TOKEN_SSM_PARAMETER": PARAMETER, "SLACK_CHANNEL_ID": ALERTS}


def test_app_settings_are_read_and_validated() -> None:
    settings = load_settings(
        {
            **APP,
            "SLACK_ROUTES": '[{"channel_id": "C0DB", "alarm_name_prefix": "db-"}]',
            "SLACK_REPLY_BROADCAST": "true",
            "SLACK_STATE_TABLE": "alerts-slack-state",
            "SLACK_STATE_TTL_DAYS": "7",
            "SLACK_GROUP_INTERVAL_SECONDS": "600",
        }
    )
    assert settings.app_mode
    assert settings.group_interval_seconds == 600
    assert load_settings(APP).group_interval_seconds == 300, "Alertmanager's group_interval"
    assert settings.routes[0].channel_id == "C0DB"
    assert settings.reply_broadcast
    assert (settings.state_table, settings.state_ttl_days) == ("alerts-slack-state", 7)
    assert settings.api_base_url == "https://slack.com/api/"
    assert not load_settings({"SLACK_WEBHOOK_URL": "https://hooks.slack.com/x"}).app_mode


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"SLACK_WEBHOOK_URL": "https://hooks.slack.com/x"}, "set exactly one"),
        ({"SLACK_WEBHOOK_SSM_PARAMETER": "/x"}, "set exactly one"),
        ({"SLACK_CHANNEL_ID": ""}, "SLACK_CHANNEL_ID is required"),
        ({"SLACK_CHANNEL_ID": "not a channel"}, "is not a channel ID"),
        ({"SLACK_API_BASE_URL": "https://evil.example/api/"}, "SLACK_API_BASE_URL"),
        ({"SLACK_API_BASE_URL": "http://slack.com/api/"}, "SLACK_API_BASE_URL"),
    ],
)
def test_bad_app_settings_are_rejected_clearly(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings({**APP, **env})


@pytest.mark.parametrize(
    ("env", "note"),
    [
        (
            {"SLACK_ROUTES": '[{"channel_id": "C1", "alarm_name_regex": "("}]'},
            "SLACK_ROUTES: route 0: alarm_name_regex '(' is invalid",
        ),
        ({"SLACK_REPLY_BROADCAST": "yes"}, "SLACK_REPLY_BROADCAST='yes' is not true or false"),
        ({"SLACK_STATE_TTL_DAYS": "0"}, "SLACK_STATE_TTL_DAYS"),
        ({"SLACK_GROUP_INTERVAL_SECONDS": "3601"}, "SLACK_GROUP_INTERVAL_SECONDS"),
        ({"SLACK_GROUP_INTERVAL_SECONDS": "soon"}, "SLACK_GROUP_INTERVAL_SECONDS"),
    ],
)
def test_wrong_routing_or_display_settings_fall_back_with_a_note(
    env: dict[str, str], note: str
) -> None:
    settings = load_settings({**APP, **env})
    assert any(n.startswith(note) for n in settings.notes), settings.notes
    assert settings.routes == ()
    assert not settings.reply_broadcast
    assert settings.state_ttl_days == 30


def test_webhook_mode_does_not_import_app_mode_modules() -> None:
    import subprocess  # noqa: PLC0415
    import sys  # noqa: PLC0415

    from support import REPO_ROOT  # noqa: PLC0415

    code = (
        "import sys, handler\n"
        "handler.handle_event({}, None, settings=handler.load_settings("
        "{'SLACK_WEBHOOK_URL': 'https://hooks.slack.com/x'}))\n"
        "print(sorted(m for m in ('boto3', 'routing', 'slack_api', 'slack_app', 'state')"
        " if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO_ROOT / "lambda",
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "[]"


def test_the_same_record_twice_in_one_batch_is_posted_once_and_acknowledged(
    ssm: Any, fake: FakeSlackApi, clock: SharedClock
) -> None:
    invoke = Harness(fake, clock)
    body = sns_envelope(alarm_message("web-1"), message_id="sns-1")
    event = {"Records": [sqs_record(body, message_id="q-1"), sqs_record(body, message_id="q-2")]}
    assert invoke(event) == {"batchItemFailures": []}
    assert len(fake.messages(ALERTS)) == 1
    assert invoke.state.claim("sns-1", lease_seconds=1) == "done"


def test_a_claim_that_raises_still_delivers_every_record(
    ssm: Any, fake: FakeSlackApi, clock: SharedClock
) -> None:
    invoke = Harness(fake, clock)

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("ProvisionedThroughputExceededException")

    invoke.state.claim_many = broken  # type: ignore[method-assign]
    invoke.state.claim = broken  # type: ignore[method-assign]
    web = sqs_record(sns_envelope(alarm_message("web-1")), message_id="q-web")
    db = sqs_record(sns_envelope(alarm_message("db-1")), message_id="q-db")
    assert invoke({"Records": [web, db]}) == {"batchItemFailures": []}
    assert [m.text for m in fake.messages(ALERTS)] == [
        ":rotating_light: *ALARM*: web-1",
        ":rotating_light: *ALARM*: db-1",
    ], "a duplicate is better than a lost alert"


def test_an_ok_whose_reply_failed_resolves_in_place_on_redelivery(
    ssm: Any, fake: FakeSlackApi, clock: SharedClock
) -> None:
    invoke = Harness(fake, clock)
    alarm = sns_alarm_event("ALARM", message_id="m-1", time="2024-05-14T07:21:04.987+0000")
    ok = sns_alarm_event("OK", message_id="m-2", time="2024-05-14T07:29:30.000+0000")
    invoke(alarm)
    # A Retry-After longer than we may wait: the reply is not posted this time.
    fake.fail_next("chat.postMessage", "ratelimited", status=429, headers={"Retry-After": "600"})
    with pytest.raises(DeliveryError):
        invoke(ok)
    assert len(fake.messages(ALERTS)) == 1
    assert invoke.state.messages[message_ts_key(invoke)].state == "ALARM", "not closed yet"
    clock.now += 60  # Lambda's asynchronous retry
    assert invoke(ok) == {"records": 1, "delivered": 1, "failed": 0}
    assert fake.transcript(ALERTS) == (
        ":white_check_mark: *Resolved after 8 min*: prod-web-1-cpu (edited)\n"
        "  ↳ :white_check_mark: *OK*: prod-web-1-cpu"
    )


def message_ts_key(invoke: Harness) -> str:
    (key,) = invoke.state.messages
    return key


@pytest.mark.parametrize("error", ["invalid_blocks", "msg_blocks_too_long", "invalid_attachments"])
def test_a_refused_digest_is_posted_in_plain_text_and_owns_its_alarms(
    ssm: Any, fake: FakeSlackApi, clock: SharedClock, error: str
) -> None:
    invoke = Harness(fake, clock)
    storm = [alarm_message(f"web-{i}") for i in range(5)]
    fake.fail_next("chat.postMessage", error)
    assert invoke(sqs_event([sns_envelope(m) for m in storm])) == {"batchItemFailures": []}
    (digest,) = fake.messages(ALERTS)
    assert "attachments" not in digest.content, "the plain form"
    assert all(f"web-{i}" in digest.text for i in range(5))
    assert {m.ts for m in invoke.state.messages.values()} == {digest.ts}
    later = START + dt.timedelta(minutes=12)
    invoke(sqs_event([sns_envelope(alarm_message("web-1", state="OK", when=later))]))
    assert [r.text for r in digest.replies] == [":white_check_mark: *OK*: web-1"]


def test_a_refused_alarm_message_is_posted_in_its_plain_form(
    ssm: Any, fake: FakeSlackApi, clock: SharedClock
) -> None:
    invoke = Harness(fake, clock)
    fake.fail_next("chat.postMessage", "invalid_blocks")
    alarm = sns_alarm_event("ALARM", message_id="m-1", time="2024-05-14T07:21:04.987+0000")
    assert invoke(alarm) == {"records": 1, "delivered": 1, "failed": 0}
    (message,) = fake.messages(ALERTS)
    assert "prod-web-1-cpu" in message.text
    assert len(fake.calls_to("chat.postMessage")) == 2
