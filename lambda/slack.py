"""Deliver a payload to a Slack incoming webhook with bounded retries; never logs the URL."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable

from records import frozen
from text import safe_text

# typing costs cold-start time and is only needed by type checkers.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

# Slack answers these with a short error text (invalid_payload, no_service, ...) that will not
# change on a retry; they are permanent. 429 and 5xx are worth retrying.
RETRYABLE_STATUSES = frozenset({408, 425, 429})
ERROR_TEXT_LIMIT = 200


@frozen
class RetryPolicy:
    """How hard to try one message. All times in seconds."""

    max_attempts: int = 4
    request_timeout: float = 5.0
    base_delay: float = 0.5
    max_delay: float = 8.0
    # Slack's Retry-After is waited out in full when the deadline allows (in an SQS batch the
    # alternative is the visibility timeout, minutes later); longer pauses end the attempt.
    # Never past the deadline either (send_with_retries): a 30 s function cannot sleep 60 s.
    max_retry_after: float = 20.0
    # Do not start an attempt with less time left than this before the deadline.
    min_attempt_time: float = 0.5


DEFAULT_POLICY = RetryPolicy()


@frozen
class Delivery:
    """The outcome of posting one message: safe to log (it never holds the URL)."""

    delivered: bool
    outcome: str  # delivered | permanent_error | retries_exhausted | out_of_time
    attempts: int
    status: int | None = None
    error: str | None = None
    # Seconds Slack asked us to wait (429) when the delivery failed on it: no message to this
    # destination should go out before then.
    retry_after: float | None = None


class _Attempt:
    """The result of one HTTP attempt."""

    __slots__ = ("error", "retry_after", "retryable", "status")

    @property
    def delivered(self) -> bool:
        """Slack took the message: a 2xx with Slack's "ok" body (then there is no error)."""
        return self.status is not None and 200 <= self.status < 300 and self.error is None

    def __init__(
        self,
        status: int | None,
        error: str | None,
        *,
        retryable: bool,
        retry_after: float | None = None,
    ) -> None:
        self.status = status
        self.error = error
        self.retryable = retryable
        self.retry_after = retry_after


# The public name, for other transports that build attempts (slack_api.py).
Attempt = _Attempt


# Where a webhook may point: Slack's hosts, plus any listed in SLACK_WEBHOOK_ALLOWED_HOSTS
# (comma-separated, e.g. for a test double or a proxy). Loopback is always allowed, also over
# plain http, so local runs and tests work; nothing else may use http.
SLACK_HOSTS = frozenset({"hooks.slack.com", "hooks.slack-gov.com"})
LOOPBACK_HOSTS = frozenset({"localhost", "::1"})


def _is_loopback(host: str) -> bool:
    return host in LOOPBACK_HOSTS or (host.startswith("127.") and host.count(".") == 3)


def webhook_url_problem(url: str, extra_hosts: frozenset[str] = frozenset()) -> str | None:  # noqa: PLR0911
    """Why `url` is not a usable webhook URL, or None. The answer never contains the URL."""
    from urllib.parse import urlsplit  # noqa: PLC0415 - cheap; needed for the first post anyway

    if not url.isascii() or any(c.isspace() or not c.isprintable() for c in url):
        return "contains whitespace, control or non-ASCII characters"
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        return "is not a valid URL"
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http") or not host:
        return "must be an https:// URL"
    if _is_loopback(host):
        return None
    if scheme != "https":
        return "must be an https:// URL (plain http is allowed for loopback addresses only)"
    if host not in SLACK_HOSTS and host not in extra_hosts:
        allowed = ", ".join(sorted(SLACK_HOSTS | extra_hosts))
        return f"must point at {allowed} (set SLACK_WEBHOOK_ALLOWED_HOSTS to allow another host)"
    return None


