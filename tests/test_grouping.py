"""Grouping one batch: duplicates shown once, flapping folded, few alarms alone, many digested."""

from __future__ import annotations

import datetime as dt

import pytest

from alarm import Received, parse_records
from grouping import collect_entries, plan_notifications
from support.storm import START, alarm_message, sns_envelope, sqs_event, sqs_record


def received(*messages: dict, ids: list[str] | None = None) -> list[Received]:
    envelopes = [
        sns_envelope(m, message_id=(ids or [None] * len(messages))[i])
        for i, m in enumerate(messages)
    ]
    return parse_records(sqs_event(envelopes))


def test_a_record_delivered_twice_is_shown_once_and_acknowledged_with_it() -> None:
    message = alarm_message("db-1-cpu")
    event = {"Records": [sqs_record(sns_envelope(message, message_id="m-1")) for _ in range(2)]}
    (entry,) = collect_entries(parse_records(event))
    assert entry.alarm.name == "db-1-cpu"
    assert len(entry.item_ids) == 2
    assert entry.event_ids == ("m-1",)
    assert entry.records == 2


def test_the_same_change_from_two_senders_is_shown_once() -> None:
    # SNS says +0000 with milliseconds, EventBridge says Z: still the same state change.
    message = alarm_message("db-1-cpu")
    eventbridge = {
        "version": "0",
        "id": "eb-1",
        "detail-type": "CloudWatch Alarm State Change",
        "source": "aws.cloudwatch",
        "account": message["AWSAccountId"],
        "time": "2024-05-14T07:21:00Z",
        "region": "ap-northeast-2",
        "resources": [message["AlarmArn"]],
        "detail": {
            "alarmName": "db-1-cpu",
            "state": {"value": "ALARM", "timestamp": START.isoformat().replace("+00:00", "Z")},
            "previousState": {"value": "OK"},
            "configuration": {},
        },
    }
    records = parse_records(sqs_event([sns_envelope(message), eventbridge]))
    (entry,) = collect_entries(records)
    assert entry.records == 2
    assert len(entry.item_ids) == 2
    assert set(entry.event_ids) >= {"eb-1"}


def test_an_alarm_that_fired_and_recovered_in_one_batch_is_one_entry_ending_ok() -> None:
    fired = alarm_message("web-1-cpu", state="ALARM", when=START)
    recovered = alarm_message("web-1-cpu", state="OK", when=START + dt.timedelta(seconds=40))
    # SQS standard queues do not keep order: the OK may arrive first.
    (entry,) = collect_entries(received(recovered, fired))
    assert entry.states == ("ALARM", "OK")
    assert entry.flapped
    assert entry.alarm.state == "OK"


def test_fired_recovered_and_fired_again_in_one_batch_ends_in_alarm() -> None:
    # The third record must not fold into the first: the path is ALARM -> OK -> ALARM, and the
    # alarm is firing now (shuffled, as SQS may deliver them).
    first = alarm_message("web-1-cpu", state="ALARM", when=START)
    recovered = alarm_message("web-1-cpu", state="OK", when=START + dt.timedelta(seconds=40))
    again = alarm_message("web-1-cpu", state="ALARM", when=START + dt.timedelta(seconds=90))
    (entry,) = collect_entries(received(again, first, recovered))
    assert entry.states == ("ALARM", "OK", "ALARM")
    assert entry.alarm.state == "ALARM"
    assert entry.flapped
    assert entry.records == 3


def test_repeated_same_state_is_not_flapping() -> None:
    first = alarm_message("web-1-cpu", when=START)
    again = alarm_message("web-1-cpu", when=START + dt.timedelta(minutes=1))
    (entry,) = collect_entries(received(first, again))
    assert entry.states == ("ALARM",)
    assert not entry.flapped


@pytest.mark.parametrize(("count", "kinds"), [(1, ["alarm"]), (3, ["alarm"] * 3), (4, ["digest"])])
def test_up_to_the_threshold_each_alarm_is_alone_beyond_it_one_digest(
    count: int, kinds: list[str]
) -> None:
    messages = [alarm_message(f"web-{i}") for i in range(count)]
    notifications = plan_notifications(received(*messages), digest_threshold=3)
    assert [n.kind for n in notifications] == kinds
    assert sum(len(n.entries) for n in notifications) == count


def test_threshold_zero_digests_two_and_a_negative_threshold_never_digests() -> None:
    records = received(*[alarm_message(f"web-{i}") for i in range(10)])
    assert [n.kind for n in plan_notifications(records[:2], digest_threshold=0)] == ["digest"]
    assert [n.kind for n in plan_notifications(records[:1], digest_threshold=0)] == ["alarm"]
    assert len(plan_notifications(records, digest_threshold=-1)) == 10


def test_destinations_are_grouped_apart() -> None:
    messages = [alarm_message(f"db-{i}") for i in range(5)] + [alarm_message("web-1")]
    notifications = plan_notifications(
        received(*messages),
        digest_threshold=3,
        destination=lambda alarm: "#db" if (alarm.name or "").startswith("db") else "#web",
    )
    assert [(n.kind, n.destination, len(n.entries)) for n in notifications] == [
        ("digest", "#db", 5),
        ("alarm", "#web", 1),
    ]


def test_a_notification_carries_every_sqs_message_it_names() -> None:
    records = received(*[alarm_message(f"web-{i}") for i in range(5)])
    (digest,) = plan_notifications(records, digest_threshold=3)
    assert set(digest.item_ids) == {r.item_id for r in records}


