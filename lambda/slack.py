"""Deliver a payload to a Slack incoming webhook with bounded retries; never logs the URL."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

# typing costs cold-start time and is only needed by type checkers.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

# Slack answers these with a short error text (invalid_payload, no_service, ...) that will not
# change on a retry; they are permanent. 429 and 5xx are worth retrying.
RETRYABLE_STATUSES = frozenset({408, 425, 429})
ERROR_TEXT_LIMIT = 200


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try one message. All times in seconds."""

    max_attempts: int = 4
    request_timeout: float = 5.0
    base_delay: float = 0.5
    max_delay: float = 8.0
    # Slack's Retry-After is waited out in full when the deadline allows (in an SQS batch the
    # alternative is the visibility timeout, minutes later); longer pauses end the attempt.
    max_retry_after: float = 60.0
    # Do not start an attempt with less time left than this before the deadline.
    min_attempt_time: float = 0.5


DEFAULT_POLICY = RetryPolicy()


@dataclass(frozen=True)
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


def redact(text: str, url: str) -> str:
    """Remove the webhook URL (and its secret path) from text that may be logged."""
    from urllib.parse import urlsplit  # noqa: PLC0415 - cheap; imported with urllib.request

    try:
        parts = urlsplit(url)
        # Whole URL, its path, and each long path segment (Slack's token is the last one).
        secrets = [url, parts.path, parts.netloc + parts.path, parts.query]
        secrets += parts.path.split("/")
    except ValueError:
        secrets = [url]
    for secret in sorted((s for s in secrets if len(s) >= 8), key=len, reverse=True):
        text = text.replace(secret, "[redacted]")
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


def _read_error_body(response: Any) -> str:  # noqa: ANN401 - HTTPError or HTTPResponse
    try:
        raw = response.read(ERROR_TEXT_LIMIT * 4)
    except Exception:  # the status code alone still tells the story
        return ""
    return raw.decode("utf-8", "replace").strip()[:ERROR_TEXT_LIMIT]


_opener: Any = None


def _get_opener() -> Any:  # noqa: ANN401 - urllib's OpenerDirector
    """An opener that does not follow redirects (a webhook never redirects; a POST turned into a
    GET would look like success). Built on first use: urllib.request is a large import and the
    cold start should not pay for it."""
    global _opener  # noqa: PLW0603 - one opener per container
    if _opener is None:
        import urllib.request  # noqa: PLC0415

        class _NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *args: Any, **kwargs: Any) -> None:  # noqa: ANN401
                return None

        _opener = urllib.request.build_opener(_NoRedirect())
    return _opener


def _attempt(url: str, body: bytes, timeout: float) -> _Attempt:  # noqa: PLR0911 - one per outcome
    import http.client  # noqa: PLC0415 - already loaded by urllib.request
    import urllib.error  # noqa: PLC0415
    import urllib.request  # noqa: PLC0415

    if not url.lower().startswith(("https://", "http://")):
        # Also keeps urllib's file:// and ftp:// handlers out of reach.
        return _Attempt(None, "invalid webhook URL: not an http(s) URL", retryable=False)
    opener = _get_opener()
    try:
        request = urllib.request.Request(  # noqa: S310 - the operator's webhook URL
            url,
            data=body,
            method="POST",
            headers={"Content-Type": "application/json; charset=utf-8"},
        )
    except ValueError as exc:
        return _Attempt(None, redact(f"invalid webhook URL: {exc}", url), retryable=False)
    try:
        with opener.open(request, timeout=timeout) as response:
            status = response.status
            text = _read_error_body(response)
    except urllib.error.HTTPError as exc:
        status = exc.code
        text = _read_error_body(exc)
        retryable = status in RETRYABLE_STATUSES or status >= 500
        retry_after = _retry_after_seconds(exc.headers.get("Retry-After") if exc.headers else None)
        exc.close()
        return _Attempt(
            status,
            redact(text or exc.reason or "", url),
            retryable=retryable,
            retry_after=retry_after,
        )
    except urllib.error.URLError as exc:
        reason = exc.reason
        detail = (
            f"{type(reason).__name__}: {reason}"
            if isinstance(reason, BaseException)
            else str(reason)
        )
        retryable = not isinstance(reason, ValueError)
        return _Attempt(None, redact(detail, url), retryable=retryable)
    except (TimeoutError, OSError, http.client.HTTPException) as exc:
        # Timeouts during the read, connection resets, malformed responses: all transient.
        return _Attempt(None, redact(f"{type(exc).__name__}: {exc}", url), retryable=True)
    except ValueError as exc:
        return _Attempt(None, redact(f"invalid webhook URL: {exc}", url), retryable=False)
    if 200 <= status < 300:
        return _Attempt(status, None, retryable=False)
    return _Attempt(status, redact(text, url), retryable=status >= 500)


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
    if random is None:
        import random as random_module  # noqa: PLC0415 - deferred like urllib.request

        random = random_module.random
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
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
        last = _attempt(url, body, timeout)
        if last.status is not None and 200 <= last.status < 300:
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
