"""Delivery against a real local HTTP server: urllib is the code under test, only sleep is fake."""

from __future__ import annotations

import json
import socket
import ssl
import time
from pathlib import Path
from urllib.parse import quote

import pytest
from pytest_httpserver import HTTPServer

import slack
from slack import Delivery, RetryPolicy, post_to_slack, redact, webhook_url_problem
from support.echo_server import EchoServer
from support.fake_clock import FakeClock
from support.fake_slack import FakeSlack, Response
from support.loopback_tls import client_context, make_certificate, server_context
from support.trickle_server import TrickleServer

PATH = "/services/T000/B000/slack-secret-token"
PAYLOAD = {"text": "héllo <!channel>", "attachments": [{"color": "#E01E5A", "blocks": []}]}
FAST = RetryPolicy(max_attempts=4, request_timeout=2.0, base_delay=0.5, max_delay=4.0)


def post(url: str, clock: FakeClock, **kwargs: object) -> Delivery:
    kwargs.setdefault("policy", FAST)
    return post_to_slack(url, PAYLOAD, sleep=clock.sleep, clock=clock, random=lambda: 1.0, **kwargs)


def expect(
    httpserver: HTTPServer, status: int, body: str = "", headers: dict | None = None
) -> None:
    httpserver.expect_ordered_request(PATH, method="POST").respond_with_data(
        body, status=status, headers=headers
    )


def test_success_posts_the_payload_as_utf8_json(httpserver: HTTPServer) -> None:
    expect(httpserver, 200, "ok")
    clock = FakeClock()
    delivery = post(httpserver.url_for(PATH), clock)
    assert delivery == Delivery(delivered=True, outcome="delivered", attempts=1, status=200)
    ((request, _),) = httpserver.log
    assert request.headers["Content-Type"] == "application/json; charset=utf-8"
    assert json.loads(request.get_data().decode("utf-8")) == PAYLOAD
    assert clock.sleeps == []


def test_server_error_is_retried_then_succeeds(httpserver: HTTPServer) -> None:
    expect(httpserver, 500, "rollup_error")
    expect(httpserver, 503, "service unavailable")
    expect(httpserver, 200, "ok")
    clock = FakeClock()
    delivery = post(httpserver.url_for(PATH), clock)
    assert (delivery.delivered, delivery.attempts, delivery.status) == (True, 3, 200)
    assert clock.sleeps == [0.5, 1.0]  # exponential: base, 2 x base (jitter pinned at max)
    assert len(httpserver.log) == 3


def test_backoff_has_jitter_and_is_bounded(httpserver: HTTPServer) -> None:
    for _ in range(6):
        expect(httpserver, 500, "rollup_error")
    clock = FakeClock()
    policy = RetryPolicy(max_attempts=6, base_delay=1.0, max_delay=3.0)
    post_to_slack(
        httpserver.url_for(PATH),
        PAYLOAD,
        policy=policy,
        sleep=clock.sleep,
        clock=clock,
        random=lambda: 0.0,
    )
    assert clock.sleeps == [0.5, 1.0, 1.5, 1.5, 1.5]  # half of min(max_delay, base * 2^n)


def test_429_waits_for_retry_after(httpserver: HTTPServer) -> None:
    expect(httpserver, 429, "rate_limited", {"Retry-After": "3"})
    expect(httpserver, 200, "ok")
    clock = FakeClock()
    delivery = post(httpserver.url_for(PATH), clock)
    assert (delivery.delivered, delivery.attempts) == (True, 2)
    assert clock.sleeps == [3.0]


@pytest.mark.parametrize(("value", "slept"), [("0", 0.5), ("inf", 0.5), ("nan", 0.5), ("-5", 0.5)])
def test_a_retry_after_of_nothing_or_not_a_time_leaves_the_backoff(
    httpserver: HTTPServer, value: str, slept: float
) -> None:
    # Backoff with jitter pinned at max waits base_delay first; a Retry-After of 0 asks for
    # nothing more, and one that is not a finite number of seconds is no answer at all.
    expect(httpserver, 429, "rate_limited", {"Retry-After": value})
    expect(httpserver, 200, "ok")
    clock = FakeClock()
    delivery = post(httpserver.url_for(PATH), clock)
    assert (delivery.delivered, delivery.attempts) == (True, 2)
    assert clock.sleeps == [slept]


