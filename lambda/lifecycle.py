"""The life of one alert in Slack app mode, as a pure state machine: no I/O here.

Given the stored record of an alarm (where its message is, what it shows, what is still to do)
and an incoming event, `plan` says which Slack calls to make; `posted`, `replied` and `resolved`
say what the record becomes once Slack answered. SlackApp (slack_app.py) makes the calls and the
StateStore (state.py) keeps the records: both stay at the edges, so the alarm path, digests and
(later) Slack's interactivity buttons share this one lifecycle.

Rules (Alertmanager's nflog and PagerDuty's incident model):
- one open message per alarm: a new ALARM posts it, a repeat while it is open goes into its
  thread, an OK replies in its thread and turns the message green in place;
- the newest StateChangeTime wins: an older state arriving late (SQS standard queues do not
  keep order) is shown in the thread as late and never reopens or re-fires the alert;
- a resolve whose chat.update did not land stays pending in the record and is retried (update
  only: the OK reply is never posted twice).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

from alarm import Alarm, parse_timestamp
from state import AlarmMessage

# typing costs cold-start time and is only needed by type checkers.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

# What `plan` decides for one alarm event.
POST = "post"  # a new top-level message (no open message, or the alarm has no identity)
REPLY = "reply"  # ALARM/INSUFFICIENT_DATA again while open: into the thread
RESOLVE = "resolve"  # OK while open: reply in the thread, then update the message in place
FINISH_RESOLVE = "finish_resolve"  # the OK reply is there; only the update is still to do
LATE = "late"  # older than what the message shows: a thread note, no state change
NOTHING = "nothing"  # the same state change again (a redelivery): nothing to show
FIND = "find"  # an earlier post may have landed unseen: find it (metadata) before anything else
# The message metadata event type that marks an alarm's own message (Slack message metadata).
EVENT_TYPE = "alarm_to_slack_alert"


@dataclass(frozen=True)
class Plan:
    """What to do for one alarm event: `action` and where (`channel`, `ts` of the message)."""

    action: str
    channel: str
    ts: str | None = None

    @property
    def in_thread(self) -> bool:
        return self.action in (REPLY, RESOLVE, LATE)


def alarm_key(alarm: Alarm) -> str | None:
    """What identifies an alarm across notifications: its ARN (None for text messages)."""
    if alarm.kind != "alarm":
        return None
    if alarm.arn:
        return alarm.arn
    if alarm.name:
        return f"{alarm.account or '?'}:{alarm.region or '?'}:{alarm.name}"
    return None


def _moment(timestamp: str | None) -> dt.datetime | None:
    parsed = parse_timestamp(timestamp) if timestamp else None
    if parsed is None:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def is_older(alarm: Alarm, record: AlarmMessage) -> bool:
    """The event changed state before the state the record shows (both times known)."""
    incoming, shown = _moment(alarm.timestamp), _moment(record.changed_at)
    return incoming is not None and shown is not None and incoming < shown


def is_same_change(alarm: Alarm, record: AlarmMessage) -> bool:
    """The event is the state change the record already shows (same state, same time)."""
    return (
        bool(alarm.timestamp)
        and alarm.state == record.state
        and _moment(alarm.timestamp) == _moment(record.changed_at)
    )


def _started_it(alarm: Alarm, record: AlarmMessage) -> bool:
    """The event is the one the message was posted for (redelivered after the message moved on)."""
    return (
        bool(alarm.timestamp)
        and alarm.state != "OK"
        and _moment(alarm.timestamp) == _moment(record.since)
    )


def plan(record: AlarmMessage | None, alarm: Alarm, channel: str) -> Plan:  # noqa: PLR0911
    """The Slack calls one alarm event needs, given the alarm's stored record (None: none)."""
    if record is None or alarm_key(alarm) is None:
        return Plan(POST, channel)
    if record.unsure:
        return Plan(FIND, record.channel)
    if record.pending_update and alarm.state == "OK" and is_same_change(alarm, record):
        return Plan(FINISH_RESOLVE, record.channel, record.ts)
    if is_same_change(alarm, record) or _started_it(alarm, record):
        return Plan(NOTHING, record.channel, record.ts)
    if is_older(alarm, record):
        return Plan(LATE, record.channel, record.ts)
    if record.state == "OK":
        # Resolved: a new ALARM is a new incident and a new message; an OK again is a plain post.
        return Plan(POST, channel)
    if alarm.state == "OK":
        return Plan(RESOLVE, record.channel, record.ts)
    return Plan(REPLY, record.channel, record.ts)


