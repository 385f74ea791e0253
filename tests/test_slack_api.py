"""The Web API client: Bearer auth, JSON in utf-8, ok:false is a failure, retry rules shared."""

from __future__ import annotations

import json
from urllib.parse import parse_qs

import pytest
from pytest_httpserver import HTTPServer

from slack import RetryPolicy
from slack_api import SlackApi, encode_form

TOKEN = "xoxb-1111-2222-secretsecretsecret"  # noqa: S105 - a test value
FAST = RetryPolicy(max_attempts=3, request_timeout=2.0, base_delay=0.0, max_delay=0.0)


def client(httpserver: HTTPServer, sleeps: list[float] | None = None) -> SlackApi:
    record = sleeps if sleeps is not None else []
    return SlackApi(TOKEN, base_url=httpserver.url_for("/api/"), policy=FAST, sleep=record.append)


def test_post_message_sends_bearer_json_utf8_and_returns_channel_and_ts(
    httpserver: HTTPServer,
) -> None:
    httpserver.expect_oneshot_request(
        "/api/chat.postMessage",
        method="POST",
        headers={
            "Authorization": f"Bearer {TOKEN}",
            "Content-Type": "application/json; charset=utf-8",
        },
        json={"channel": "C1", "text": "héllo"},
    ).respond_with_json({"ok": True, "channel": "C1", "ts": "1.000100"})
    result = client(httpserver).post_message({"channel": "C1", "text": "héllo"}, deadline=None)
    assert result.ok
    assert (result.channel, result.ts) == ("C1", "1.000100")
    httpserver.check_assertions()


def test_http_200_with_ok_false_is_a_permanent_failure(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/api/chat.update").respond_with_json(
        {"ok": False, "error": "message_not_found"}
    )
    result = client(httpserver).update_message({"channel": "C1", "ts": "1.1"}, deadline=None)
    assert not result.ok
    assert result.error == "message_not_found"
    assert result.message_gone
    assert result.delivery.attempts == 1
    assert result.delivery.outcome == "permanent_error"


TROUBLE = [
    (500, {"ok": False, "error": "internal_error"}),
    (200, {"ok": False, "error": "fatal_error"}),
    (503, None),
]


def _answer_trouble(httpserver: HTTPServer, method: str, status: int, body: dict | None) -> None:
    handler = httpserver.expect_ordered_request(f"/api/{method}")
    if body is None:
        handler.respond_with_data("<html>down</html>", status=status)
    else:
        handler.respond_with_json(body, status=status)


@pytest.mark.parametrize(("status", "body"), TROUBLE)
def test_slack_trouble_is_retried_for_an_update(
    httpserver: HTTPServer, status: int, body: dict | None
) -> None:
    _answer_trouble(httpserver, "chat.update", status, body)
    httpserver.expect_ordered_request("/api/chat.update").respond_with_json(
        {"ok": True, "channel": "C1", "ts": "2.2"}
    )
    arguments = {"channel": "C1", "ts": "2.2", "text": "x"}
    result = client(httpserver).update_message(arguments, deadline=None)
    assert result.ok
    assert result.delivery.attempts == 2


@pytest.mark.parametrize(("status", "body"), TROUBLE)
def test_a_post_that_may_have_landed_is_never_retried(
    httpserver: HTTPServer, status: int, body: dict | None
) -> None:
    """Slack: internal_error/fatal_error "some aspect of the operation may have succeeded"
    (common errors); the Web API has no idempotency key, so a retry could post it twice."""
    _answer_trouble(httpserver, "chat.postMessage", status, body)
    result = client(httpserver).post_message({"channel": "C1", "text": "x"}, deadline=None)
    assert not result.ok
    assert result.ambiguous
    assert result.delivery.outcome == "ambiguous"
    assert result.delivery.attempts == 1