@pytest.mark.parametrize("status", [300, 301, 304])
def test_a_3xx_that_says_ok_is_not_a_delivery(httpserver: HTTPServer, status: int) -> None:
    expect(httpserver, status, "ok")
    delivery = post(httpserver.url_for(PATH), FakeClock())
    assert (delivery.delivered, delivery.outcome, delivery.status) == (
        False,
        "permanent_error",
        status,
    )
    # The error names what came back (a 304 has no body).
    assert delivery.error == ("HTTP 304" if status == 304 else "ok")


def test_429_asking_for_more_than_the_cap_is_left_to_lambda_retries(httpserver: HTTPServer) -> None:
    expect(httpserver, 429, "rate_limited", {"Retry-After": "3600"})
    clock = FakeClock()
    delivery = post(httpserver.url_for(PATH), clock)
    assert (delivery.delivered, delivery.outcome, delivery.status) == (
        False,
        "retries_exhausted",
        429,
    )
    assert delivery.error == "rate_limited"
    assert clock.sleeps == []


def test_5xx_until_attempts_run_out_fails_with_the_last_status(httpserver: HTTPServer) -> None:
    for _ in range(FAST.max_attempts):
        expect(httpserver, 502, "bad gateway")
    clock = FakeClock()
    delivery = post(httpserver.url_for(PATH), clock)
    assert delivery == Delivery(
        delivered=False,
        outcome="retries_exhausted",
        attempts=FAST.max_attempts,
        status=502,
        error="bad gateway",
    )
    assert len(clock.sleeps) == FAST.max_attempts - 1


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (400, "invalid_payload"),
        (400, "no_text"),
        (403, "invalid_token"),
        (404, "no_service"),
        (404, "channel_not_found"),
        (410, "channel_is_archived"),
    ],
)
def test_permanent_slack_errors_are_not_retried(
    httpserver: HTTPServer, status: int, error: str
) -> None:
    expect(httpserver, status, error)
    clock = FakeClock()
    delivery = post(httpserver.url_for(PATH), clock)
    assert delivery == Delivery(
        delivered=False, outcome="permanent_error", attempts=1, status=status, error=error
    )
    assert clock.sleeps == []
    assert len(httpserver.log) == 1


def test_a_redirect_is_not_followed(httpserver: HTTPServer) -> None:
    httpserver.expect_ordered_request(PATH, method="POST").respond_with_data(
        "", status=302, headers={"Location": "/elsewhere"}
    )
    delivery = post(httpserver.url_for(PATH), FakeClock())
    assert (delivery.outcome, delivery.status) == ("permanent_error", 302)
    assert len(httpserver.log) == 1


def test_timeout_is_retried(fake_slack: FakeSlack) -> None:
    # A threaded fake: a slow answer must not block the retry behind it.
    fake_slack.script([Response(200, "ok", delay=1.0), Response(200, "ok")])
    clock = FakeClock()
    policy = RetryPolicy(max_attempts=3, request_timeout=0.2, base_delay=0.01)
    delivery = post(fake_slack.url, clock, policy=policy)
    assert (delivery.delivered, delivery.attempts) == (True, 2)
    assert len(fake_slack.requests) == 2


def test_timeouts_until_attempts_run_out_fail_with_a_timeout_error(fake_slack: FakeSlack) -> None:
    fake_slack.script([Response(200, "ok", delay=0.6)] * 2)
    policy = RetryPolicy(max_attempts=2, request_timeout=0.1, base_delay=0.01)
    delivery = post(fake_slack.url, FakeClock(), policy=policy)
    assert (delivery.delivered, delivery.outcome, delivery.status) == (
        False,
        "retries_exhausted",
        None,
    )
    assert "timed out" in delivery.error.lower()


def test_connection_reset_is_retried(fake_slack: FakeSlack) -> None:
    fake_slack.script([Response(drop=True), Response(200, "ok")])
    delivery = post(fake_slack.url, FakeClock())
    assert (delivery.delivered, delivery.attempts) == (True, 2)


