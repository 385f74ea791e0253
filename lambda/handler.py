"""Lambda entry point: CloudWatch alarm events (via SNS, alarm action or EventBridge) to Slack."""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from collections.abc import Callable

from alarm import Received, parse_records
from delivery import Pacer, Sent, WebhookNotifier, deliver
from grouping import plan_notifications
from render import plain_fallback, render_notification
from settings import ConfigError, Settings, load_settings, resolve_webhook_url
from slack import DEFAULT_POLICY, RetryPolicy

# typing costs cold-start time and is only needed by type checkers.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from delivery import Notifier
    from state import StateStore

logger = logging.getLogger("alarm_to_slack")

# Stop retrying this long before Lambda's own timeout, so the function reports the failure
# itself (and Lambda keeps the event) instead of being killed mid-attempt.
SAFETY_MARGIN_SECONDS = 1.5
# Budget for all records when there is no Lambda context (local runs, tests).
NO_CONTEXT_BUDGET_SECONDS = 25.0
# A digest's log line names this many alarms (the message itself names them all).
LOGGED_NAMES = 50

_settings: Settings | None = None


class DeliveryError(Exception):
    """Some records could not be delivered; raised after all messages were attempted.

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
    """Forget settings, the SSM value and the state store, as a new container would (tests,
    local runs)."""
    global _settings  # noqa: PLW0603
    _settings = None
    app_mode = sys.modules.get("app_mode")
    if app_mode is not None:
        app_mode.forget_state_store()
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


def _log_sent(sent: Sent) -> None:
    entries = sent.part.entries
    delivery = sent.delivery
    fields: dict[str, object] = {"message": "slack delivery"}
    if len(entries) == 1:
        alarm = entries[0].alarm
        fields |= {"event_kind": alarm.event_kind, "alarm_name": alarm.name, "state": alarm.state}
    else:
        names = [e.alarm.name or e.alarm.subject or "?" for e in entries]
        fields |= {
            "event_kind": "digest",
            "alarms": len(entries),
            "alarm_names": names[:LOGGED_NAMES] + (["…"] if len(names) > LOGGED_NAMES else []),
        }
    if sent.destination is not None:
        fields["destination"] = sent.destination
    level = logging.INFO if delivery.delivered else logging.ERROR
    if sent.refused is not None:
        # Slack refused the Block Kit message for its content; this is its plain-text form.
        fields["message"] = (
            "slack refused the message; sent as plain text"
            if delivery.delivered
            else "slack refused the message and its plain-text form failed"
        )
        fields |= {"form": "plain", "refused": sent.refused}
        level = logging.WARNING if delivery.delivered else logging.ERROR
    fields |= {
        "outcome": delivery.outcome,
        "attempts": delivery.attempts,
        "http_status": delivery.status,
        "error": delivery.error,
    }
    _log(level, **fields)


def report(received: list[Received], results: list[Sent]) -> dict[str, object]:
    """What the invocation returns: batchItemFailures for an SQS batch (the records whose
    message Slack did not accept come back later), else a summary; raise if some record that
    cannot be reported individually was not delivered."""
    failed_items: dict[str, None] = {}
    failed_records = 0
    delivered_records = 0
    for sent in results:
        for entry in sent.part.entries:
            if sent.delivery.delivered:
                delivered_records += entry.records
            else:
                failed_records += entry.records
                failed_items |= dict.fromkeys(entry.item_ids)
    # An entry may appear in a delivered and a failed part only if it was split across them,
    # which the renderers never do; an item is acknowledged only if none of its parts failed.
    from_sqs = bool(received) and all(r.item_id for r in received)
    if from_sqs:
        return {"batchItemFailures": [{"itemIdentifier": item} for item in failed_items]}
    summary = {
        "records": len(received),
        "delivered": len(received) - failed_records,
        "failed": failed_records,
    }
    if failed_records:
        outcomes = ", ".join(
            sorted(
                {
                    f"{s.delivery.outcome} (HTTP {s.delivery.status})"
                    for s in results
                    if not s.delivery.delivered
                }
            )
        )
        raise DeliveryError(
            f"{failed_records} of {len(received)} Slack message(s) not delivered: {outcomes}"
        )
    return summary


def handle_event(
    event: object,
    context: object,
    *,
    settings: Settings,
    webhook_url: str | None = None,
    notifier: Notifier | None = None,
    policy: RetryPolicy = DEFAULT_POLICY,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    state: StateStore | None = None,
    bot_token: str | None = None,
    wall_clock: Callable[[], float] = time.time,
) -> dict[str, object]:
    """The handler with its dependencies explicit: settings, notifier (or webhook URL), retry
    policy, sleep and clock; in Slack app mode the state store (else DynamoDB), the bot
    token (else read from SSM) and the wall clock (how old a live storm digest is)."""
    logger.setLevel(settings.log_level)
    received = parse_records(event)
    if not received:
        _log(logging.INFO, message="empty event, nothing to send", outcome="noop")
        return {"records": 0, "delivered": 0, "failed": 0}
    deadline = deadline_from(context, clock)
    if settings.app_mode:
        from app_mode import deliver_app_mode  # noqa: PLC0415 - webhook mode never pays for it

        results = deliver_app_mode(
            received, settings, deadline=deadline, state=state, bot_token=bot_token,
            policy=policy, sleep=sleep, clock=clock, context=context, wall_clock=wall_clock,
        )  # fmt: skip
        for sent in results:
            _log_sent(sent)
        return report(received, results)
    notifications = plan_notifications(received, digest_threshold=settings.digest_threshold)
    parts = [
        (part, notification.destination)
        for notification in notifications
        for part in render_notification(notification, settings)
    ]
    if notifier is None:
        url = webhook_url or resolve_webhook_url(settings)
        notifier = WebhookNotifier(url, policy=policy, sleep=sleep, clock=clock)
    pacer = Pacer(settings.message_interval, sleep=sleep, clock=clock)
    results = deliver(
        parts,
        notifier,
        pacer=pacer,
        deadline=deadline,
        plain=lambda part: plain_fallback(part.entries, settings),
    )
    for sent in results:
        _log_sent(sent)
    return report(received, results)


def lambda_handler(event: Any, context: Any) -> dict[str, object]:  # noqa: ANN401 - Lambda's API
    """Entry point: the event's alarms to Slack. An SQS batch answers with the records to
    retry (batchItemFailures); other events raise if any record was not delivered."""
    try:
        return handle_event(event, context, settings=get_settings())
    except ConfigError as exc:
        _log(logging.ERROR, message="configuration error", error=str(exc))
        raise