def metadata(alarm: Alarm, key: str) -> dict[str, Any]:
    """What a top-level alarm message carries so the app can find it again (after a post whose
    answer was lost): conversations.history with include_all_metadata returns it."""
    return {
        "event_type": EVENT_TYPE,
        "event_payload": {"alarm_key": key, "changed_at": alarm.timestamp or ""},
    }


def is_message_of(message: dict[str, Any], alarm: Alarm, key: str) -> bool:
    """`message` (from conversations.history) is the one posted for this alarm change."""
    meta = message.get("metadata") or {}
    payload = meta.get("event_payload") or {}
    return (
        meta.get("event_type") == EVENT_TYPE
        and payload.get("alarm_key") == key
        and payload.get("changed_at") == (alarm.timestamp or "")
    )


def unsure(alarm: Alarm, key: str, channel: str, payload: dict[str, Any] | None) -> AlarmMessage:
    """The record of a post that may or may not have landed (its answer was lost)."""
    return replace(posted(alarm, key, channel, "", payload), unsure=True)


def posted(
    alarm: Alarm, key: str, channel: str, ts: str, payload: dict[str, Any] | None
) -> AlarmMessage:
    """The record of an alarm's new top-level message."""
    return AlarmMessage(
        alarm_key=key,
        channel=channel,
        ts=ts,
        state=alarm.state or "",
        since=alarm.timestamp,
        payload=payload,
        changed_at=alarm.timestamp,
    )


def replied(record: AlarmMessage, alarm: Alarm) -> AlarmMessage:
    """The record after a thread reply for a newer non-OK state (ALARM ↔ INSUFFICIENT_DATA)."""
    return replace(
        record,
        state=alarm.state or record.state,
        changed_at=alarm.timestamp or record.changed_at,
    )


def resolved(record: AlarmMessage, alarm: Alarm, *, updated: bool) -> AlarmMessage:
    """The record once the OK reply is in the thread: closed, the update done or pending."""
    return replace(
        record,
        state="OK",
        changed_at=alarm.timestamp or record.changed_at,
        pending_update=not updated,
    )


@dataclass(frozen=True)
class DigestStep:
    """What naming an alarm in a digest part does to its record.

    `record`: the record to store (None: unchanged); `owns`: the part is the alarm's place now
    (counted in the part's "still open"); `resolve`: a record whose message must turn resolved.
    """

    record: AlarmMessage | None = None
    owns: bool = False
    resolve: AlarmMessage | None = None


def in_digest(record: AlarmMessage | None, alarm: Alarm, channel: str, ts: str) -> DigestStep:  # noqa: PLR0911
    """An alarm named in the digest part `ts`: a new open alarm points at that part; one with
    an open place keeps it (an OK resolves it there); an event older than the state shown, or
    the change already shown, changes nothing."""
    key = alarm_key(alarm)
    if key is None:
        return DigestStep()
    if record is not None:
        if record.pending_update and alarm.state == "OK" and is_same_change(alarm, record):
            return DigestStep(resolve=record)
        if is_same_change(alarm, record) or _started_it(alarm, record) or is_older(alarm, record):
            return DigestStep()
        if record.state != "OK":
            if alarm.state == "OK":
                closed = resolved(record, alarm, updated=False)
                return DigestStep(record=closed, resolve=closed)
            return DigestStep(record=replied(record, alarm))
    if alarm.state == "OK":
        return DigestStep()
    pointer = AlarmMessage(
        alarm_key=key,
        channel=channel,
        ts=ts,
        state=alarm.state or "",
        since=alarm.timestamp,
        digest=True,
        changed_at=alarm.timestamp,
    )
    return DigestStep(record=pointer, owns=True)
