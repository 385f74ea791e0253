"""The rate-limited fake answers like Slack: a burst, then 429 with Retry-After, then refills."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request

from support.rate_limited_slack import RateLimitedSlack


def post(url: str) -> tuple[int, str | None]:
    request = urllib.request.Request(url, data=json.dumps({"text": "x"}).encode(), method="POST")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, None
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get("Retry-After")


def test_a_burst_passes_then_429_with_retry_after_then_a_token_returns() -> None:
    with RateLimitedSlack(rate=5.0, burst=3) as slack:
        answers = [post(slack.url) for _ in range(4)]
        assert [a[0] for a in answers] == [200, 200, 200, 429]
        assert answers[3][1] == "1"
        time.sleep(0.25)
        assert post(slack.url)[0] == 200
        assert len(slack.accepted) == 4
        assert [a.status for a in slack.answers] == [200, 200, 200, 429, 200]
