"""Storm digests: every alarm named, grouped, within every Slack limit, in the team's language."""

from __future__ import annotations

import datetime as dt
import json
import re

from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from alarm import parse_records
from digest import format_digest
from formatting import MESSAGE_BUDGET
from grouping import Entry, Notification, collect_entries, plan_notifications
from records import replace
from render import render_notification
from settings import load_settings
from support.slack_rules import block_text_total, message_refusal
from support.storm import (
    METRICS,
    START,
    alarm_message,
    sns_envelope,
    sqs_event,
    storm_event,
    storm_messages,
)

WEBHOOK = {"SLACK_WEBHOOK_URL": "https://hooks.slack.com/services/T0/B0/x"}
SETTINGS = load_settings(WEBHOOK)


def entries_of(event: dict) -> tuple[Entry, ...]:
    return tuple(collect_entries(parse_records(event)))


def block_texts(payload: dict) -> list[str]:
    texts = []
    for block in payload["attachments"][0]["blocks"]:
        if "text" in block:
            texts.append(block["text"]["text"])
        texts += [e["text"] for e in block.get("elements", []) if "text" in e]
    return texts


def assert_within_slack_limits(payload: dict) -> None:
    blocks = payload["attachments"][0]["blocks"]
    assert len(blocks) <= 50
    assert len(payload["text"]) < 4000
    for block in blocks:
        if block["type"] == "header":
            assert len(block["text"]["text"]) <= 150
        if block["type"] == "section":
            assert len(block["text"]["text"].encode("utf-16-le")) // 2 <= 3000
    total = sum(len(t.encode("utf-16-le")) // 2 for t in block_texts(payload))
    assert total <= 12_000
    json.dumps(payload).encode("utf-8")  # encodable as the notifier will send it
    # Slack's rules as the fakes enforce them, and the renderers' own budget.
    assert message_refusal(payload) is None
    assert block_text_total(payload) <= MESSAGE_BUDGET


def named(payloads: list[dict], name: str) -> bool:
    escaped = name.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return any(escaped in text for p in payloads for text in block_texts(p))


def test_the_header_counts_the_alarms_by_state() -> None:
    messages = [alarm_message(f"web-{i}", state="ALARM") for i in range(131)]
    messages += [alarm_message(f"db-{i}", state="OK") for i in range(12)]
    parts = format_digest(entries_of(sqs_event([sns_envelope(m) for m in messages])), SETTINGS)
    header = parts[0].payload["attachments"][0]["blocks"][0]["text"]["text"]
    assert header.startswith(":rotating_light: 143 alarms changed state: 131 ALARM, 12 OK")
    assert parts[0].payload["attachments"][0]["color"] == "#E01E5A"


def test_every_alarm_is_named_once_and_every_entry_is_in_exactly_one_part() -> None:
    entries = entries_of(storm_event(500))
    parts = format_digest(entries, SETTINGS)
    payloads = [p.payload for p in parts]
    assert all(named(payloads, e.alarm.name or "") for e in entries)
    acknowledged = [e for p in parts for e in p.entries]
    assert sorted(id(e) for e in acknowledged) == sorted(id(e) for e in entries)
    for payload in payloads:
        assert_within_slack_limits(payload)


def test_five_hundred_alarms_fit_in_a_few_messages() -> None:
    parts = format_digest(entries_of(storm_event(500)), SETTINGS)
    assert len(parts) <= 10


def test_a_thousand_alarms_with_300_character_names_fit_and_are_all_named() -> None:
    entries = entries_of(storm_event(1000, name_length=300))
    parts = format_digest(entries, SETTINGS)
    payloads = [p.payload for p in parts]
    for payload in payloads:
        assert_within_slack_limits(payload)
    assert all(named(payloads, e.alarm.name or "") for e in entries)
    assert sum(len(p.entries) for p in parts) == 1000
    numbered = [p.payload["text"] for p in parts]
    assert numbered[0].endswith(f"(1/{len(parts)})*")
    assert numbered[-1].endswith(f"({len(parts)}/{len(parts)})*")


def test_lines_are_grouped_by_state_then_metric_with_links_to_the_console() -> None:
    messages = [alarm_message("db-1", state="OK", metric=METRICS[3])]
    messages += [alarm_message(f"web-{i}", metric=METRICS[i % 2]) for i in range(4)]
    (part,) = format_digest(entries_of(sqs_event([sns_envelope(m) for m in messages])), SETTINGS)
    sections = [
        b["text"]["text"]
        for b in part.payload["attachments"][0]["blocks"]
        if b["type"] == "section"
    ]
    headings = [s.split("\n", 1)[0] for s in sections]
    assert headings == [
        "*ALARM · AWS/EC2 CPUUtilization* (2)",
        "*ALARM · AWS/EC2 StatusCheckFailed* (2)",
        "*OK · AWS/RDS DatabaseConnections* (1)",
    ]
    assert (
        "<https://console.aws.amazon.com/cloudwatch/home?region="
        "ap-northeast-2#alarmsV2:alarm/web-1|web-1> · 96 (≥ 80) · 07:21:00" in sections[0]
    )


def test_a_flapping_alarm_is_one_line_that_says_where_it_ended() -> None:
    messages = [alarm_message(f"web-{i}") for i in range(4)]
    messages.append(alarm_message("web-0", state="OK", when=START + dt.timedelta(seconds=30)))
    entries = entries_of(sqs_event([sns_envelope(m) for m in messages]))
    (part,) = format_digest(entries, SETTINGS)
    text = "\n".join(block_texts(part.payload))
    assert text.count("|web-0>") == 1
    assert re.search(r"\|web-0> · flapped ALARM → OK · 07:21:30", text)
    assert "*OK · AWS/EC2 StatusCheckFailed* (1)" in text


def test_korean_labels_and_seoul_time_apply_to_digests() -> None:
    settings = load_settings({**WEBHOOK, "MESSAGE_LANGUAGE": "ko", "TIMEZONE": "Asia/Seoul"})
    (part,) = format_digest(entries_of(storm_event(20, seed=3)), settings)
    header = part.payload["attachments"][0]["blocks"][0]["text"]["text"]
    assert "알람 20건의 상태가 바뀌었습니다" in header
    context = part.payload["attachments"][0]["blocks"][1]["elements"][0]["text"]
    assert context == "2024-05-14 · 시간대 KST"
    assert re.search(r"· 16:21:\d\d\n", "\n".join(block_texts(part.payload)) + "\n")


def test_the_mention_comes_once_per_digest_and_only_with_an_alarm() -> None:
    settings = load_settings({**WEBHOOK, "ALARM_MENTION": "<!here>"})
    parts = format_digest(entries_of(storm_event(1000, name_length=300)), settings)
    assert [p.payload["text"].startswith("<!here> ") for p in parts] == [True] + [False] * (
        len(parts) - 1
    )
    recovered = [alarm_message(f"web-{i}", state="OK") for i in range(5)]
    (ok,) = format_digest(entries_of(sqs_event([sns_envelope(m) for m in recovered])), settings)
    assert "<!here>" not in ok.payload["text"]
    assert ok.payload["attachments"][0]["color"] == "#2EB67D"


def test_a_digest_spanning_accounts_and_regions_groups_by_them() -> None:
    messages = [
        alarm_message("a", account="111111111111", region="us-east-1"),
        alarm_message("b", account="222222222222", region="ap-northeast-2"),
        alarm_message("c", account="222222222222", region="ap-northeast-2"),
        alarm_message("d", account="111111111111", region="us-east-1"),
    ]
    (part,) = format_digest(entries_of(sqs_event([sns_envelope(m) for m in messages])), SETTINGS)
    text = "\n".join(block_texts(part.payload))
    assert "*ALARM · 111111111111 · us-east-1 · AWS/EC2 StatusCheckFailed* (2)" in text
    assert "*ALARM · 222222222222 · ap-northeast-2 · AWS/EC2 StatusCheckFailed* (2)" in text


def test_event_text_cannot_mention_or_link_in_a_digest() -> None:
    messages = [alarm_message(f"<!channel> web-{i} <https://evil.example|x>") for i in range(4)]
    (part,) = format_digest(entries_of(sqs_event([sns_envelope(m) for m in messages])), SETTINGS)
    text = "\n".join(block_texts(part.payload))
    assert "<!channel>" not in text
    assert "<https://evil.example" not in text
    assert "&lt;!channel&gt; web-0" in text


def test_a_digest_rendering_bug_still_names_every_alarm_in_plain_text(
    monkeypatch: object,
) -> None:
    import digest  # noqa: PLC0415

    def broken(*_: object) -> list:
        raise RuntimeError("bug")

    monkeypatch.setattr(digest, "format_digest", broken)  # type: ignore[attr-defined]
    entries = entries_of(storm_event(300))
    parts = render_notification(Notification("digest", entries), SETTINGS)
    assert sum(len(p.entries) for p in parts) == 300
    text = "\n".join(p.payload["text"] for p in parts)
    assert all((e.alarm.name or "") in text for e in entries)
    assert all(len(p.payload["text"]) < 4000 for p in parts)


names = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=255
)