def _escaped_forms(secret: str) -> list[str]:
    """The ways a secret can appear in an error text: raw, as repr() shows it, %-encoded,
    and (when it holds control characters or spaces) each long piece between them."""
    from urllib.parse import quote  # noqa: PLC0415

    forms = {secret, repr(secret)[1:-1], quote(secret, safe="/:"), quote(secret, safe="")}
    forms.add(secret.encode("unicode_escape").decode("ascii"))
    pieces = "".join(c if c.isprintable() and not c.isspace() else "\n" for c in secret)
    forms.update(pieces.split("\n"))
    return [form for form in forms if len(form) >= 8]


def redact(text: str, url: str) -> str:
    """Remove the webhook URL (and its secret path) from text that may be logged, also in its
    escaped forms (repr(), %-encoding): http.client quotes a bad URL with repr()."""
    from urllib.parse import urlsplit  # noqa: PLC0415 - cheap; imported with http.client

    try:
        parts = urlsplit(url)
        # Whole URL, host and path, and each long path segment (Slack's token is the last one).
        secrets = [url, parts.path, parts.netloc, parts.netloc + parts.path, parts.query]
        secrets += parts.path.split("/")
    except ValueError:
        secrets = [url]
    forms = {form for secret in secrets for form in _escaped_forms(secret)}
    for form in sorted(forms, key=len, reverse=True):
        text = text.replace(form, "[redacted]")
    return text


def _retry_after_seconds(value: str | None) -> float | None:
    """Retry-After in seconds; the HTTP-date form is ignored (backoff is used instead)."""
    if not value:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    return max(0.0, seconds) if math.isfinite(seconds) else None


class AttemptTimeout(TimeoutError):
    """The attempt's deadline passed (in DNS, connect, TLS, send or while reading)."""