def test_connection_refused_is_retried_then_fails() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    clock = FakeClock()
    delivery = post(f"http://127.0.0.1:{port}{PATH}", clock)
    assert (delivery.delivered, delivery.outcome, delivery.attempts, delivery.status) == (
        False,
        "retries_exhausted",
        FAST.max_attempts,
        None,
    )
    assert "ConnectionRefusedError" in delivery.error
    assert len(clock.sleeps) == FAST.max_attempts - 1


def test_retries_stop_before_the_deadline(httpserver: HTTPServer) -> None:
    for _ in range(10):
        expect(httpserver, 500, "rollup_error")
    clock = FakeClock()
    policy = RetryPolicy(max_attempts=10, base_delay=1.0, max_delay=8.0, min_attempt_time=0.5)
    delivery = post(httpserver.url_for(PATH), clock, policy=policy, deadline=clock.now + 5.0)
    assert (delivery.delivered, delivery.outcome, delivery.status) == (False, "out_of_time", 500)
    assert sum(clock.sleeps) <= 5.0 - 0.5
    assert clock.sleeps == [1.0, 2.0]  # a third wait (4 s) would pass the deadline
    assert delivery.attempts == 3


def test_no_attempt_is_started_without_time_left(httpserver: HTTPServer) -> None:
    clock = FakeClock()
    delivery = post(httpserver.url_for(PATH), clock, deadline=clock.now + 0.1)
    assert (delivery.outcome, delivery.attempts) == ("out_of_time", 0)
    assert httpserver.log == []


def test_a_retry_after_beyond_the_deadline_is_not_waited_for(httpserver: HTTPServer) -> None:
    expect(httpserver, 429, "rate_limited", {"Retry-After": "10"})
    clock = FakeClock()
    delivery = post(httpserver.url_for(PATH), clock, deadline=clock.now + 5.0)
    assert (delivery.outcome, delivery.status, delivery.attempts) == ("out_of_time", 429, 1)
    assert clock.sleeps == []


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.invalid/secret-path-xyz",
        "not a url secret-xyz",
        # These reach http.client, whose InvalidURL quotes the path with repr(): the escaped
        # form must be redacted too (or the URL rejected before it is used).
        "http://127.0.0.1:9/services/T000/B000/secret\ttoken-xyz",
        "http://127.0.0.1:9/services/T000/B000/secret\ntoken-xyz",
    ],
)
def test_an_unusable_url_is_a_permanent_error_that_does_not_echo_it(url: str) -> None:
    delivery = post(url, FakeClock())
    assert (delivery.delivered, delivery.outcome, delivery.attempts) == (
        False,
        "permanent_error",
        1,
    )
    assert "secret" not in (delivery.error or "")
    assert "token-xyz" not in (delivery.error or "")
    assert url not in repr(delivery)


def test_redaction_covers_repr_and_percent_encoded_forms() -> None:
    url = "https://hooks.slack.com/services/T000/B000/abc\tdef-secret-token"
    for leaked in (
        f"InvalidURL: can't contain control characters. {url.split('.com')[1]!r}",
        f"segment {'abc' + chr(9) + 'def-secret-token'!r}",
        f"as unicode_escape {url.encode('unicode_escape').decode()}",
    ):
        redacted = redact(leaked, url)
        assert "secret-token" not in redacted, redacted
        assert "[redacted]" in redacted


# A secret that %-encoding changes (+ = & @ ; and, unless kept as safe, :), so only its encoded
# form can give it away: the raw form, the path and each segment all differ from an encoded echo.
ENCODED_SECRET = "Zq+S3cret=T0ken&x@y;z:w"  # noqa: S105 - a made-up test secret
ENCODED_URL = f"https://hooks.slack.com/services/T000/B000/{ENCODED_SECRET}"


@pytest.mark.parametrize("safe", ["", "/:"])
@pytest.mark.parametrize("what", [ENCODED_URL, ENCODED_SECRET])
def test_a_percent_encoded_secret_is_redacted(what: str, safe: str) -> None:
    encoded = quote(what, safe=safe)
    assert ENCODED_SECRET not in encoded  # the test means something only if quote() changed it
    redacted = redact(f"proxy said: no route to {encoded} (retry later)", ENCODED_URL)
    assert "S3cret" not in redacted, redacted
    assert "T0ken" not in redacted, redacted
    assert redacted.startswith("proxy said: no route to ")
    assert redacted.endswith("[redacted] (retry later)")


