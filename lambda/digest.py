"""Render a storm digest: many alarms in as few Slack messages as Slack's limits allow.

Every alarm is named on one line; lines are grouped by new state and by metric (and by account
and region when the digest spans several), and split over as many messages as needed. Pure
functions of their arguments, like message.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from formatting import (
    HEADER_LIMIT,
    MESSAGE_BUDGET,
    NEUTRAL_STYLE,
    STATE_STYLES,
    MessagePart,
    account_label,
    apply_overrides,
    block_chars,
    console_url,
    escape,
    format_timestamp,
    mrkdwn,
    notes_block,
    number_text,
    truncate,
    utf16_len,
)

# typing costs cold-start time and is only needed by type checkers.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from alarm import Alarm
    from grouping import Entry
    from settings import Settings

# Each part's blocks, header, context and notes included, stay within MESSAGE_BUDGET
# (formatting.py: Slack refuses about 12,000 characters in all, msg_blocks_too_long).
SECTION_BUDGET = 2_900  # of the 3,000 a section text may hold
BLOCKS_BUDGET = 47  # of 50: the header, the context and (first part) the notes come on top
HEADING_LIMIT = 300  # a group's heading (state · account · region · metric), count apart
CONTEXT_LIMIT = 300  # the date · zone · part line
TOP_TEXT_LIMIT = 3_900  # Slack truncates long top-level text; notifications show only the start
LINE_LIMIT = 1_200  # one alarm's line, link markup included
NAME_LIMIT = 400
REASON_LIMIT = 60
CONTINUED = " (…)"

STATE_ORDER = {"ALARM": 0, "INSUFFICIENT_DATA": 1, "OK": 3}

DIGEST_LABELS = {
    "en": {
        "title": "{count} alarms changed state",
        "title_one": "1 alarm changed state",
        "flapped": "flapped {path}",
        "other": "other",
        "notifications": "Other notifications",
        "part": "part {index} of {total}",
        "zone": "times in {zone}",
        "no_data": "no data",
    },
    "ko": {
        "title": "알람 {count}건의 상태가 바뀌었습니다",
        "title_one": "알람 1건의 상태가 바뀌었습니다",
        "flapped": "상태 반복 변경 {path}",
        "other": "기타",
        "notifications": "기타 알림",
        "part": "{total}개 중 {index}번째",
        "zone": "시간대 {zone}",
        "no_data": "데이터 없음",
    },
}


def _state(entry: Entry) -> str:
    return entry.alarm.state or "" if entry.alarm.kind == "alarm" else ""


def _counts(entries: tuple[Entry, ...], labels: dict[str, str]) -> str:
    counts: dict[str, int] = {}
    for entry in entries:
        state = _state(entry) or labels["other"]
        counts[state] = counts.get(state, 0) + 1
    ordered = sorted(counts.items(), key=lambda kv: (STATE_ORDER.get(kv[0], 2), kv[0]))
    return ", ".join(f"{count} {state}" for state, count in ordered)


def _emoji(entries: tuple[Entry, ...]) -> tuple[str, str]:
    states = {_state(e) for e in entries}
    for state in ("ALARM", "INSUFFICIENT_DATA"):
        if state in states:
            return STATE_STYLES[state]
    if states == {"OK"}:
        return STATE_STYLES["OK"]
    return NEUTRAL_STYLE


def _group_key(entry: Entry, *, by_place: bool, labels: dict[str, str]) -> tuple[Any, ...]:
    alarm = entry.alarm
    state = _state(entry)
    if alarm.kind != "alarm":
        topic = labels["notifications"]
    else:
        topic = " ".join(p for p in (alarm.namespace, alarm.metric_name) if p)
        if not topic and alarm.metrics:
            topic = " ".join(dict.fromkeys(q.namespace for q in alarm.metrics if q.namespace))
        topic = topic or labels["other"]
    place = (alarm.account or "", alarm.region or "") if by_place else ("", "")
    return (STATE_ORDER.get(state, 2), state, place, topic)


def _heading(key: tuple[Any, ...], count: int, settings: Settings) -> str:
    _, state, (account, region), topic = key
    # "payments-prod (444455556666)" when ACCOUNT_NAMES names the account.
    where = account_label(account or None, settings)
    title = " · ".join(escape(p) for p in (state, where, region, topic) if p)
    # A topic is whatever the event says (a 5,000-character namespace is valid JSON).
    return f"*{truncate(title, HEADING_LIMIT)}* ({count})"


_DATAPOINT = re.compile(r"datapoints? \[(-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?) \(")
_NO_DATA = re.compile(r"no datapoints were received", re.IGNORECASE)
# The comparison that holds in each state: ALARM breaches it, OK holds its opposite.
_HOLDS = {
    "GreaterThanOrEqualToThreshold": ("≥", "<"),
    "GreaterThanThreshold": (">", "≤"),
    "LessThanThreshold": ("<", "≥"),
    "LessThanOrEqualToThreshold": ("≤", ">"),
}


def _short_reason(alarm: Alarm, labels: dict[str, str]) -> str | None:
    """The news of CloudWatch's reason in a few characters: "93.4 (>= 80)", "no data", or the
    reason's start."""
    reason = alarm.reason
    if not reason:
        return None
    if _NO_DATA.search(reason):
        return labels["no_data"]
    match = _DATAPOINT.search(reason)
    if match:
        value = number_text(match.group(1)) or match.group(1)
        operators = _HOLDS.get(alarm.comparison or "")
        threshold = number_text(alarm.threshold)
        if operators and threshold and alarm.state in ("ALARM", "OK"):
            operator = operators[0] if alarm.state == "ALARM" else operators[1]
            return f"{value} ({escape(operator)} {threshold})"
        return value
    first = reason.split(" (minimum ", 1)[0].strip()
    return truncate(escape(first), REASON_LIMIT)