@hsettings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(names, min_size=4, max_size=120, unique=True), st.sampled_from(["en", "ko"]))
def test_any_names_fit_slack_limits_and_are_all_named(alarm_names: list[str], lang: str) -> None:
    settings = load_settings({**WEBHOOK, "MESSAGE_LANGUAGE": lang, "TIMEZONE": "Asia/Seoul"})
    messages = [
        alarm_message(n, state=("OK" if i % 5 == 0 else "ALARM")) for i, n in enumerate(alarm_names)
    ]
    (notification,) = plan_notifications(
        parse_records(sqs_event([sns_envelope(m) for m in messages]))
    )
    parts = render_notification(notification, settings)
    payloads = [p.payload for p in parts]
    for payload in payloads:
        assert_within_slack_limits(payload)
    assert sum(len(p.entries) for p in parts) == len(alarm_names)
    for entry in notification.entries:
        shown = (entry.alarm.name or "").replace("&", "&amp;").replace("<", "&lt;")
        shown = shown.replace(">", "&gt;")
        assert any(shown[:300] in t for p in payloads for t in block_texts(p)), entry.alarm.name


def test_storm_messages_are_distinct_alarms() -> None:
    assert len({m["AlarmName"] for m in storm_messages(500)}) == 500


def test_a_configuration_note_is_shown_in_a_digest_and_the_limits_still_hold() -> None:
    settings = load_settings({**WEBHOOK, "TIMEZONE": "Asia/Seol", "DIGEST_THRESHOLD": "x"})
    parts = format_digest(entries_of(storm_event(1000, name_length=300)), settings)
    first = "\n".join(block_texts(parts[0].payload))
    assert "TIMEZONE" in first
    assert "DIGEST_THRESHOLD" in first
    for part in parts:
        assert_within_slack_limits(part.payload)