def test_an_echoed_percent_encoded_url_is_redacted_in_the_error(httpserver: HTTPServer) -> None:
    path = f"/services/T000/B000/{ENCODED_SECRET}"
    url = httpserver.url_for(path)
    httpserver.expect_request(path, method="POST").respond_with_data(
        f"no_service: {quote(url, safe='')}", status=404
    )
    delivery = post(url, FakeClock())
    assert (delivery.delivered, delivery.outcome, delivery.status) == (
        False,
        "permanent_error",
        404,
    )
    assert "S3cret" not in (delivery.error or "")
    assert (delivery.error or "").startswith("no_service: [redacted]")


def test_a_transport_error_that_holds_the_url_comes_out_redacted() -> None:
    secret = "echo-secret-token-5a1f"  # noqa: S105 - a made-up test secret
    with EchoServer() as server:
        url = f"http://127.0.0.1:{server.port}/services/T000/B000/{secret}"
        delivery = post(url, FakeClock())
    # http.client's error held the URL: it read the echoed request line as the status line.
    assert len(server.lines) == FAST.max_attempts
    assert all(secret in line for line in server.lines)
    assert (delivery.delivered, delivery.outcome) == (False, "retries_exhausted")
    assert (delivery.error or "").startswith("BadStatusLine: POST [redacted]")
    assert secret not in (delivery.error or "")
    assert "services/T000" not in (delivery.error or "")


def test_a_trickling_response_is_cut_at_the_attempt_deadline() -> None:
    # Each header line arrives well within a per-read timeout; the attempt as a whole must not.
    policy = RetryPolicy(max_attempts=1, request_timeout=1.5)
    with TrickleServer(interval=0.4, lines=12) as server:
        started = time.monotonic()
        delivery = post_to_slack(server.url, PAYLOAD, policy=policy)
        elapsed = time.monotonic() - started
    assert elapsed < 1.5 + 0.4, elapsed
    assert (delivery.delivered, delivery.outcome) == (False, "retries_exhausted")
    assert "timed out" in (delivery.error or "")
    assert "trickle-secret-token" not in (delivery.error or "")


def test_the_invocation_deadline_bounds_an_attempt_that_trickles() -> None:
    policy = RetryPolicy(max_attempts=3, request_timeout=10.0, base_delay=0.01)
    with TrickleServer(interval=0.4, lines=12) as server:
        started = time.monotonic()
        delivery = post_to_slack(server.url, PAYLOAD, policy=policy, deadline=started + 1.2)
        elapsed = time.monotonic() - started
    assert elapsed < 1.2 + 0.4, elapsed
    assert not delivery.delivered
    assert delivery.outcome in ("out_of_time", "retries_exhausted")


@pytest.mark.parametrize("body", ["<html>proxy login</html>", "no_text", ""])
def test_200_with_a_body_other_than_ok_is_not_a_delivery(httpserver: HTTPServer, body: str) -> None:
    expect(httpserver, 200, body)
    delivery = post(httpserver.url_for(PATH), FakeClock())
    assert (delivery.delivered, delivery.outcome, delivery.status, delivery.attempts) == (
        False,
        "permanent_error",
        200,
        1,
    )
    assert "without Slack's 'ok'" in (delivery.error or "")
    assert body in (delivery.error or "")


