"""Send rendered messages: one small interface per channel, and the stages around it.

As in Alertmanager's notify pipeline, a notifier only knows how to send one message to its
channel; pacing (Slack allows about one message per second per channel) and outcome collection
live here, around it, so every channel shares them.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from records import frozen, replace
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

# Slack's answers to a message's content (not its transport): the same message would be refused
# again, so it goes once more as plain text. A webhook answers HTTP 400 with the bare string,
# the Web API {"ok": false, "error": ...} (tests/support/slack_rules.py names the sources).
REFUSED_CONTENT = frozenset({"invalid_blocks", "msg_blocks_too_long", "invalid_attachments"})


@frozen
class Sent:
    """One message part and what became of it."""

    part: MessagePart
    destination: str | None
    delivery: Delivery
    # Set when this part is the plain-text form of a message Slack refused: Slack's error.
    refused: str | None = None


def refused_content(delivery: Delivery) -> str | None:
    """Slack's error when it refused the message for its content, else None."""
    if delivery.delivered or delivery.outcome != "permanent_error":
        return None
    error = (delivery.error or "").strip()
    return error if error in REFUSED_CONTENT else None


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


def _send(
    part: MessagePart,
    destination: str | None,
    notifier: Notifier,
    *,
    pacer: Pacer,
    deadline: float,
) -> Sent:
    """Send one part, paced; a part left without time fails as out_of_time."""
    if not pacer.wait_turn(destination, deadline):
        return Sent(
            part, destination, Delivery(False, "out_of_time", 0, error="no time left to try")
        )
    try:
        delivery = notifier.send(part.payload, destination=destination, deadline=deadline)
    except Exception as exc:  # one message's bug must not cost the others theirs
        # Only the type: an exception's text may quote the payload or the URL.
        delivery = Delivery(False, "error", 0, error=type(exc).__name__)
    pacer.sent(destination, delivery)
    return Sent(part, destination, delivery)


def deliver(
    parts: list[tuple[MessagePart, str | None]],
    notifier: Notifier,
    *,
    pacer: Pacer,
    deadline: float,
    plain: Callable[[MessagePart], list[MessagePart]] | None = None,
) -> list[Sent]:
    """Send every part in order, paced per destination. A part that fails, or whose send
    raises, never stops the others; a part left without time fails as out_of_time.

    A part Slack refuses for its content (REFUSED_CONTENT) is sent again as `plain(part)`: the
    same entries as text only, split as needed. Those parts replace it in the result, each
    marked `refused`; an entry then fails only if its plain form fails too."""
    results = []
    for part, destination in parts:
        sent = _send(part, destination, notifier, pacer=pacer, deadline=deadline)
        refused = refused_content(sent.delivery) if plain is not None else None
        if refused is None or plain is None:
            results.append(sent)
            continue
        try:
            retries = plain(part)
        except Exception as exc:  # the plain form must not cost the other parts theirs
            error = f"{refused}; plain form failed: {type(exc).__name__}"
            failed = Delivery(False, "error", sent.delivery.attempts, error=error)
            results.append(Sent(part, destination, failed, refused=refused))
            continue
        for retry in retries:
            again = _send(retry, destination, notifier, pacer=pacer, deadline=deadline)
            results.append(replace(again, refused=refused))
    return results
