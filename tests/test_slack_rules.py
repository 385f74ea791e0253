"""The fakes' Slack rules: each limit refuses one character (or item) past it, and only then."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

import pytest

from support.fake_slack import FakeSlack
from support.fake_slack_api import DEFAULT_TOKEN, FakeSlackApi
from support.faulty_slack import FaultySlack
from support.slack_rules import (
    BLOCK_TEXT_TOTAL_LIMIT,
    block_text_total,
    message_refusal,
)

AUTH = f"Bearer {DEFAULT_TOKEN}"


def text(kind: str, value: str) -> dict[str, Any]:
    return {"type": kind, "text": value}


def section(value: str) -> dict[str, Any]:
    return {"type": "section", "text": text("mrkdwn", value)}


def in_attachment(*blocks: dict[str, Any]) -> dict[str, Any]:
    return {"text": "fallback", "attachments": [{"color": "#E01E5A", "blocks": list(blocks)}]}


def button(**fields: Any) -> dict[str, Any]:
    return {"type": "actions", "elements": [{"type": "button", **fields}]}


# (rule, the block at its limit, the block one past it, the json-pointer Slack names)
LIMITS = [
    (
        "header text 150",
        {"type": "header", "text": text("plain_text", "h" * 150)},
        {"type": "header", "text": text("plain_text", "h" * 151)},
        "/blocks/0/text/text",
    ),
    (
        "header text is plain_text",
        {"type": "header", "text": text("plain_text", "h")},
        {"type": "header", "text": text("mrkdwn", "h")},
        "/blocks/0/text/type",
    ),
    ("section text 3000", section("s" * 3000), section("s" * 3001), "/blocks/0/text/text"),
    ("section text not empty", section("s"), section(""), "/blocks/0/text/text"),
    (
        "section fields 10",
        {"type": "section", "fields": [text("mrkdwn", "f")] * 10},
        {"type": "section", "fields": [text("mrkdwn", "f")] * 11},
        "/blocks/0/fields",
    ),
    (
        "section field text 2000",
        {"type": "section", "fields": [text("mrkdwn", "f" * 2000)]},
        {"type": "section", "fields": [text("mrkdwn", "f" * 2001)]},
        "/blocks/0/fields/0/text",
    ),
    (
        "context elements 10",
        {"type": "context", "elements": [text("mrkdwn", "c")] * 10},
        {"type": "context", "elements": [text("mrkdwn", "c")] * 11},
        "/blocks/0/elements",
    ),
    (
        "context element text 3000",
        {"type": "context", "elements": [text("mrkdwn", "c" * 3000)]},
        {"type": "context", "elements": [text("mrkdwn", "c" * 3001)]},
        "/blocks/0/elements/0/text",
    ),
    (
        "button text 75",
        button(text=text("plain_text", "b" * 75)),
        button(text=text("plain_text", "b" * 76)),
        "/blocks/0/elements/0/text/text",
    ),
    (
        "button url 3000",
        button(text=text("plain_text", "b"), url="https://x/" + "u" * 2990),
        button(text=text("plain_text", "b"), url="https://x/" + "u" * 2991),
        "/blocks/0/elements/0/url",
    ),
    (
        "button value 2000",
        button(text=text("plain_text", "b"), value="v" * 2000),
        button(text=text("plain_text", "b"), value="v" * 2001),
        "/blocks/0/elements/0/value",
    ),
    (
        "button action_id 255",
        button(text=text("plain_text", "b"), action_id="a" * 255),
        button(text=text("plain_text", "b"), action_id="a" * 256),
        "/blocks/0/elements/0/action_id",
    ),
    (
        "actions elements 25",
        {"type": "actions", "elements": [{"type": "button", "text": text("plain_text", "b")}] * 25},
        {"type": "actions", "elements": [{"type": "button", "text": text("plain_text", "b")}] * 26},
        "/blocks/0/elements",
    ),
    (
        "accessory button text 75",
        {**section("s"), "accessory": {"type": "button", "text": text("plain_text", "b" * 75)}},
        {**section("s"), "accessory": {"type": "button", "text": text("plain_text", "b" * 76)}},
        "/blocks/0/accessory/text/text",
    ),
    (
        "block_id 255",
        {**section("s"), "block_id": "i" * 255},
        {**section("s"), "block_id": "i" * 256},
        "/blocks/0/block_id",
    ),
    (
        "an emoji counts two (UTF-16)",
        {"type": "header", "text": text("plain_text", "\U0001f525" * 75)},
        {"type": "header", "text": text("plain_text", "\U0001f525" * 75 + "h")},
        "/blocks/0/text/text",
    ),
]


@pytest.mark.parametrize(("rule", "at_limit", "past_limit", "pointer"), LIMITS)
def test_each_block_limit_refuses_only_past_it_naming_where(
    rule: str, at_limit: dict, past_limit: dict, pointer: str
) -> None:
    del rule
    assert message_refusal({"text": "t", "blocks": [at_limit]}) is None
    refusal = message_refusal({"text": "t", "blocks": [past_limit]})
    assert refusal is not None
    assert refusal.error == "invalid_blocks"
    assert any(detail.endswith(f"[json-pointer:{pointer}]") for detail in refusal.details)


@pytest.mark.parametrize(("rule", "at_limit", "past_limit", "pointer"), LIMITS)
def test_blocks_inside_an_attachment_are_refused_as_invalid_attachments(
    rule: str, at_limit: dict, past_limit: dict, pointer: str
) -> None:
    del rule
    assert message_refusal(in_attachment(at_limit)) is None
    refusal = message_refusal(in_attachment(past_limit))
    assert refusal is not None
    assert refusal.error == "invalid_attachments"
    where = pointer.replace("/blocks/", "/attachments/0/blocks/", 1)
    assert any(detail.endswith(f"[json-pointer:{where}]") for detail in refusal.details)


def test_fifty_blocks_in_a_message_counting_every_attachment() -> None:
    assert message_refusal({"text": "t", "blocks": [section("s")] * 50}) is None
    assert message_refusal({"text": "t", "blocks": [section("s")] * 51}).error == "invalid_blocks"
    split = {
        "text": "t",
        "attachments": [{"blocks": [section("s")] * 25}, {"blocks": [section("s")] * 26}],
    }
    assert message_refusal(split).error == "invalid_blocks"


def test_more_than_100_attachments_is_too_many_attachments() -> None:
    assert message_refusal({"text": "t", "attachments": [{"text": "a"}] * 100}) is None
    refusal = message_refusal({"text": "t", "attachments": [{"text": "a"}] * 101})
    assert refusal.error == "too_many_attachments"


def test_an_unknown_block_type_is_refused() -> None:
    assert message_refusal({"text": "t", "blocks": [{"type": "input"}]}).error == "invalid_blocks"


def test_a_message_without_content_is_no_text() -> None:
    assert message_refusal({"text": ""}).error == "no_text"
    assert message_refusal({"channel": "C1"}).error == "no_text"


def total_of(size: int) -> dict[str, Any]:
    """Blocks whose strings add up to `size` characters in all."""
    blocks = [section("x" * 3000)] * (size // 3000) + [section("x" * (size % 3000))]
    return in_attachment(*[b for b in blocks if b["text"]["text"]])


def test_block_text_above_the_lowest_reported_refusal_is_msg_blocks_too_long() -> None:
    # 11,341: the lowest refusal reported (slackapi/bolt-js#2867).
    assert block_text_total(total_of(11_341)) == 11_341
    assert message_refusal(total_of(11_341)) is None
    assert message_refusal(total_of(11_342)).error == "msg_blocks_too_long"


def test_the_block_text_total_counts_urls_and_escapes_as_sent_but_not_type_names() -> None:
    payload = in_attachment(
        section("&amp;"),  # 5 as sent, though it shows as 1
        button(text=text("plain_text", "ab"), url="https://e/"),  # 2 + 10
    )
    assert block_text_total(payload) == 5 + 2 + 10


# --- the Web API fake ---------------------------------------------------------------------------


def post(api: FakeSlackApi, method: str, **arguments: Any) -> dict[str, Any]:
    return api.answer(method, AUTH, {"channel": "C0ALERTS01", **arguments}).body


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_web_api_refuses_invalid_content_with_slacks_errors_and_posts_nothing() -> None:
    api = FakeSlackApi(min_interval=0)
    answer = post(api, "chat.postMessage", text="t", blocks=[section("s" * 3001)])
    assert answer["ok"] is False
    assert answer["error"] == "invalid_blocks"
    assert answer["errors"] == [
        "must be less than 3001 characters [json-pointer:/blocks/0/text/text]"
    ]
    answer = post(api, "chat.postMessage", **in_attachment(section("s" * 3001)))
    assert answer["error"] == "invalid_attachments"
    assert api.messages("C0ALERTS01") == []


def test_web_api_refuses_an_update_to_invalid_content_and_keeps_the_message() -> None:
    api = FakeSlackApi(min_interval=0)
    ts = post(api, "chat.postMessage", text="first")["ts"]
    answer = post(api, "chat.update", ts=ts, **total_of(BLOCK_TEXT_TOTAL_LIMIT + 1))
    assert answer["error"] == "msg_blocks_too_long"
    assert api.find("C0ALERTS01", ts).text == "first"


def test_web_api_truncates_top_level_text_past_40000_characters() -> None:
    api = FakeSlackApi(min_interval=0)
    answer = post(api, "chat.postMessage", text="t" * 40_005)
    assert answer["ok"] is True
    (message,) = api.messages("C0ALERTS01")
    assert message.text == "t" * 40_000


def test_chat_update_is_tier_3_fifty_per_minute_then_429_with_retry_after() -> None:
    clock = Clock()
    api = FakeSlackApi(min_interval=0, clock=clock)
    ts = post(api, "chat.postMessage", text="m")["ts"]
    for index in range(50):
        clock.now += 0.5
        assert post(api, "chat.update", ts=ts, text=f"v{index}")["ok"] is True
    limited = api.answer("chat.update", AUTH, {"channel": "C0ALERTS01", "ts": ts, "text": "x"})
    assert limited.status == 429
    assert limited.body["error"] == "ratelimited"
    # The first update was at 1000.5, now is 1025.0: it leaves the window in 35.5 s.
    assert dict(limited.headers)["Retry-After"] == "36"
    clock.now += 36
    assert post(api, "chat.update", ts=ts, text="later")["ok"] is True


def test_another_apps_message_cannot_be_updated() -> None:
    api = FakeSlackApi(min_interval=0)
    ts = api.add_foreign_message("C0ALERTS01", "a person wrote this")
    answer = post(api, "chat.update", ts=ts, text="mine now")
    assert answer["error"] == "cant_update_message"
    assert api.find("C0ALERTS01", ts).text == "a person wrote this"


def test_internal_error_after_posting_leaves_the_message_in_the_channel() -> None:
    api = FakeSlackApi(min_interval=0)
    api.fail_after_posting("chat.postMessage")
    answer = post(api, "chat.postMessage", text="did it post?")
    assert answer == {"ok": False, "error": "internal_error"}
    assert [m.text for m in api.messages("C0ALERTS01")] == ["did it post?"]
    assert post(api, "chat.postMessage", text="next")["ok"] is True


# --- the webhook fakes --------------------------------------------------------------------------


def webhook_post(url: str, payload: object) -> tuple[int, str]:
    data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


@pytest.mark.parametrize(
    ("payload", "error"),
    [
        ({"text": "t", "blocks": [section("s" * 3001)]}, "invalid_blocks"),
        (in_attachment(section("s" * 3001)), "invalid_attachments"),
        (total_of(BLOCK_TEXT_TOTAL_LIMIT + 1), "msg_blocks_too_long"),
        ({"text": "t", "attachments": [{"text": "a"}] * 101}, "too_many_attachments"),
        ({"text": ""}, "no_text"),
        (b"not json", "invalid_payload"),
    ],
)
def test_the_webhook_answers_400_with_slacks_error_string(payload: object, error: str) -> None:
    with FakeSlack() as slack:
        slack.script([(500, "rollup_error")])
        assert webhook_post(slack.url, payload) == (400, error)
        # The refusal did not use up the scripted fault: Slack refuses before anything else.
        assert webhook_post(slack.url, {"text": "fine"}) == (500, "rollup_error")
        assert webhook_post(slack.url, {"text": "fine"}) == (200, "ok")


def test_the_soak_fake_refuses_invalid_content_too() -> None:
    with FaultySlack() as slack:
        assert webhook_post(slack.url, in_attachment(section("s" * 3001))) == (
            400,
            "invalid_attachments",
        )
        assert webhook_post(slack.url, {"text": "fine"}) == (200, "ok")
        assert [a.outcome for a in slack.attempts] == ["refused_invalid_attachments", "ok"]


def test_a_refused_chat_update_counts_towards_the_tier_3_limit_too() -> None:
    clock = Clock()
    api = FakeSlackApi(min_interval=0, clock=clock)
    for _ in range(50):
        assert post(api, "chat.update", ts="1.1", text="x")["error"] == "message_not_found"
    assert post(api, "chat.update", ts="1.1", text="x")["error"] == "ratelimited"