def test_a_body_that_echoes_the_url_is_redacted_in_the_error(httpserver: HTTPServer) -> None:
    url = httpserver.url_for(PATH)
    expect(httpserver, 200, f"<html>proxy refused {url}</html>")
    delivery = post(url, FakeClock())
    assert not delivery.delivered
    assert "slack-secret-token" not in (delivery.error or "")


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("https://hooks.slack.com/services/T/B/secret-token", None),
        ("https://HOOKS.SLACK.COM/services/T/B/secret-token", None),
        ("https://hooks.slack-gov.com/services/T/B/secret-token", None),
        ("http://127.0.0.1:8080/services/T/B/secret-token", None),
        ("http://localhost:8080/services/T/B/secret-token", None),
        ("http://[::1]:8080/services/T/B/secret-token", None),
        ("http://hooks.slack.com/services/T/B/secret-token", "plain http is allowed for loopback"),
        ("https://hooks.example.com/services/T/B/secret-token", "SLACK_WEBHOOK_ALLOWED_HOSTS"),
        ("https://hooks.slack.com.evil.example/services/T/B/secret-token", "must point at"),
        ("ftp://hooks.slack.com/services/T/B/secret-token", "https://"),
        ("hooks.slack.com/services/T/B/secret-token", "https://"),
        ("https://hooks.slack.com/services/T/B/secret\ttoken", "whitespace"),
        ("https://hooks.slack.com/services/T/B/secret-token\n", "whitespace"),
        ("https://hooks.slack.com/services/T/B/secret token", "whitespace"),
        ("https://hooks.slack.com/services/T/B/secret\x00token", "control"),
        ("https://hooks.slack.com/services/T/B/secret\u200btoken", "control"),
        ("https://hooks.slack.com:99999/services/T/B/secret-token", "not a valid URL"),
    ],
)
def test_webhook_url_problem_names_the_problem_never_the_url(url: str, problem: str | None) -> None:
    found = webhook_url_problem(url)
    if problem is None:
        assert found is None
    else:
        assert found is not None
        assert problem in found
        assert "secret" not in found


def test_extra_allowed_hosts_are_accepted_over_https_only() -> None:
    extra = frozenset({"hooks.example.com"})
    assert webhook_url_problem("https://hooks.example.com/services/T/B/x", extra) is None
    assert webhook_url_problem("http://hooks.example.com/services/T/B/x", extra) is not None


def test_a_dns_lookup_that_hangs_is_cut_at_the_attempt_deadline(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # getaddrinfo has no timeout of its own; a resolver that hangs must not hold the attempt.
    real_getaddrinfo = socket.getaddrinfo

    def slow_getaddrinfo(host: str, *args: object, **kwargs: object) -> object:
        if host == "hooks.slack.com":
            time.sleep(3.0)
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", slow_getaddrinfo)
    policy = RetryPolicy(max_attempts=1, request_timeout=0.5)
    started = time.monotonic()
    delivery = post_to_slack(
        "https://hooks.slack.com/services/T000/B000/dns-secret-token", PAYLOAD, policy=policy
    )
    elapsed = time.monotonic() - started
    assert elapsed < 0.5 + 0.3, elapsed
    assert (delivery.delivered, delivery.outcome) == (False, "retries_exhausted")
    assert "DNS lookup did not finish" in (delivery.error or "")
    assert "dns-secret-token" not in (delivery.error or "")


@pytest.fixture
def trusted_tls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ssl.SSLContext:
    """A server context for 127.0.0.1, and the client side of slack.py trusting it."""
    cert, key = make_certificate(tmp_path)
    client = client_context(cert)
    client.sslsocket_class = slack._deadline_socket_classes()[1]
    monkeypatch.setattr(slack, "_ssl_context", client)
    return server_context(cert, key)


def test_https_goes_through_the_deadline_bound_tls_socket(trusted_tls: ssl.SSLContext) -> None:
    with TrickleServer(lines=0, tls=trusted_tls) as server:
        url = server.url
        delivery = post_to_slack(url, PAYLOAD, policy=RetryPolicy(max_attempts=1))
    assert url.startswith("https://")
    assert (delivery.delivered, delivery.status) == (True, 200)
    assert server.requests == 1


def test_a_trickling_https_response_is_cut_at_the_attempt_deadline(
    trusted_tls: ssl.SSLContext,
) -> None:
    policy = RetryPolicy(max_attempts=1, request_timeout=1.5)
    with TrickleServer(interval=0.4, lines=12, tls=trusted_tls) as server:
        started = time.monotonic()
        delivery = post_to_slack(server.url, PAYLOAD, policy=policy)
        elapsed = time.monotonic() - started
    assert elapsed < 1.5 + 0.4, elapsed
    assert (delivery.delivered, delivery.outcome) == (False, "retries_exhausted")
    assert "timed out" in (delivery.error or "")


def test_an_untrusted_certificate_is_a_failure(tmp_path: Path) -> None:
    cert, key = make_certificate(tmp_path)
    with TrickleServer(lines=0, tls=server_context(cert, key)) as server:
        delivery = post_to_slack(server.url, PAYLOAD, policy=RetryPolicy(max_attempts=1))
    assert not delivery.delivered
    assert "CERTIFICATE_VERIFY_FAILED" in (delivery.error or "")