def _split_time(formatted: str | None) -> tuple[str | None, str | None, str | None]:
    """'2024-05-14 16:21:04 KST' -> ('2024-05-14', '16:21:04', 'KST'); other text: time only."""
    if not formatted:
        return None, None, None
    parts = formatted.split(" ", 2)
    if len(parts) == 3 and len(parts[0]) == 10 and len(parts[1]) == 8:
        return parts[0], parts[1], parts[2]
    return None, formatted, None


def _line(entry: Entry, settings: Settings, labels: dict[str, str], *, with_date: bool) -> str:
    alarm = entry.alarm
    if alarm.kind != "alarm":
        first = (alarm.subject or (alarm.text or "").strip().split("\n", 1)[0]) or "?"
        return "• " + truncate(escape(first), NAME_LIMIT)
    name = truncate(escape(alarm.name or alarm.arn or "?"), NAME_LIMIT)
    url = console_url(alarm, short=True)
    date, time, _ = _split_time(format_timestamp(alarm.timestamp, settings.tz))
    when = f"{date[5:]} {time}" if with_date and date and time else time
    when = escape(when) if when else when  # an unparseable time comes back verbatim
    detail = (
        labels["flapped"].replace("{path}", " → ".join(entry.states))
        if entry.flapped
        else _short_reason(alarm, labels)
    )
    tail = "".join(f" · {p}" for p in (detail, when) if p)
    linked = f"<{url}|{name}>" if url else name
    line = f"• {linked}{tail}"
    if utf16_len(line) > LINE_LIMIT and url:
        line = f"• {name}{tail}"  # the link is the first thing to go: the name must stay
    return truncate(line, LINE_LIMIT)


@dataclass
class _Page:
    """One message being filled: closed sections, the open one, and their size."""

    sections: list[tuple[str, list[Entry]]]
    chars: int = 0


def _paginate(
    groups: list[tuple[str, list[tuple[str, Entry]]]], *, header_chars: int
) -> list[_Page]:
    """Pack the lines into sections and the sections into messages, line by line, within
    every budget: section text, blocks per message and characters per message."""
    pages = [_Page([])]
    for heading, lines in groups:
        text, members = heading, []
        for line, entry in lines:
            candidate = f"{text}\n{line}"
            page = pages[-1]
            full_section = utf16_len(candidate) > SECTION_BUDGET
            full_page = page.chars + utf16_len(candidate) + header_chars > MESSAGE_BUDGET
            if members and (full_section or full_page):
                page.sections.append((text, members))
                page.chars += utf16_len(text)
                text, members = heading + CONTINUED, []
                candidate = f"{text}\n{line}"
            page = pages[-1]
            if page.sections and (
                len(page.sections) >= BLOCKS_BUDGET
                or page.chars + utf16_len(candidate) + header_chars > MESSAGE_BUDGET
            ):
                pages.append(_Page([]))
            text = candidate
            members.append(entry)
        pages[-1].sections.append((text, members))
        pages[-1].chars += utf16_len(text)
    return [page for page in pages if page.sections]