def test_a_digest_spanning_accounts_names_them_by_account_names() -> None:
    messages = [
        alarm_message("a", account="111111111111", region="us-east-1"),
        alarm_message("b", account="222222222222", region="ap-northeast-2"),
        alarm_message("c", account="222222222222", region="ap-northeast-2"),
        alarm_message("d", account="111111111111", region="us-east-1"),
    ]
    named_accounts = load_settings({**WEBHOOK, "ACCOUNT_NAMES": '{"222222222222": "prod"}'})
    entries = entries_of(sqs_event([sns_envelope(m) for m in messages]))
    (part,) = format_digest(entries, named_accounts)
    text = "\n".join(block_texts(part.payload))
    assert "*ALARM · prod (222222222222) · ap-northeast-2 · AWS/EC2 StatusCheckFailed* (2)" in text
    assert "*ALARM · 111111111111 · us-east-1 · AWS/EC2 StatusCheckFailed* (2)" in text


def test_six_configuration_notes_are_counted_in_the_page_budget() -> None:
    notes = tuple(f"SETTING_{i}='{'&' * 60}' is not valid; using the default" for i in range(6))
    settings = replace(SETTINGS, notes=notes)
    parts = format_digest(entries_of(storm_event(1000)), settings)
    assert len(parts) > 1
    first = parts[0].payload
    assert first["attachments"][0]["blocks"][-1]["elements"][0]["text"].count(":warning:") == 6
    for part in parts:
        assert_within_slack_limits(part.payload)


def test_a_group_heading_is_cut_but_still_counts_its_alarms() -> None:
    messages = [
        alarm_message(f"web-{i}", metric=("N" * 5000, "Errors", "Sum", 1.0)) for i in range(3)
    ]
    parts = format_digest(entries_of(sqs_event([sns_envelope(m) for m in messages])), SETTINGS)
    (part,) = parts
    heading = part.payload["attachments"][0]["blocks"][2]["text"]["text"].split("\n")[0]
    assert heading.endswith("…* (3)")
    assert len(heading) < 320
    assert_within_slack_limits(part.payload)
