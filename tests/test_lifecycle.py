"""The alert lifecycle as a pure state machine: record + event -> the Slack calls to make."""

from __future__ import annotations

import pytest

import lifecycle
from alarm import Alarm, parse_event
from records import replace
from state import AlarmMessage
from support.app_mode import sns_alarm_event

CHANNEL, ELSEWHERE = "C0ALERTS01", "C0OTHER01"
T0, T1, T2 = "2024-05-14T07:21:04.987+0000", "2024-05-14T07:29:04.987+0000", "2024-05-14T07:40Z"


def event(state: str, time: str) -> Alarm:
    time = f"2024-05-14T{time}Z" if len(time) == 5 else time
    (parsed,) = parse_event(sns_alarm_event(state, message_id=f"{state}-{time}", time=time))
    return parsed


OPEN = lifecycle.posted(event("ALARM", T0), "k", CHANNEL, "1.1", {"text": "x"})


@pytest.mark.parametrize(
    ("record", "incoming", "action"),
    [
        (None, event("ALARM", T0), lifecycle.POST),
        (None, event("OK", T1), lifecycle.POST),
        (OPEN, event("ALARM", T0), lifecycle.NOTHING),  # the same change redelivered
        (OPEN, event("INSUFFICIENT_DATA", T1), lifecycle.REPLY),
        (OPEN, event("OK", T1), lifecycle.RESOLVE),
        (OPEN, event("OK", "2024-05-14T07:00:00Z"), lifecycle.LATE),
        (lifecycle.resolved(OPEN, event("OK", T1), updated=True), event("ALARM", T0),
         lifecycle.NOTHING),
        (lifecycle.resolved(OPEN, event("OK", T1), updated=True), event("ALARM", "07:25"),
         lifecycle.LATE),
        (lifecycle.resolved(OPEN, event("OK", T1), updated=True), event("ALARM", T2),
         lifecycle.POST),
        (lifecycle.resolved(OPEN, event("OK", T1), updated=False), event("OK", T1),
         lifecycle.FINISH_RESOLVE),
    ],
)  # fmt: skip
def test_plan_follows_the_lifecycle(
    record: AlarmMessage | None, incoming: Alarm, action: str
) -> None:
    assert lifecycle.plan(record, incoming, ELSEWHERE).action == action


def test_a_new_message_goes_to_the_route_a_reply_to_the_message() -> None:
    assert lifecycle.plan(None, event("ALARM", T0), ELSEWHERE).channel == ELSEWHERE
    reply = lifecycle.plan(OPEN, event("OK", T1), ELSEWHERE)
    assert (reply.channel, reply.ts) == (CHANNEL, "1.1")


def test_resolved_records_keep_the_newest_change_and_what_is_pending() -> None:
    ok = event("OK", T1)
    pending = lifecycle.resolved(OPEN, ok, updated=False)
    assert (pending.state, pending.changed_at, pending.pending_update) == ("OK", T1, True)
    assert pending.since == T0, "the incident started at the ALARM"
    assert lifecycle.resolved(pending, ok, updated=True).pending_update is False


def test_events_without_times_are_never_late() -> None:
    untimed = replace(event("OK", T1), timestamp=None)
    assert lifecycle.plan(OPEN, untimed, CHANNEL).action == lifecycle.RESOLVE