def format_digest(entries: tuple[Entry, ...], settings: Settings) -> list[MessagePart]:
    """The digest of many entries as Slack messages: every entry named, none cut silently."""
    labels = DIGEST_LABELS.get(settings.language, DIGEST_LABELS["en"])
    places = {(e.alarm.account, e.alarm.region) for e in entries if e.alarm.kind == "alarm"}
    by_place = len(places) > 1
    times = [
        _split_time(format_timestamp(e.alarm.timestamp, settings.tz))
        for e in entries
        if e.alarm.timestamp
    ]
    dates = {date for date, _, _ in times if date}
    zones = {zone for _, _, zone in times if zone}
    with_date = len(dates) > 1

    grouped: dict[tuple[Any, ...], list[Entry]] = {}
    for entry in entries:
        grouped.setdefault(_group_key(entry, by_place=by_place, labels=labels), []).append(entry)
    groups = []
    for key in sorted(grouped, key=lambda k: (k[0], k[1], k[2], k[3])):
        members = sorted(grouped[key], key=lambda e: (e.alarm.name or "", e.alarm.arn or ""))
        lines = [(_line(e, settings, labels, with_date=with_date), e) for e in members]
        groups.append((_heading(key, len(members), settings), lines))

    emoji, color = _emoji(entries)
    count = len(entries)
    title = labels["title_one"] if count == 1 else labels["title"].replace("{count}", str(count))
    summary = f"{title}: {_counts(entries, labels)}"
    context_bits = []
    if len(dates) == 1:
        context_bits.append(escape(next(iter(dates))))
    if len(zones) == 1:
        context_bits.append(labels["zone"].replace("{zone}", escape(next(iter(zones)))))
    # What every part holds besides its sections, counted as the budget counts: the header at
    # its longest, the context line at its longest and the notes (first part only; every part
    # keeps room for them, which costs later parts a little).
    header_chars = HEADER_LIMIT + CONTEXT_LIMIT
    if settings.notes:
        header_chars += block_chars(notes_block(settings.notes))
    pages = _paginate(groups, header_chars=header_chars)
    mention = bool(settings.alarm_mention) and any(_state(e) == "ALARM" for e in entries)

    parts = []
    for index, page in enumerate(pages, start=1):
        numbered = summary
        bits = list(context_bits)
        if len(pages) > 1:
            bits.append(
                labels["part"].replace("{index}", str(index)).replace("{total}", str(len(pages)))
            )
            numbered = f"{summary} ({index}/{len(pages)})"
        blocks: list[dict[str, Any]] = [
            {
                "type": "header",
                "text": {
                    "type": "plain_text",
                    "text": truncate(f"{emoji} {numbered}", HEADER_LIMIT),
                    "emoji": True,
                },
            }
        ]
        if bits:
            blocks.append(
                {"type": "context", "elements": [mrkdwn(" · ".join(bits), CONTEXT_LIMIT)]}
            )
        blocks += [
            {"type": "section", "text": {"type": "mrkdwn", "text": text}}
            for text, _ in page.sections
        ]
        if settings.notes and index == 1:
            blocks.append(notes_block(settings.notes))
        text = f"{emoji} *{escape(numbered)}*"
        if mention and index == 1:
            # Operator configuration (e.g. <!here>), deliberately not escaped; once per digest.
            text = f"{settings.alarm_mention} {text}"
        payload = {
            "text": truncate(text, TOP_TEXT_LIMIT),
            "attachments": [{"color": color, "blocks": blocks}],
        }
        members = tuple(e for _, section in page.sections for e in section)
        parts.append(MessagePart(apply_overrides(payload, settings), members))
    return parts


def plain_digest(entries: tuple[Entry, ...], settings: Settings) -> list[MessagePart]:
    """A text-only digest for when format_digest fails on some input: names only, no blocks."""
    head = f":warning: {len(entries)} alarms (digest could not be formatted)"
    parts: list[MessagePart] = []
    lines: list[str] = []
    members: list[Entry] = []
    for entry in entries:
        alarm = entry.alarm
        name = str(alarm.name or alarm.subject or alarm.arn or "?")
        line = truncate(escape(f"{alarm.state or ''} {name}".strip()), NAME_LIMIT)
        if (
            members
            and utf16_len(head) + sum(utf16_len(x) + 1 for x in lines) + utf16_len(line)
            > TOP_TEXT_LIMIT - 10
        ):
            parts.append(MessagePart({"text": "\n".join([head, *lines])}, tuple(members)))
            lines, members = [], []
        lines.append(line)
        members.append(entry)
    if members:
        parts.append(MessagePart({"text": "\n".join([head, *lines])}, tuple(members)))
    return parts
