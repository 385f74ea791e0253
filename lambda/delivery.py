"""Send rendered messages: one small interface per channel, and the stages around it.

As in Alertmanager's notify pipeline, a notifier only knows how to send one message to its
channel; pacing (Slack allows about one message per second per channel) and outcome collection
live here, around it, so every channel shares them.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from records import frozen
from slack import DEFAULT_POLICY, Delivery, RetryPolicy, post_to_slack

# typing costs cold-start time and is only needed by type checkers.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Protocol

    from formatting import MessagePart

    class Notifier(Protocol):
        """Sends one message to one destination; retries inside, within the deadline."""

        def send(
            self, payload: dict[str, Any], *, destination: str | None, deadline: float
        ) -> Delivery: ...


# Slack's documented rate for incoming webhooks and chat.postMessage: about one message per
# second per channel, short bursts allowed.
DEFAULT_MESSAGE_INTERVAL = 1.0


@frozen
class Sent:
    """One message part and what became of it."""

    part: MessagePart
    destination: str | None
    delivery: Delivery


class WebhookNotifier:
    """An incoming webhook: one channel, post only."""

    def __init__(
        self,
        url: str,
        *,
        policy: RetryPolicy = DEFAULT_POLICY,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._url = url
        self._policy = policy
        self._sleep = sleep
        self._clock = clock

    def __repr__(self) -> str:
        return "WebhookNotifier(url=[redacted])"

    def send(
        self, payload: dict[str, Any], *, destination: str | None, deadline: float
    ) -> Delivery:
        """POST the payload to the webhook (the destination is the webhook's own channel)."""
        del destination
        return post_to_slack(
            self._url,
            payload,
            policy=self._policy,
            deadline=deadline,
            sleep=self._sleep,
            clock=self._clock,
        )


class Pacer:
    """At most one message per `interval` seconds per destination from this invocation."""

    def __init__(
        self,
        interval: float = DEFAULT_MESSAGE_INTERVAL,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._interval = interval
        self._sleep = sleep
        self._clock = clock
        self._next: dict[str | None, float] = {}

    def wait_turn(self, destination: str | None, deadline: float) -> bool:
        """Sleep until the destination may get the next message; False if that is past the
        deadline (the message is then left for a later invocation)."""
        earliest = self._next.get(destination)
        if earliest is None:
            return True
        wait = earliest - self._clock()
        if wait <= 0:
            return True
        if self._clock() + wait >= deadline:
            return False
        self._sleep(wait)
        return True

    def sent(self, destination: str | None, delivery: Delivery) -> None:
        """Note that the destination just answered a message (and asked for a pause, if so)."""
        pause = max(self._interval, delivery.retry_after or 0.0)
        self._next[destination] = self._clock() + pause


def deliver(
    parts: list[tuple[MessagePart, str | None]],
    notifier: Notifier,
    *,
    pacer: Pacer,
    deadline: float,
) -> list[Sent]:
    """Send every part in order, paced per destination. A part that fails, or whose send
    raises, never stops the others; a part left without time fails as out_of_time."""
    results = []
    for part, destination in parts:
        if not pacer.wait_turn(destination, deadline):
            delivery = Delivery(False, "out_of_time", 0, error="no time left to try")
        else:
            try:
                delivery = notifier.send(part.payload, destination=destination, deadline=deadline)
            except Exception as exc:  # one message's bug must not cost the others theirs
                # Only the type: an exception's text may quote the payload or the URL.
                delivery = Delivery(False, "error", 0, error=type(exc).__name__)
            pacer.sent(destination, delivery)
        results.append(Sent(part, destination, delivery))
    return results
