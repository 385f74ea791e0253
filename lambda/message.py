"""Format an Alarm into a Slack webhook payload (Block Kit in a coloured attachment)."""

from __future__ import annotations

from alarm import Alarm, MetricQuery
from formatting import (
    BLOCKS_LIMIT,
    FALLBACK_TEXT_LIMIT,
    FIELD_LIMIT,
    FIELDS_PER_SECTION,
    HEADER_LIMIT,
    MESSAGE_BUDGET,
    NEUTRAL_STYLE,
    SECTION_TEXT_LIMIT,
    STATE_STYLES,
    TEXT_STYLE,
    account_label,
    apply_overrides,
    block_chars,
    console_url,
    escape,
    format_timestamp,
    mrkdwn,
    notes_block,
    number_text,
    plain_text,
    truncate,
)
from settings import Settings
from text import safe_text

# typing costs cold-start time and is only needed by type checkers.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

# The shortest a text is cut to when a message must fit MESSAGE_BUDGET.
MIN_TEXT_CAP = 100
# The reason in a text-only message: enough to read, short enough for any notification.
PLAIN_REASON_LIMIT = 1000

LABELS = {
    "en": {
        "alarm_name": "Alarm name",
        "state": "State",
        "reason": "Reason",
        "time": "Time",
        "previous_state": "Previous state",
        "region": "Region",
        "account": "Account",
        "metric": "Metric",
        "description": "Description",
        "dimensions": "Dimensions",
        "condition": "Condition",
        "period": "Period",
        "metrics": "Metrics",
        "alarm_rule": "Alarm rule",
        "triggered_by": "Triggered by",
        "alarm_type": "Alarm type",
        "threshold": "threshold",
        "open_console": "Open in CloudWatch",
        "notification": "Notification",
        "message": "Message",
        "no_state": "(no state)",
        "no_name": "(unnamed alarm)",
        "empty": "(empty message)",
        "flapped": "Changed state several times in a few seconds: {path}",
        "LessThanLowerOrGreaterThanUpperThreshold": "outside the band {band}",
        "LessThanLowerThreshold": "below the band {band}",
        "GreaterThanUpperThreshold": "above the band {band}",
    },
    "ko": {
        "alarm_name": "알람 이름",
        "state": "상태",
        "reason": "원인",
        "time": "발생 시각",
        "previous_state": "이전 상태",
        "region": "리전",
        "account": "계정",
        "metric": "지표",
        "description": "설명",
        "dimensions": "차원",
        "condition": "조건",
        "period": "평가 기간",
        "metrics": "지표 구성",
        "alarm_rule": "알람 규칙",
        "triggered_by": "원인 알람",
        "alarm_type": "알람 유형",
        "threshold": "임계값",
        "open_console": "CloudWatch에서 보기",
        "notification": "알림",
        "message": "메시지",
        "no_state": "(상태 없음)",
        "no_name": "(이름 없는 알람)",
        "empty": "(빈 메시지)",
        "flapped": "짧은 시간에 상태가 여러 번 바뀌었습니다: {path}",
        "LessThanLowerOrGreaterThanUpperThreshold": "밴드 {band} 범위 밖",
        "LessThanLowerThreshold": "밴드 {band} 아래",
        "GreaterThanUpperThreshold": "밴드 {band} 위",
    },
}

ALARM_TYPES = {
    "metric": "metric",
    "metric-math": "metric math",
    "anomaly-detection": "anomaly detection",
    "composite": "composite",
}

COMPARISONS = {
    "GreaterThanOrEqualToThreshold": ">=",
    "GreaterThanThreshold": ">",
    "LessThanThreshold": "<",
    "LessThanOrEqualToThreshold": "<=",
}


def _field(label: str, value: str, cap: int) -> dict[str, Any]:
    return mrkdwn(f"*{label}*\n{escape(value)}", min(FIELD_LIMIT, cap))


# --- values -------------------------------------------------------------------------------


def _dimensions_text(pairs: tuple[tuple[str, str], ...]) -> str:
    return ", ".join(f"{name}={value}" for name, value in pairs)


def _seconds(value: str | None) -> str | None:
    return f"{value} s" if value is not None else None


def _condition(alarm: Alarm, labels: dict[str, str]) -> str | None:
    comparison = alarm.comparison or ""
    if alarm.threshold_metric_id or comparison in labels:
        # Anomaly detection compares against a band (ThresholdMetricId), not a number.
        band = alarm.threshold_metric_id or "?"
        template = labels.get(comparison)
        # Event text never goes through str.format: a "{}" in it must stay literal.
        condition = template.replace("{band}", band) if template else f"{comparison} {band}"
        return " ".join(p for p in (alarm.statistic, condition.strip()) if p)
    operator = COMPARISONS.get(comparison, alarm.comparison)
    threshold = number_text(alarm.threshold)
    if not threshold:
        return None
    if not operator:
        # The direct and EventBridge shapes name no comparison; the reason text has it.
        operator = labels["threshold"]
    return " ".join(p for p in (alarm.statistic, operator, threshold) if p)


