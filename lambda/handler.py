"""Lambda entry point: CloudWatch alarm events (via SNS, alarm action or EventBridge) to Slack."""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable

from alarm import Alarm, parse_event
from message import format_fallback, format_message
from settings import ConfigError, Settings, load_settings, resolve_webhook_url
from slack import DEFAULT_POLICY, Delivery, RetryPolicy, post_to_slack

# typing costs cold-start time and is only needed by type checkers.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

logger = logging.getLogger("alarm_to_slack")

# Stop retrying this long before Lambda's own timeout, so the function reports the failure
# itself (and Lambda keeps the event) instead of being killed mid-attempt.
SAFETY_MARGIN_SECONDS = 1.5
# Budget for all records when there is no Lambda context (local runs, tests).
NO_CONTEXT_BUDGET_SECONDS = 25.0

_settings: Settings | None = None


class DeliveryError(Exception):
    """Some records could not be delivered; raised after all records were attempted.

    Lambda's asynchronous retries and the on-failure destination then keep the event. The
    message names counts and outcomes only, never the webhook URL.
    """


def get_settings() -> Settings:
    """The container's settings, read from the environment on first use."""
    global _settings  # noqa: PLW0603 - read once per container by design
    if _settings is None:
        _settings = load_settings(os.environ)
    return _settings


def reset_caches() -> None:
    """Forget settings and the SSM value, as a new container would (tests, local runs)."""
    global _settings  # noqa: PLW0603
    _settings = None
    from settings import clear_ssm_cache  # noqa: PLC0415

    clear_ssm_cache()


def _log(level: int, **fields: object) -> None:
    logger.log(level, json.dumps(fields, ensure_ascii=False, default=str))


def deadline_from(context: object, clock: Callable[[], float]) -> float:
    """A clock() value by which delivery must be over: Lambda's remaining time minus a margin."""
    remaining_ms = getattr(context, "get_remaining_time_in_millis", None)
    if callable(remaining_ms):
        try:
            remaining = float(remaining_ms()) / 1000.0
        except (TypeError, ValueError):
            remaining = NO_CONTEXT_BUDGET_SECONDS
        return clock() + max(0.0, remaining - SAFETY_MARGIN_SECONDS)
    return clock() + NO_CONTEXT_BUDGET_SECONDS


def deliver_alarm(
    alarm: Alarm,
    settings: Settings,
    url: str,
    *,
    deadline: float,
    policy: RetryPolicy,
    sleep: Callable[[float], None],
    clock: Callable[[], float],
) -> Delivery:
    """Format and post one alarm, and log one JSON line about it."""
    try:
        payload = format_message(alarm, settings)
    except Exception:
        # A formatting bug must not lose the alert: send a plain fallback and log the bug.
        logger.exception("could not format %s; sending a plain fallback", alarm.event_kind)
        payload = format_fallback(alarm, settings)
    delivery = post_to_slack(
        url, payload, policy=policy, deadline=deadline, sleep=sleep, clock=clock
    )
    _log(
        logging.INFO if delivery.delivered else logging.ERROR,
        message="slack delivery",
        event_kind=alarm.event_kind,
        alarm_name=alarm.name,
        state=alarm.state,
        outcome=delivery.outcome,
        attempts=delivery.attempts,
        http_status=delivery.status,
        error=delivery.error,
    )
    return delivery


def handle_event(
    event: object,
    context: object,
    *,
    settings: Settings,
    webhook_url: str | None = None,
    policy: RetryPolicy = DEFAULT_POLICY,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> dict[str, int]:
    """The handler with its dependencies explicit: settings, URL, retry policy, sleep, clock."""
    logger.setLevel(settings.log_level)
    alarms = parse_event(event)
    if not alarms:
        _log(logging.INFO, message="empty event, nothing to send", outcome="noop")
        return {"records": 0, "delivered": 0, "failed": 0}
    url = webhook_url or resolve_webhook_url(settings)
    deadline = deadline_from(context, clock)
    deliveries = [
        deliver_alarm(
            alarm, settings, url, deadline=deadline, policy=policy, sleep=sleep, clock=clock
        )
        for alarm in alarms
    ]
    failed = [d for d in deliveries if not d.delivered]
    summary = {
        "records": len(deliveries),
        "delivered": len(deliveries) - len(failed),
        "failed": len(failed),
    }
    if failed:
        outcomes = ", ".join(sorted({f"{d.outcome} (HTTP {d.status})" for d in failed}))
        raise DeliveryError(
            f"{len(failed)} of {len(deliveries)} Slack message(s) not delivered: {outcomes}"
        )
    return summary


def lambda_handler(event: Any, context: Any) -> dict[str, int]:  # noqa: ANN401 - Lambda's API
    """Entry point: one Slack message per record; raises if any record was not delivered."""
    try:
        return handle_event(event, context, settings=get_settings())
    except ConfigError as exc:
        _log(logging.ERROR, message="configuration error", error=str(exc))
        raise
