"""A message Slack refuses for its content goes again as plain text; only what no form can show
is reported, and the log says which alarm and why."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

import render
from handler import handle_event
from message import format_plain
from render import plain_fallback
from settings import load_settings
from slack import RetryPolicy
from support.fake_clock import FakeClock
from support.fake_slack import FakeSlack, Response
from support.slack_rules import message_refusal
from support.storm import alarm_message, sns_envelope, sqs_event, storm_event

NO_WAIT = RetryPolicy(max_attempts=3, request_timeout=2.0, base_delay=0.0, max_delay=0.0)


class Context:
    def get_remaining_time_in_millis(self) -> int:
        return 30_000


def run(event: dict, slack: FakeSlack, **env: str) -> Any:
    settings = load_settings({"SLACK_WEBHOOK_URL": slack.url, **env})
    clock = FakeClock()
    return handle_event(
        event, Context(), settings=settings, policy=NO_WAIT, sleep=clock.sleep, clock=clock
    )


def log_lines(caplog: pytest.LogCaptureFixture) -> list[dict]:
    return [json.loads(r.getMessage()) for r in caplog.records if r.name == "alarm_to_slack"]


def one_alarm() -> dict:
    message = alarm_message("prod-web-1-cpu & <db>")
    return sqs_event([sns_envelope(message)])


@pytest.mark.parametrize("error", ["invalid_blocks", "msg_blocks_too_long", "invalid_attachments"])
def test_a_refused_alarm_goes_again_as_plain_text_and_is_acknowledged(
    fake_slack: FakeSlack, caplog: pytest.LogCaptureFixture, error: str
) -> None:
    caplog.set_level(logging.INFO, logger="alarm_to_slack")
    fake_slack.script([Response(400, error)])
    assert run(one_alarm(), fake_slack) == {"batchItemFailures": []}
    refused, plain = fake_slack.requests
    assert "attachments" in refused
    assert set(plain) == {"text"}
    lines = plain["text"].split("\n")
    assert lines[0] == ":rotating_light: *ALARM*: prod-web-1-cpu &amp; &lt;db&gt;"
    assert lines[1].startswith("Threshold Crossed: 1 out of the last 1 datapoints")
    assert lines[2] == "2024-05-14 07:21:00 UTC"
    (line,) = log_lines(caplog)
    assert line["message"] == "slack refused the message; sent as plain text"
    assert (line["refused"], line["form"], line["outcome"]) == (error, "plain", "delivered")
    assert line["alarm_name"] == "prod-web-1-cpu & <db>"
    assert caplog.records[-1].levelno == logging.WARNING


def test_an_alarm_whose_plain_form_is_refused_too_is_reported_saying_why(
    fake_slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="alarm_to_slack")
    event = one_alarm()
    fake_slack.script([Response(400, "invalid_blocks"), Response(400, "invalid_payload")])
    result = run(event, fake_slack)
    assert result == {"batchItemFailures": [{"itemIdentifier": event["Records"][0]["messageId"]}]}
    (line,) = log_lines(caplog)
    assert line["message"] == "slack refused the message and its plain-text form failed"
    assert (line["refused"], line["error"], line["http_status"]) == (
        "invalid_blocks",
        "invalid_payload",
        400,
    )
    assert caplog.records[-1].levelno == logging.ERROR


def test_a_refusal_that_is_not_about_content_is_not_sent_again(fake_slack: FakeSlack) -> None:
    fake_slack.script([Response(400, "invalid_payload")])
    result = run(one_alarm(), fake_slack)
    assert len(result["batchItemFailures"]) == 1
    assert len(fake_slack.requests) == 1


def test_a_refused_digest_part_goes_again_as_plain_parts_naming_its_alarms_only(
    fake_slack: FakeSlack,
) -> None:
    event = storm_event(400)
    fake_slack.script([Response(200), Response(400, "msg_blocks_too_long")])
    assert run(event, fake_slack) == {"batchItemFailures": []}
    requests = fake_slack.requests
    refused = requests[1]
    plain = [r for r in requests[2:] if set(r) == {"text"}]
    assert plain
    assert all(len(r["text"]) <= 3900 for r in plain)
    refused_text = json.dumps(refused, ensure_ascii=False)
    plain_text = "\n".join(r["text"] for r in plain)
    for record in event["Records"]:
        name = json.loads(json.loads(record["body"])["Message"])["AlarmName"]
        assert (name in refused_text) == (name in plain_text)


def test_what_the_fake_refuses_for_real_reaches_the_channel_as_plain_text(
    fake_slack: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A renderer bug (a section past 3,000 characters): Slack's own rule refuses it."""
    real = render.format_message

    def too_long(*args: Any, **kwargs: Any) -> dict:
        payload = real(*args, **kwargs)
        section = {"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}
        payload["attachments"][0]["blocks"].append(section)
        return payload

    monkeypatch.setattr(render, "format_message", too_long)
    assert run(one_alarm(), fake_slack, SLACK_CHANNEL="#ops") == {"batchItemFailures": []}
    refused, plain = fake_slack.received
    assert (refused.response.status, refused.response.body) == (400, "invalid_attachments")
    assert plain.response.status == 200
    assert plain.json["channel"] == "#ops"  # the webhook overrides hold for the plain form


@pytest.mark.parametrize("count", [1, 2, 300])
def test_the_plain_fallback_names_every_entry_once_within_slacks_rules(count: int) -> None:
    from alarm import parse_records  # noqa: PLC0415
    from grouping import collect_entries  # noqa: PLC0415

    event = sqs_event([sns_envelope(alarm_message(f"web-{i}" + "<&>" * 80)) for i in range(count)])
    entries = tuple(collect_entries(parse_records(event)))
    settings = load_settings({"SLACK_WEBHOOK_URL": "https://hooks.slack.com/services/T/B/x"})
    parts = plain_fallback(entries, settings)
    assert [e for p in parts for e in p.entries] == list(entries)
    for part in parts:
        assert message_refusal(part.payload) is None
        assert "<&>" not in part.payload["text"]


def test_format_plain_keeps_the_mention_and_the_configuration_notes() -> None:
    from alarm import parse_records  # noqa: PLC0415

    (received,) = parse_records(one_alarm())
    settings = load_settings(
        {
            "SLACK_WEBHOOK_URL": "https://hooks.slack.com/services/T/B/x",
            "ALARM_MENTION": "<!here>",
            "TIMEZONE": "Asia/Seoul",
            "MESSAGE_LANGUAGE": "xx",
        }
    )
    text = format_plain(received.alarm, settings)["text"]
    assert text.startswith("<!here> :rotating_light: *ALARM*: prod-web-1-cpu")
    assert "2024-05-14 16:21:00 KST" in text
    assert text.endswith("messages are in English")


def test_a_plain_form_that_cannot_be_made_fails_only_its_own_part() -> None:
    from delivery import Pacer, deliver  # noqa: PLC0415
    from formatting import MessagePart  # noqa: PLC0415
    from slack import Delivery  # noqa: PLC0415

    class Refusing:
        def __init__(self) -> None:
            self.sent: list[dict] = []

        def send(self, payload: dict, *, destination: str | None, deadline: float) -> Delivery:
            del destination, deadline
            self.sent.append(payload)
            if "blocks" in payload:
                return Delivery(False, "permanent_error", 1, status=400, error="invalid_blocks")
            return Delivery(True, "delivered", 1, status=200)

    def broken(part: MessagePart) -> list[MessagePart]:
        raise RuntimeError("bug")

    clock = FakeClock()
    notifier = Refusing()
    parts = [
        (MessagePart({"text": "a", "blocks": [{"type": "divider"}]}, ()), None),
        (MessagePart({"text": "b"}, ()), None),
    ]
    first, second = deliver(
        parts,
        notifier,
        pacer=Pacer(sleep=clock.sleep, clock=clock),
        deadline=clock() + 30,
        plain=broken,
    )
    assert (first.refused, first.delivery.delivered) == ("invalid_blocks", False)
    assert first.delivery.error == "invalid_blocks; plain form failed: RuntimeError"
    assert second.delivery.delivered
    assert second.refused is None
    assert [p["text"] for p in notifier.sent] == ["a", "b"]