def test_other_messages_never_merge_with_each_other() -> None:
    records = parse_records(sqs_event(["disk almost full", "disk almost full"]))
    assert len(collect_entries(records)) == 2


def test_a_redelivered_text_notification_is_shown_once() -> None:
    envelope = sns_envelope("disk almost full", message_id="m-7")
    event = {"Records": [sqs_record(envelope), sqs_record(envelope)]}
    (entry,) = collect_entries(parse_records(event))
    assert entry.alarm.text == "disk almost full"
    assert len(entry.item_ids) == 2


def test_the_first_sender_of_a_duplicated_change_is_the_one_shown() -> None:
    # SNS and EventBridge both report one change: the duplicate only adds its ids; the entry
    # keeps the record that came first (an EventBridge event carries less, e.g. no reason).
    message = alarm_message("db-1-cpu")
    eventbridge = {
        "version": "0",
        "id": "eb-1",
        "detail-type": "CloudWatch Alarm State Change",
        "source": "aws.cloudwatch",
        "account": message["AWSAccountId"],
        "time": "2024-05-14T07:21:00Z",
        "region": "ap-northeast-2",
        "resources": [message["AlarmArn"]],
        "detail": {
            "alarmName": "db-1-cpu",
            "state": {"value": "ALARM", "timestamp": START.isoformat().replace("+00:00", "Z")},
            "previousState": {"value": "OK"},
            "configuration": {},
        },
    }
    for bodies in ([sns_envelope(message), eventbridge], [eventbridge, sns_envelope(message)]):
        records = parse_records(sqs_event(bodies))
        assert records[0].alarm.source != records[1].alarm.source
        (entry,) = collect_entries(records)
        assert entry.alarm == records[0].alarm
        assert entry.records == 2


def test_alarms_of_one_name_in_two_accounts_are_two_entries() -> None:
    one = alarm_message("web-1-cpu", account="111111111111")
    other = alarm_message("web-1-cpu", account="222222222222")
    entries = collect_entries(received(one, other))
    assert [e.alarm.account for e in entries] == ["111111111111", "222222222222"]


def test_records_of_an_alarm_without_arn_fold_by_name() -> None:
    fired = alarm_message("web-1-cpu", state="ALARM", when=START)
    recovered = alarm_message("web-1-cpu", state="OK", when=START + dt.timedelta(seconds=40))
    for message in (fired, recovered):
        del message["AlarmArn"]
    (entry,) = collect_entries(received(fired, recovered))
    assert entry.states == ("ALARM", "OK")


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (dt.datetime(2024, 5, 14, 7, 59, 50, tzinfo=dt.UTC), dt.timedelta(seconds=20)),  # hour
        (dt.datetime(2024, 12, 31, 23, 59, 59, tzinfo=dt.UTC), dt.timedelta(seconds=2)),  # year
        (dt.datetime(2024, 5, 14, 7, 21, 0, 900000, tzinfo=dt.UTC), dt.timedelta(seconds=0.2)),
    ],
)
def test_records_are_ordered_by_their_time_across_any_boundary(
    before: dt.datetime, after: dt.timedelta
) -> None:
    fired = alarm_message("web-1-cpu", state="ALARM", when=before)
    recovered = alarm_message("web-1-cpu", state="OK", when=before + after)
    (entry,) = collect_entries(received(recovered, fired))
    assert entry.states == ("ALARM", "OK")
    assert entry.alarm.state == "OK"


def test_a_record_without_a_readable_time_counts_as_the_oldest() -> None:
    timed = alarm_message("web-1-cpu", state="OK", when=START)
    untimed = alarm_message("web-1-cpu", state="ALARM", when=START)
    untimed["StateChangeTime"] = "sometime"
    (entry,) = collect_entries(received(timed, untimed))
    assert entry.states == ("ALARM", "OK")
    assert entry.alarm.state == "OK"


def test_a_duplicate_in_the_middle_of_a_batch_stops_nothing_after_it() -> None:
    first = sns_envelope(alarm_message("web-1-cpu"), message_id="m-1")
    other = sns_envelope(alarm_message("db-1-cpu"), message_id="m-2")
    event = {"Records": [sqs_record(first), sqs_record(first), sqs_record(other)]}
    entries = collect_entries(parse_records(event))
    assert [e.alarm.name for e in entries] == ["web-1-cpu", "db-1-cpu"]


def test_records_that_came_without_sqs_have_no_item_ids() -> None:
    event = {"Records": [{"EventSource": "aws:sns", "Sns": sns_envelope(alarm_message("a"))}]}
    (entry,) = collect_entries(parse_records(event))
    assert entry.item_ids == ()
    assert entry.records == 1


def test_two_untimed_records_in_one_state_are_not_taken_for_one_change() -> None:
    # Without a time the records do not say they are the same change: both count, and the
    # entry shows the one that came last.
    first = alarm_message("web-1-cpu", state="ALARM")
    later = alarm_message("web-1-cpu", state="ALARM")
    del first["StateChangeTime"], later["StateChangeTime"]
    later["NewStateReason"] = "the later reason"
    (entry,) = collect_entries(received(first, later, ids=["m-1", "m-2"]))
    assert entry.records == 2
    assert entry.alarm.reason == "the later reason"
