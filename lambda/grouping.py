"""Group one batch of received alarms into the notifications to send: pure, no I/O.

Like Alertmanager's grouping stage, between receiving and notifying: duplicates are dropped, the
records of one alarm become one entry (its latest state, and the states it passed through), and
per destination either each entry gets its own message or, past a threshold, they share digests.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable

from alarm import Alarm, Received, parse_timestamp
from records import frozen

# typing costs cold-start time and is only needed by type checkers.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

# Up to this many alarms for one destination each get the full message; more share digests.
DEFAULT_DIGEST_THRESHOLD = 3


@frozen
class Entry:
    """One alarm in a notification: its latest record and what happened to it in this batch.

    states lists the distinct consecutive states seen, oldest first (["ALARM", "OK"] when it
    fired and recovered within the batch). item_ids and event_ids are every record folded into
    this entry, duplicates included, so acknowledging the entry acknowledges all of them.
    """

    alarm: Alarm
    states: tuple[str, ...] = ()
    item_ids: tuple[str, ...] = ()
    event_ids: tuple[str, ...] = ()
    records: int = 1

    @property
    def flapped(self) -> bool:
        """It changed state more than once in this batch."""
        return len(self.states) > 1


@frozen
class Notification:
    """One message to send (kind "alarm") or one digest (kind "digest") for one destination."""

    kind: str
    entries: tuple[Entry, ...]
    destination: str | None = None

    @property
    def item_ids(self) -> tuple[str, ...]:
        """The SQS messages this notification carries (acknowledged once it is delivered)."""
        return tuple(dict.fromkeys(i for entry in self.entries for i in entry.item_ids))


def _identity(alarm: Alarm, position: int) -> tuple[Any, ...]:
    """Which records belong to the same alarm: its ARN, else its name; other kinds never merge."""
    if alarm.kind == "alarm" and (alarm.arn or alarm.name):
        return ("alarm", alarm.arn or alarm.name)
    return ("record", position)


def _content_key(alarm: Alarm) -> tuple[Any, ...] | None:
    """Same alarm, same state, same time: the same notification sent twice (e.g. by SNS raw
    delivery and EventBridge). None when the record does not say enough to tell."""
    if alarm.kind != "alarm" or not alarm.state or not alarm.timestamp:
        return None
    return (alarm.arn or alarm.name, alarm.state, _sort_time(alarm))


def _sort_time(alarm: Alarm) -> str:
    """A sortable form of the state-change time, whatever offset notation the sender used;
    "" for none or an unparseable one (those sort first, keeping their arrival order)."""
    parsed = parse_timestamp(alarm.timestamp) if alarm.timestamp else None
    if parsed is None:
        return ""
    return parsed.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")


def _distinct_consecutive(values: Iterable[str]) -> tuple[str, ...]:
    out: list[str] = []
    for value in values:
        if not out or out[-1] != value:
            out.append(value)
    return tuple(out)


def collect_entries(received: Iterable[Received]) -> list[Entry]:
    """Drop duplicates and fold each alarm's records into one entry, in first-seen order.

    A duplicate (same event_id, or same alarm + state + time) adds only its ids to the entry, so
    it is acknowledged with the message that names the alarm once.
    """
    groups: dict[tuple[Any, ...], list[Received]] = {}
    ids: dict[tuple[Any, ...], tuple[list[str], list[str]]] = {}
    counts: dict[tuple[Any, ...], int] = {}
    seen_events: dict[str, tuple[Any, ...]] = {}
    seen_content: dict[tuple[Any, ...], tuple[Any, ...]] = {}
    for position, record in enumerate(received):
        key = _identity(record.alarm, position)
        content = _content_key(record.alarm)
        duplicate_of = seen_events.get(record.event_id or "") or seen_content.get(content or ())
        target = duplicate_of or key
        item_ids, event_ids = ids.setdefault(target, ([], []))
        counts[target] = counts.get(target, 0) + 1
        if record.item_id and record.item_id not in item_ids:
            item_ids.append(record.item_id)
        if record.event_id and record.event_id not in event_ids:
            event_ids.append(record.event_id)
        if duplicate_of is not None:
            continue
        groups.setdefault(key, []).append(record)
        if record.event_id:
            seen_events[record.event_id] = key
        if content is not None:
            seen_content[content] = key
    entries = []
    for key, records in groups.items():
        # Stable sort: records without a parseable time keep their arrival order.
        ordered = sorted(records, key=lambda r: _sort_time(r.alarm))
        latest = ordered[-1].alarm
        states = _distinct_consecutive(r.alarm.state for r in ordered if r.alarm.state)
        item_ids, event_ids = ids[key]
        entries.append(Entry(latest, states, tuple(item_ids), tuple(event_ids), counts[key]))
    return entries


def plan_notifications(
    received: Iterable[Received],
    *,
    digest_threshold: int = DEFAULT_DIGEST_THRESHOLD,
    destination: Callable[[Alarm], str | None] | None = None,
) -> list[Notification]:
    """The messages to send for one batch, grouped per destination in first-seen order.

    A destination with at most `digest_threshold` entries gets one full message per entry; with
    more, one digest notification holding them all (the renderer splits it at Slack's limits).
    `digest_threshold` 0 sends every batch of two or more as a digest; a negative one never does.
    """
    by_destination: dict[str | None, list[Entry]] = {}
    for entry in collect_entries(received):
        key = destination(entry.alarm) if destination else None
        by_destination.setdefault(key, []).append(entry)
    notifications: list[Notification] = []
    for key, entries in by_destination.items():
        if digest_threshold < 0 or len(entries) <= max(1, digest_threshold):
            notifications += [Notification("alarm", (entry,), key) for entry in entries]
        else:
            notifications.append(Notification("digest", tuple(entries), key))
    return notifications