def _period(alarm: Alarm) -> str | None:
    if not alarm.period and not alarm.evaluation_periods:
        return None
    text = f"{_seconds(alarm.period) or '?'} × {alarm.evaluation_periods or '?'}"  # noqa: RUF001
    if alarm.datapoints_to_alarm and alarm.datapoints_to_alarm != alarm.evaluation_periods:
        text += f" ({alarm.datapoints_to_alarm}/{alarm.evaluation_periods or '?'})"
    return text


def _metric_query_line(query: MetricQuery) -> str:
    name = query.id or "?"
    if query.expression:
        line = f"{name} = {query.expression}"
    else:
        metric = " ".join(p for p in (query.namespace, query.metric_name) if p) or "?"
        details = ", ".join(p for p in (query.statistic, _seconds(query.period)) if p)
        line = f"{name}: {metric}" + (f" ({details})" if details else "")
        if query.dimensions:
            line += f" [{_dimensions_text(query.dimensions)}]"
    if query.label:
        line += f" ({query.label})"
    if query.return_data:
        line += " ←"
    return line


# --- blocks -------------------------------------------------------------------------------


def _sections_of_fields(fields: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {"type": "section", "fields": fields[i : i + FIELDS_PER_SECTION]}
        for i in range(0, len(fields), FIELDS_PER_SECTION)
    ]


def _text_section(label: str, value: str, cap: int, *, code: bool = False) -> dict[str, Any]:
    limit = min(SECTION_TEXT_LIMIT, cap)
    body = escape(value)
    if code:
        # Leave room for the fences so a truncated block stays a code block.
        body = "```" + truncate(body, max(limit - len(label) - 12, 10)) + "```"
    return {"type": "section", "text": mrkdwn(f"*{label}*\n{body}", limit)}


def _alarm_blocks(alarm: Alarm, settings: Settings, labels: dict[str, str], cap: int) -> list[dict]:
    state = alarm.state or labels["no_state"]
    emoji, _ = STATE_STYLES.get(alarm.state or "", NEUTRAL_STYLE)
    name = alarm.name or labels["no_name"]
    blocks: list[dict[str, Any]] = [
        {
            "type": "header",
            "text": plain_text(f"{emoji} {escape(state)}: {escape(name)}", HEADER_LIMIT),
        }
    ]
    if alarm.description:
        blocks.append(_text_section(labels["description"], alarm.description, cap))
    if alarm.reason:
        blocks.append(_text_section(labels["reason"], alarm.reason, cap))

    region = alarm.region
    if alarm.region_name and alarm.region_name != region:
        region = f"{alarm.region_name} ({region})" if region else alarm.region_name
    summary = [
        (labels["alarm_name"], alarm.name),
        (labels["state"], alarm.state),
        (labels["previous_state"], alarm.previous_state),
        (labels["time"], format_timestamp(alarm.timestamp, settings.tz)),
        (labels["region"], region),
        (labels["account"], account_label(alarm.account, settings)),
        (labels["alarm_type"], ALARM_TYPES.get(alarm.alarm_type or "")),
    ]
    metric = " ".join(p for p in (alarm.namespace, alarm.metric_name) if p)
    details = [
        (labels["metric"], metric or None),
        (labels["dimensions"], _dimensions_text(alarm.dimensions) or None),
        (labels["condition"], _condition(alarm, labels)),
        (labels["period"], _period(alarm)),
    ]
    blocks += _sections_of_fields([_field(k, v, cap) for k, v in summary if v])
    blocks += _sections_of_fields([_field(k, v, cap) for k, v in details if v])

    if alarm.metrics:
        lines = "\n".join(_metric_query_line(q) for q in alarm.metrics)
        blocks.append(_text_section(labels["metrics"], lines, cap, code=True))
    if alarm.alarm_rule:
        blocks.append(_text_section(labels["alarm_rule"], alarm.alarm_rule, cap, code=True))
    if alarm.triggering_children:
        children = "\n".join(alarm.triggering_children)
        blocks.append(_text_section(labels["triggered_by"], children, cap))
    url = console_url(alarm)
    if url:
        blocks.append(
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "text": plain_text(labels["open_console"], 75),
                        "url": url,
                    }
                ],
            }
        )
    return blocks


def _other_blocks(alarm: Alarm, labels: dict[str, str], cap: int) -> list[dict]:
    title = alarm.subject or labels["notification"]
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": plain_text(f"{TEXT_STYLE[0]} {escape(title)}", HEADER_LIMIT)}
    ]
    body = alarm.text if alarm.text and alarm.text.strip() else labels["empty"]
    blocks.append(_text_section(labels["message"], body, cap, code=alarm.kind == "unknown"))
    return blocks


def _fallback_text(alarm: Alarm, settings: Settings, labels: dict[str, str]) -> str:
    if alarm.kind != "alarm":
        title = alarm.subject
        if not title and alarm.kind == "text":
            title = (alarm.text or "").strip().split("\n", 1)[0]
        return truncate(
            f"{TEXT_STYLE[0]} {escape(title or labels['notification'])}", FALLBACK_TEXT_LIMIT
        )
    emoji, _ = STATE_STYLES.get(alarm.state or "", NEUTRAL_STYLE)
    text = (
        f"{emoji} *{escape(alarm.state or labels['no_state'])}*: "
        f"{escape(alarm.name or labels['no_name'])}"
    )
    if alarm.state == "ALARM" and settings.alarm_mention:
        # Operator configuration (e.g. <!here>), deliberately not escaped.
        text = f"{settings.alarm_mention} {text}"
    return truncate(text, FALLBACK_TEXT_LIMIT)


