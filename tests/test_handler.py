"""The entry point: one message per record, one log line per record, raise after all tried."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import traceback
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

import handler
import render
from handler import DeliveryError, handle_event, lambda_handler
from settings import ConfigError, load_settings
from slack import RetryPolicy
from support import REPO_ROOT, load_event
from support.echo_server import EchoServer
from support.fake_slack import FakeSlack, Response

NO_WAIT = RetryPolicy(max_attempts=3, request_timeout=2.0, base_delay=0.0, max_delay=0.0)


class LambdaContext:
    """The part of Lambda's context object the handler uses."""

    def __init__(self, remaining_ms: int) -> None:
        self.remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


@pytest.fixture(autouse=True)
def _fresh_container() -> Iterator[None]:
    handler.reset_caches()
    yield
    handler.reset_caches()


def log_lines(caplog: pytest.LogCaptureFixture) -> list[dict]:
    return [json.loads(r.getMessage()) for r in caplog.records if r.name == "alarm_to_slack"]


def test_lambda_handler_posts_one_message_and_returns_a_summary(
    fake_slack: FakeSlack, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("SLACK_WEBHOOK_URL", fake_slack.url)
    monkeypatch.setenv("TIMEZONE", "Asia/Seoul")
    monkeypatch.setenv("MESSAGE_LANGUAGE", "ko")
    caplog.set_level(logging.INFO, logger="alarm_to_slack")
    result = lambda_handler(load_event("sns-alarm-cpu-high"), LambdaContext(30_000))
    assert result == {"records": 1, "delivered": 1, "failed": 0}
    (body,) = fake_slack.requests
    assert body["text"] == ":rotating_light: *ALARM*: prod-web-1-cpu"
    fields = [f["text"] for b in body["attachments"][0]["blocks"] for f in b.get("fields", [])]
    assert "*발생 시각*\n2024-05-14 16:21:04 KST" in fields
    assert log_lines(caplog) == [
        {
            "message": "slack delivery",
            "event_kind": "sns-alarm",
            "alarm_name": "prod-web-1-cpu",
            "state": "ALARM",
            "outcome": "delivered",
            "attempts": 1,
            "http_status": 200,
            "error": None,
        }
    ]


@pytest.mark.parametrize(
    "name",
    sorted(p.stem for p in (REPO_ROOT / "examples" / "events").glob("*.json")),
)
def test_every_sample_event_is_delivered(name: str, fake_slack: FakeSlack) -> None:
    settings = load_settings({"SLACK_WEBHOOK_URL": fake_slack.url})
    event = load_event(name)
    result = handle_event(event, None, settings=settings, policy=NO_WAIT)
    if name.startswith("sqs-"):
        # An SQS batch answers with the records to retry: none.
        assert result == {"batchItemFailures": []}
        assert fake_slack.requests
    else:
        assert result["failed"] == 0
        assert result["delivered"] == len(fake_slack.requests)
        assert (result["records"] == 0) == (name == "empty-records")
    for body in fake_slack.requests:
        assert body["text"]
        assert body["attachments"][0]["blocks"][0]["type"] == "header"


@pytest.mark.parametrize("event", [{}, {"Records": []}, None])
def test_an_empty_event_is_a_logged_no_op(
    event: object, fake_slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="alarm_to_slack")
    settings = load_settings({"SLACK_WEBHOOK_URL": fake_slack.url})
    assert handle_event(event, None, settings=settings) == {
        "records": 0,
        "delivered": 0,
        "failed": 0,
    }
    assert fake_slack.requests == []
    assert log_lines(caplog) == [{"message": "empty event, nothing to send", "outcome": "noop"}]


def test_each_record_is_attempted_before_the_invocation_raises(
    fake_slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    fake_slack.script([(404, "no_service"), (200, "ok")])
    settings = load_settings({"SLACK_WEBHOOK_URL": fake_slack.url})
    with pytest.raises(DeliveryError, match=r"1 of 2 Slack message\(s\) not delivered"):
        handle_event(load_event("sns-multi-record"), None, settings=settings, policy=NO_WAIT)
    assert [b["text"].rsplit(": ", 1)[1] for b in fake_slack.requests] == [
        "prod-web-1-cpu",
        "prod-web-1-status-check",
    ]
    lines = log_lines(caplog)
    assert [(x["alarm_name"], x["outcome"], x["http_status"], x["error"]) for x in lines] == [
        ("prod-web-1-cpu", "permanent_error", 404, "no_service"),
        ("prod-web-1-status-check", "delivered", 200, None),
    ]
    assert [r.levelname for r in caplog.records if r.name == "alarm_to_slack"] == [
        "ERROR",
        "INFO",
    ]


def test_transient_failures_are_retried_within_the_invocation(fake_slack: FakeSlack) -> None:
    fake_slack.script([(500, "rollup_error"), (429, "rate_limited", {"Retry-After": "2"})])
    sleeps: list[float] = []
    settings = load_settings({"SLACK_WEBHOOK_URL": fake_slack.url})
    result = handle_event(
        load_event("sns-ok"), None, settings=settings, policy=NO_WAIT, sleep=sleeps.append
    )
    assert result == {"records": 1, "delivered": 1, "failed": 0}
    assert len(fake_slack.requests) == 3
    assert sleeps == [0.0, 2.0]


def test_retries_exhausted_make_the_invocation_raise(fake_slack: FakeSlack) -> None:
    fake_slack.script([(503, "unavailable")] * NO_WAIT.max_attempts)
    settings = load_settings({"SLACK_WEBHOOK_URL": fake_slack.url})
    with pytest.raises(DeliveryError, match=r"retries_exhausted \(HTTP 503\)"):
        handle_event(
            load_event("sns-ok"), None, settings=settings, policy=NO_WAIT, sleep=lambda _: None
        )
    assert len(fake_slack.requests) == NO_WAIT.max_attempts


def test_an_invocation_about_to_time_out_raises_without_posting(fake_slack: FakeSlack) -> None:
    settings = load_settings({"SLACK_WEBHOOK_URL": fake_slack.url})
    with pytest.raises(DeliveryError, match="out_of_time"):
        handle_event(load_event("sns-ok"), LambdaContext(1_000), settings=settings)
    assert fake_slack.requests == []


def test_the_retry_budget_fits_in_the_remaining_lambda_time(fake_slack: FakeSlack) -> None:
    fake_slack.default = Response(500, "rollup_error")
    now = [0.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    policy = RetryPolicy(max_attempts=50, base_delay=1.0, max_delay=8.0)
    settings = load_settings({"SLACK_WEBHOOK_URL": fake_slack.url})
    with pytest.raises(DeliveryError, match="out_of_time"):
        handle_event(
            load_event("sns-multi-record"),
            LambdaContext(10_000),
            settings=settings,
            policy=policy,
            sleep=sleep,
            clock=lambda: now[0],
        )
    assert now[0] <= 10.0 - handler.SAFETY_MARGIN_SECONDS


def test_settings_are_read_once_per_container(
    fake_slack: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SLACK_WEBHOOK_URL", fake_slack.url)
    lambda_handler(load_event("sns-ok"), None)
    monkeypatch.setenv("SLACK_WEBHOOK_URL", "ftp://x")  # would be a ConfigError if read again
    lambda_handler(load_event("sns-ok"), None)
    assert len(fake_slack.requests) == 2


def test_a_mistyped_timezone_still_delivers_in_utc_with_a_visible_note(
    fake_slack: FakeSlack, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("SLACK_WEBHOOK_URL", fake_slack.url)
    monkeypatch.setenv("TIMEZONE", "Asia/Seol")
    result = lambda_handler(load_event("sns-alarm-cpu-high"), LambdaContext(30_000))
    assert result["delivered"] == 1
    (body,) = fake_slack.requests
    blocks = body["attachments"][0]["blocks"]
    fields = [f["text"] for b in blocks for f in b.get("fields", [])]
    assert any(f.endswith("2024-05-14 07:21:04 UTC") for f in fields)
    assert blocks[-1]["type"] == "context"
    assert "TIMEZONE='Asia/Seol'" in blocks[-1]["elements"][0]["text"]
    assert any(r.levelname == "WARNING" and "Asia/Seol" in r.getMessage() for r in caplog.records)


def test_missing_configuration_raises_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.delenv("SLACK_WEBHOOK_URL", raising=False)
    monkeypatch.delenv("SLACK_WEBHOOK_SSM_PARAMETER", raising=False)
    with pytest.raises(ConfigError, match="set SLACK_WEBHOOK_URL"):
        lambda_handler(load_event("sns-ok"), None)
    assert log_lines(caplog)[0]["message"] == "configuration error"


def test_the_webhook_url_appears_in_no_log_exception_or_return_value(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    secret = f"secret-{uuid.uuid4().hex}"
    with FakeSlack() as fake:
        fake.script([(404, f"no_service for /services/T/B/{secret}"), (200, "ok")])
        url = fake.url.replace("XXXXXXXXXXXXXXXXXXXXXXXX", secret)
        monkeypatch.setenv("SLACK_WEBHOOK_URL", url)
        with pytest.raises(DeliveryError) as raised:
            lambda_handler(load_event("sns-multi-record"), LambdaContext(30_000))
        assert len(fake.requests) == 2  # it did post to the secret URL
        result = lambda_handler(load_event("sns-ok"), LambdaContext(30_000))
    # A transport error that holds the URL: an echo of the request line, which http.client
    # reads as a bad status line and quotes, secret path and all.
    with EchoServer() as echo:
        echo_url = f"http://127.0.0.1:{echo.port}/services/T/B/{secret}"
        with pytest.raises(DeliveryError) as transport:
            handle_event(
                load_event("sns-ok"),
                None,
                settings=load_settings({"SLACK_WEBHOOK_URL": echo_url}),
                policy=NO_WAIT,
                sleep=lambda _: None,
            )
    assert len(echo.lines) == NO_WAIT.max_attempts
    assert all(secret in line for line in echo.lines)
    texts = [
        caplog.text,
        str(raised.value),
        repr(raised.value),
        "".join(traceback.format_exception(raised.value)),
        "".join(traceback.format_exception(transport.value)),
        repr(result),
        repr(handler.get_settings()),
    ]
    assert "BadStatusLine: POST [redacted]" in caplog.text  # the failure itself is logged
    for text in texts:
        assert secret not in text


def test_importing_the_handler_loads_neither_boto3_nor_urllib_request() -> None:
    code = (
        "import sys, handler; "
        "print(sorted(m for m in ('boto3', 'botocore', 'urllib.request', 'zoneinfo') "
        "if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=Path(REPO_ROOT, "lambda"),
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "[]"


def test_the_webhook_url_path_never_imports_boto3(fake_slack: FakeSlack) -> None:
    code = (
        "import json, sys, handler; "
        "event = json.load(open(sys.argv[1])); "
        "print(handler.lambda_handler(event, None)); "
        "print('boto3' in sys.modules, 'botocore' in sys.modules)"
    )
    out = subprocess.run(  # -B: a bare environment, so no bytecode is written into lambda/
        [
            sys.executable,
            "-B",
            "-c",
            code,
            str(REPO_ROOT / "examples/events/sns-alarm-cpu-high.json"),
        ],
        cwd=Path(REPO_ROOT, "lambda"),
        capture_output=True,
        text=True,
        check=True,
        env={"SLACK_WEBHOOK_URL": fake_slack.url, "TIMEZONE": "Asia/Seoul", "PATH": ""},
    )
    assert out.stdout.splitlines() == [
        "{'records': 1, 'delivered': 1, 'failed': 0}",
        "False False",
    ]
    assert len(fake_slack.requests) == 1


def test_a_formatting_bug_still_sends_a_plain_alert(
    fake_slack: FakeSlack, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*_: object, **__: object) -> dict:
        raise RuntimeError("bug")

    monkeypatch.setattr(render, "format_message", broken)
    settings = load_settings({"SLACK_WEBHOOK_URL": fake_slack.url, "ALARM_MENTION": "<!here>"})
    result = handle_event(load_event("sns-slack-injection"), None, settings=settings)
    assert result == {"records": 1, "delivered": 1, "failed": 0}
    assert fake_slack.requests == [
        {
            "text": "<!here> :warning: ALARM &lt;!channel&gt; &amp; &lt;https://evil.example|click"
            " me&gt; (message could not be formatted)"
        }
    ]
    assert "RuntimeError: bug" in caplog.text