def _time_left(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise AttemptTimeout("the attempt's deadline passed")
    return left


def _deadline_socket_classes() -> tuple[type, type]:
    """socket and SSLSocket subclasses that bound every blocking call by the attempt deadline.

    urllib's timeout applies to each socket operation: a server that trickles a header line
    every 0.4 s never trips a 5 s timeout. These reset the timeout to the time left before
    each call, so the whole attempt ends by its deadline.
    """
    import socket  # noqa: PLC0415
    import ssl  # noqa: PLC0415

    def bounded(method_name: str, base: type) -> Any:  # noqa: ANN401
        method = getattr(base, method_name)

        def call(self: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: ANN401
            base.settimeout(self, _time_left(self.attempt_deadline))
            return method(self, *args, **kwargs)

        return call

    names = ("connect", "send", "sendall", "recv", "recv_into", "do_handshake")

    def build(base: type) -> type:
        members = {n: bounded(n, base) for n in names if hasattr(base, n)}
        members["attempt_deadline"] = 0.0
        return type(f"Deadline{base.__name__}", (base,), members)

    return build(socket.socket), build(ssl.SSLSocket)


_socket_classes: tuple[type, type] | None = None
_ssl_context: Any = None


def _resolve(host: str, port: int, deadline: float) -> list[Any]:
    """getaddrinfo has no timeout: run it in a daemon thread and stop waiting at the deadline."""
    import socket  # noqa: PLC0415
    import threading  # noqa: PLC0415

    if _is_loopback(host) or host.replace(".", "").isdigit():
        return socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    result: list[Any] = []
    failure: list[BaseException] = []

    def lookup() -> None:
        try:
            result.extend(socket.getaddrinfo(host, port, type=socket.SOCK_STREAM))
        except BaseException as exc:  # handed to the caller
            failure.append(exc)

    thread = threading.Thread(target=lookup, name="dns", daemon=True)
    thread.start()
    thread.join(_time_left(deadline))
    if failure:
        raise failure[0]
    if not result:
        raise AttemptTimeout("DNS lookup did not finish before the attempt's deadline")
    return result


def _open_socket(host: str, port: int, *, tls: bool, deadline: float) -> Any:  # noqa: ANN401
    global _socket_classes, _ssl_context  # noqa: PLW0603 - built once per container
    if _socket_classes is None:
        _socket_classes = _deadline_socket_classes()
    plain_class, tls_class = _socket_classes
    last: BaseException = OSError(f"no address for {host}")
    for family, kind, proto, _, address in _resolve(host, port, deadline):
        sock = plain_class(family, kind, proto)
        sock.attempt_deadline = deadline
        try:
            sock.connect(address)
        except OSError as exc:
            sock.close()
            last = exc
            continue
        if not tls:
            return sock
        if _ssl_context is None:
            import ssl  # noqa: PLC0415

            _ssl_context = ssl.create_default_context()
            _ssl_context.sslsocket_class = tls_class
        try:
            wrapped = _ssl_context.wrap_socket(
                sock, server_hostname=host, do_handshake_on_connect=False
            )
        except BaseException:
            sock.close()
            raise
        wrapped.attempt_deadline = deadline
        try:
            wrapped.do_handshake()
        except BaseException:
            wrapped.close()
            raise
        return wrapped
    raise last


def _connection(host: str, port: int, *, tls: bool, deadline: float) -> Any:  # noqa: ANN401
    import http.client  # noqa: PLC0415 - much lighter than urllib.request

    class DeadlineConnection(http.client.HTTPConnection):
        def connect(self) -> None:
            self.sock = _open_socket(self.host, self.port, tls=tls, deadline=deadline)

    connection = DeadlineConnection(host, port)
    connection.default_port = 443 if tls else 80  # the Host header omits the default port
    return connection


def _attempt(url: str, body: bytes, timeout: float) -> _Attempt:  # noqa: PLR0911 - one per outcome
    """One POST, bounded as a whole (DNS, connect, TLS, send, headers, body) by `timeout`.

    http.client rather than urllib: it never follows a redirect (a webhook never redirects; a
    POST turned into a GET would look like success) and it is a lighter import.
    """
    import http.client  # noqa: PLC0415
    from urllib.parse import urlsplit  # noqa: PLC0415

    problem = webhook_url_problem(url, frozenset({_host_of(url)}))
    if problem is not None:
        return _Attempt(None, f"invalid webhook URL: {problem}", retryable=False)
    deadline = time.monotonic() + timeout
    parts = urlsplit(url)
    tls = parts.scheme.lower() == "https"
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    connection = _connection(
        parts.hostname or "", parts.port or (443 if tls else 80), tls=tls, deadline=deadline
    )
    try:
        connection.request(
            "POST",
            target,
            body=body,
            headers={"Content-Type": "application/json; charset=utf-8"},
        )
        response = connection.getresponse()
        status = response.status
        retry_after = _retry_after_seconds(response.getheader("Retry-After"))
        text = response.read(ERROR_TEXT_LIMIT * 4).decode("utf-8", "replace").strip()
    except AttemptTimeout as exc:
        return _Attempt(None, f"timed out: {exc} ({timeout:.1f} s)", retryable=True)
    except (TimeoutError, OSError, http.client.HTTPException) as exc:
        # Timeouts, resets, refused connections, DNS failures, malformed responses: transient.
        return _Attempt(None, redact(f"{type(exc).__name__}: {exc}", url), retryable=True)
    except ValueError as exc:
        return _Attempt(None, redact(f"invalid webhook URL: {exc}", url), retryable=False)
    finally:
        connection.close()
    text = redact(text[:ERROR_TEXT_LIMIT], url)
    if 200 <= status < 300:
        if text == "ok":
            return _Attempt(status, None, retryable=False)
        # Slack's webhook answers exactly "ok". Anything else (a proxy's HTML page, "no_text")
        # is not a delivery. Not retried here: if something in between did pass the message
        # on, a quick retry would post it twice. The record fails, so Lambda's retries and the
        # failure queue keep it.
        return _Attempt(status, f"HTTP {status} without Slack's 'ok': {text!r}", retryable=False)
    # Slack answers 4xx with a short error text (invalid_payload, no_service, ...) that will not
    # change on a retry. 429, 5xx and the few timing-related 4xx are worth retrying.
    retryable = status in RETRYABLE_STATUSES or status >= 500
    return _Attempt(status, text or f"HTTP {status}", retryable=retryable, retry_after=retry_after)


def _host_of(url: str) -> str:
    """The URL's host, so the attempt checks the URL's form but not its host (settings does)."""
    from urllib.parse import urlsplit  # noqa: PLC0415

    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


def encode_payload(payload: dict[str, Any]) -> bytes:
    """The payload as compact UTF-8 JSON. Never raises UnicodeEncodeError: a lone surrogate
    anywhere in it (from an event, a setting, a bug) becomes U+FFFD instead."""
    return safe_text(json.dumps(payload, ensure_ascii=False, separators=(",", ":"))).encode("utf-8")


def post_to_slack(
    url: str,
    payload: dict[str, Any],
    *,
    policy: RetryPolicy = DEFAULT_POLICY,
    deadline: float | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    random: Callable[[], float] | None = None,
) -> Delivery:
    """POST the payload as JSON, retrying transient failures with jittered exponential backoff.

    `deadline` is a `clock()` value that the whole delivery, waits included, must finish by
    (the Lambda's remaining time minus a margin); None means only the policy bounds it.
    `sleep`, `clock` and `random` are injectable so tests need no real waiting.
    """
    body = encode_payload(payload)
    return send_with_retries(
        lambda timeout: _attempt(url, body, timeout),
        policy=policy,
        deadline=deadline,
        sleep=sleep,
        clock=clock,
        random=random,
    )


def send_with_retries(
    attempt: Callable[[float], _Attempt],
    *,
    policy: RetryPolicy = DEFAULT_POLICY,
    deadline: float | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    random: Callable[[], float] | None = None,
) -> Delivery:
    """Call `attempt(timeout)` until it delivers, fails permanently, or time or tries run out.

    The retry, backoff, Retry-After and deadline rules shared by every Slack transport (the
    webhook here, the Web API in slack_api.py).
    """
    if random is None:
        import random as random_module  # noqa: PLC0415 - deferred: cold start

        random = random_module.random
    attempts = 0
    last: _Attempt | None = None
    while attempts < policy.max_attempts:
        timeout = policy.request_timeout
        if deadline is not None:
            remaining = deadline - clock()
            if remaining < policy.min_attempt_time:
                return _failed("out_of_time", attempts, last)
            timeout = min(timeout, remaining)
        attempts += 1
        last = attempt(timeout)
        if last.delivered:
            return Delivery(
                delivered=True, outcome="delivered", attempts=attempts, status=last.status
            )
        if not last.retryable:
            return _failed("permanent_error", attempts, last)
        if attempts >= policy.max_attempts:
            break
        backoff = min(policy.max_delay, policy.base_delay * 2 ** (attempts - 1))
        delay = backoff / 2 + random() * backoff / 2
        if last.retry_after is not None:
            if last.retry_after > policy.max_retry_after:
                # Slack asks for a longer pause than we may spend: leave it to Lambda's retry.
                return _failed("retries_exhausted", attempts, last)
            delay = max(delay, last.retry_after)
        if deadline is not None and clock() + delay + policy.min_attempt_time > deadline:
            return _failed("out_of_time", attempts, last)
        sleep(delay)
    return _failed("retries_exhausted", attempts, last)


def _failed(outcome: str, attempts: int, last: _Attempt | None) -> Delivery:
    return Delivery(
        delivered=False,
        outcome=outcome,
        attempts=attempts,
        status=last.status if last else None,
        error=last.error if last else "no time left to try",
        retry_after=last.retry_after if last else None,
    )