def format_fallback(alarm: Alarm, settings: Settings) -> dict[str, Any]:
    """A minimal payload for when format_message fails on some input: never drop the alert.

    Every value passes through safe_text again: this is the last resort and must not raise.
    """
    state = safe_text(str(alarm.state or ""))
    name = safe_text(str(alarm.name or alarm.subject or ""))
    text = (
        f":warning: {escape(state)} {escape(name)}".rstrip() + " (message could not be formatted)"
    )
    if state == "ALARM" and settings.alarm_mention:
        text = f"{settings.alarm_mention} {text}"
    for note in settings.notes:
        text += f"\n:warning: alarm-to-slack configuration: {escape(note)}"
    return {"text": truncate(safe_text(text), FALLBACK_TEXT_LIMIT)}


def format_plain(alarm: Alarm, settings: Settings) -> dict[str, Any]:
    """The alarm as text only (no blocks): state, name, reason and time, for when Slack refused
    its Block Kit message. Every value passes through safe_text; never raises."""
    labels = LABELS.get(settings.language, LABELS["en"])
    lines = [_fallback_text(alarm, settings, labels)]
    if alarm.kind == "alarm":
        reason = safe_text(str(alarm.reason or ""))
        when = format_timestamp(alarm.timestamp, settings.tz)
        if reason:
            lines.append(truncate(escape(reason), PLAIN_REASON_LIMIT))
        if when:
            lines.append(escape(safe_text(when)))
    elif alarm.text:
        lines.append(truncate(escape(safe_text(alarm.text)), PLAIN_REASON_LIMIT))
    for note in settings.notes:
        lines.append(f":warning: alarm-to-slack configuration: {escape(safe_text(note))}")
    payload = {"text": truncate(safe_text("\n".join(lines)), FALLBACK_TEXT_LIMIT)}
    return apply_overrides(payload, settings)


def _states_block(states: tuple[str, ...], labels: dict[str, str], cap: int) -> dict[str, Any]:
    path = escape(" → ".join(states))
    text = labels["flapped"].replace("{path}", path)
    return {"type": "context", "elements": [mrkdwn(text, min(SECTION_TEXT_LIMIT, cap))]}


def _blocks(
    alarm: Alarm, settings: Settings, labels: dict[str, str], states: tuple[str, ...], cap: int
) -> list[dict[str, Any]]:
    """The message's blocks with every text cut to `cap` characters (or its own limit)."""
    if alarm.kind == "alarm":
        blocks = _alarm_blocks(alarm, settings, labels, cap)
        if len(states) > 1:
            blocks.insert(1, _states_block(states, labels, cap))
    else:
        blocks = _other_blocks(alarm, labels, cap)
    if settings.notes:
        blocks = [*blocks[: BLOCKS_LIMIT - 1], notes_block(settings.notes, cap)]
    return blocks[:BLOCKS_LIMIT]


def _blocks_within_budget(render: Callable[[int], list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """The blocks `render(cap)` makes with the largest cap that keeps them within
    MESSAGE_BUDGET: the longest texts are shortened first, all to the same length, so the
    short ones (name, state, time) stay whole and the reason keeps its start. If even the
    smallest cap does not fit, the last blocks go until it does (the header stays)."""
    blocks = render(SECTION_TEXT_LIMIT)
    if block_chars(blocks) <= MESSAGE_BUDGET:
        return blocks
    low, high = MIN_TEXT_CAP, SECTION_TEXT_LIMIT
    while low < high:
        middle = (low + high + 1) // 2
        if block_chars(render(middle)) <= MESSAGE_BUDGET:
            low = middle
        else:
            high = middle - 1
    blocks = render(low)
    while len(blocks) > 1 and block_chars(blocks) > MESSAGE_BUDGET:
        blocks.pop()
    return blocks


def format_message(
    alarm: Alarm, settings: Settings, *, states: tuple[str, ...] = ()
) -> dict[str, Any]:
    """The Slack webhook JSON payload for one Alarm; a pure function of its arguments.

    `states` is the path the alarm took within one batch (["ALARM", "OK"]); with more than one
    state the message says so, since only the last one is shown.
    """
    labels = LABELS.get(settings.language, LABELS["en"])
    if alarm.kind == "alarm":
        _, color = STATE_STYLES.get(alarm.state or "", NEUTRAL_STYLE)
    else:
        color = TEXT_STYLE[1]
    blocks = _blocks_within_budget(lambda cap: _blocks(alarm, settings, labels, states, cap))
    payload: dict[str, Any] = {
        "text": _fallback_text(alarm, settings, labels),
        "attachments": [{"color": color, "blocks": blocks}],
    }
    return apply_overrides(payload, settings)