def test_a_rate_limited_post_is_not_ambiguous(httpserver: HTTPServer) -> None:
    httpserver.expect_ordered_request("/api/chat.postMessage").respond_with_json(
        {"ok": False, "error": "ratelimited"}, status=429, headers={"Retry-After": "0"}
    )
    httpserver.expect_ordered_request("/api/chat.postMessage").respond_with_json(
        {"ok": True, "channel": "C1", "ts": "2.2"}
    )
    result = client(httpserver).post_message({"channel": "C1", "text": "x"}, deadline=None)
    assert result.ok
    assert not result.ambiguous


def test_429_honours_retry_after(httpserver: HTTPServer) -> None:
    httpserver.expect_ordered_request("/api/chat.postMessage").respond_with_json(
        {"ok": False, "error": "ratelimited"}, status=429, headers={"Retry-After": "3"}
    )
    httpserver.expect_ordered_request("/api/chat.postMessage").respond_with_json(
        {"ok": True, "channel": "C1", "ts": "2.2"}
    )
    sleeps: list[float] = []
    result = client(httpserver, sleeps).post_message({"channel": "C1", "text": "x"}, deadline=None)
    assert result.ok
    assert sleeps == [3.0]


def test_a_429_without_a_json_body_is_still_ratelimited(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/api/chat.postMessage").respond_with_data(
        "", status=429, headers={"Retry-After": "1"}
    )
    result = client(httpserver).post_message({"channel": "C1", "text": "x"}, deadline=None)
    assert result.error == "ratelimited"
    assert result.delivery.outcome == "retries_exhausted"


def test_the_token_is_never_in_repr_or_a_result(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/api/chat.postMessage").respond_with_json(
        {"ok": False, "error": "invalid_auth"}
    )
    api = client(httpserver)
    result = api.post_message({"channel": "C1", "text": "x"}, deadline=None)
    assert TOKEN not in repr(api)
    assert TOKEN not in repr(result)
    assert "Bot User OAuth Token" in (result.hint or "")


@pytest.mark.parametrize(
    "url",
    ["http://slack.com/api/", "https://evil.example/api/", "http://10.0.0.1/api/", "file:///etc/"],
)
def test_only_slack_or_loopback_base_urls(url: str) -> None:
    with pytest.raises(ValueError, match="loopback"):
        SlackApi(TOKEN, base_url=url)


def test_unreachable_api_is_retried_then_reported(httpserver: HTTPServer) -> None:
    api = SlackApi(TOKEN, base_url="http://127.0.0.1:9/api/", policy=FAST, sleep=lambda _: None)
    result = api.post_message({"channel": "C1", "text": "x"}, deadline=None)
    assert not result.ok
    assert result.delivery.attempts == 3
    assert json.dumps(result.delivery.error)


def test_a_form_reads_back_as_slack_reads_it() -> None:
    body = encode_form(
        {
            "filename": "cpu 80% & up.png",
            "length": 1234,
            "broadcast": True,
            "files": [{"id": "F1", "title": "서버 CPU \ud800"}],
        }
    )
    fields = parse_qs(body.decode("ascii"))
    assert fields["filename"] == ["cpu 80% & up.png"]
    assert fields["length"] == ["1234"]
    assert fields["broadcast"] == ["true"]
    # A lone surrogate (from an alarm name, say) becomes U+FFFD instead of raising.
    assert json.loads(fields["files"][0]) == [{"id": "F1", "title": "서버 CPU \ufffd"}]


def test_file_calls_go_as_a_form(httpserver: HTTPServer) -> None:
    form = "application/x-www-form-urlencoded; charset=utf-8"
    httpserver.expect_oneshot_request(
        "/api/files.getUploadURLExternal",
        method="POST",
        headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": form},
        data="filename=g.png&length=3",
    ).respond_with_json({"ok": True, "upload_url": "https://files.slack.com/x", "file_id": "F1"})
    result = client(httpserver).call(
        "files.getUploadURLExternal", {"filename": "g.png", "length": 3}, deadline=None
    )
    assert result.ok
    httpserver.check_assertions()
