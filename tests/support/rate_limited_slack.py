"""RateLimitedSlack: a FakeSlack webhook that enforces Slack's per-channel rate like Slack does."""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass

from support.fake_slack import FakeSlack, Response


@dataclass(frozen=True)
class Answer:
    """When a request arrived (seconds since start) and its HTTP status."""

    at: float
    status: int


class RateLimitedSlack(FakeSlack):
    """A token bucket of `burst` messages refilled at `rate` per second; an empty bucket
    answers 429 rate_limited with an integer Retry-After (seconds), as Slack's webhooks do.

    Source: Slack's rate limits page, incoming webhooks: "1 per second per channel, short
    bursts allowed" ... "HTTP 429 Too Many Requests" with a Retry-After header. The burst size
    is not documented: 5 is a guess; tests that must not depend on it use burst=1. Content is
    checked first, as FakeSlack does (support.slack_rules)."""

    def __init__(self, *, rate: float = 1.0, burst: int = 5) -> None:
        super().__init__()
        self.rate = rate
        self.burst = burst
        self._bucket_lock = threading.Lock()
        self._tokens = float(burst)
        self._filled_at = time.monotonic()
        self.started = time.monotonic()
        self.answers: list[Answer] = []

    def next_response(self, body: bytes) -> Response:
        """200 while the bucket has a token, else 429 with the wait until the next one."""
        with self._bucket_lock:
            now = time.monotonic()
            self._tokens = min(self.burst, self._tokens + (now - self._filled_at) * self.rate)
            self._filled_at = now
            if self._tokens >= 1:
                self._tokens -= 1
                self.answers.append(Answer(now - self.started, 200))
                return Response(200, "ok")
            wait = max(1, math.ceil((1 - self._tokens) / self.rate))
            self.answers.append(Answer(now - self.started, 429))
            return Response(429, "rate_limited", (("Retry-After", str(wait)),))

    @property
    def accepted(self) -> list[dict]:
        """The JSON bodies Slack accepted (posted to the channel)."""
        return [r.json for r in self.received if r.response.status == 200]
