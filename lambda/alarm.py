"""Turn any event the function can receive into Alarm values; never raises on odd input."""

from __future__ import annotations

import datetime as dt
import json
import re

from records import frozen
from text import safe_text

# typing costs cold-start time and is only needed by type checkers.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

ALARM_STATE_CHANGE = "CloudWatch Alarm State Change"

# arn:<partition>:cloudwatch:<region>:<account>:alarm:<name>; the name itself may contain ':'.
_ALARM_ARN = re.compile(
    r"^arn:(?P<partition>aws(?:-[a-z]+)*):cloudwatch:(?P<region>[a-z]{2}(?:-[a-z]+)+-\d+):"
    r"(?P<account>\d{12}):alarm:(?P<name>.+)$",
    re.DOTALL,
)
_REGION_CODE = re.compile(r"^[a-z]{2}(?:-[a-z]+)+-\d+$")


@frozen
class MetricQuery:
    """One entry of a metric-math or anomaly-detection alarm (Trigger.Metrics / metrics)."""

    id: str | None = None
    expression: str | None = None
    label: str | None = None
    namespace: str | None = None
    metric_name: str | None = None
    statistic: str | None = None
    period: str | None = None
    dimensions: tuple[tuple[str, str], ...] = ()
    return_data: bool | None = None


@frozen
class Alarm:
    """What one record says, whatever its shape.

    kind is "alarm" for a CloudWatch alarm state change, "text" for a plain-text message and
    "unknown" for anything else (then `text` holds a readable dump of it). source says how it
    arrived: "sns", "lambda" (alarm action), "eventbridge", "sns-eventbridge", "sqs" or "event".
    Every value is kept as AWS sent it (as text); formatting decides how to show it.
    """

    kind: str
    source: str
    name: str | None = None
    description: str | None = None
    state: str | None = None
    previous_state: str | None = None
    reason: str | None = None
    timestamp: str | None = None
    region: str | None = None
    region_name: str | None = None
    account: str | None = None
    arn: str | None = None
    alarm_type: str | None = None
    namespace: str | None = None
    metric_name: str | None = None
    statistic: str | None = None
    unit: str | None = None
    dimensions: tuple[tuple[str, str], ...] = ()
    comparison: str | None = None
    threshold: str | None = None
    period: str | None = None
    evaluation_periods: str | None = None
    datapoints_to_alarm: str | None = None
    treat_missing_data: str | None = None
    threshold_metric_id: str | None = None
    metrics: tuple[MetricQuery, ...] = ()
    alarm_rule: str | None = None
    triggering_children: tuple[str, ...] = ()
    subject: str | None = None
    text: str | None = None

    @property
    def event_kind(self) -> str:
        """A short label for logs, e.g. "sns-alarm", "lambda-alarm", "sns-text"."""
        return f"{self.source}-{self.kind}"


@frozen
class AlarmArn:
    """The parts of a CloudWatch alarm ARN."""

    partition: str
    region: str
    account: str
    name: str


@frozen
class Received:
    """One alarm as it arrived: the Alarm plus the ids needed to acknowledge and de-duplicate it.

    item_id is the SQS messageId (reported in batchItemFailures when the alarm's message was not
    delivered); event_id is the sender's id (SNS MessageId or EventBridge event id), the same on
    every redelivery of one notification.
    """

    alarm: Alarm
    item_id: str | None = None
    event_id: str | None = None


def parse_alarm_arn(value: object) -> AlarmArn | None:
    """Split a CloudWatch alarm ARN; None when it is not one."""
    if not isinstance(value, str):
        return None
    match = _ALARM_ARN.match(value.strip())
    if match is None:
        return None
    return AlarmArn(**match.groupdict())


_TIMESTAMP = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?"
    r"\s*(Z|[+-]\d{2}(?::?\d{2})?)?$",
    re.IGNORECASE,
)


def parse_timestamp(value: str) -> dt.datetime | None:
    """Parse CloudWatch's timestamps: 2017-01-12T16:30:42.236+0000, ...Z, +00:00, no fraction.

    Returns an aware datetime (naive input is taken as UTC), or None when it is not a timestamp.
    """
    match = _TIMESTAMP.match(value.strip())
    if match is None:
        return None
    year, month, day, hour, minute, second, fraction, offset = match.groups()
    try:
        tz: dt.tzinfo = dt.UTC
        if offset and offset.upper() != "Z":
            digits = offset[1:].replace(":", "")
            hours, minutes = int(digits[:2]), int(digits[2:4] or 0)
            delta = dt.timedelta(hours=hours, minutes=minutes)
            tz = dt.timezone(-delta if offset[0] == "-" else delta)
        return dt.datetime(
            int(year),
            int(month),
            int(day),
            int(hour),
            int(minute),
            int(second or 0),
            int((fraction or "0")[:6].ljust(6, "0")),
            tzinfo=tz,
        )
    except (ValueError, OverflowError):
        return None


# --- small, type-tolerant accessors -------------------------------------------------------


def _text(value: object) -> str | None:
    """Any JSON value as display text (safe to encode); None for null or empty."""
    if value is None or isinstance(value, str):
        return safe_text(value) if value and value.strip() else None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        integral = isinstance(value, float) and value.is_integer() and abs(value) < 1e16
        return str(int(value)) if integral else str(value)
    try:
        return safe_text(json.dumps(value, ensure_ascii=False, sort_keys=True, default=str))
    except (TypeError, ValueError):
        return safe_text(repr(value))


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def _pick(mapping: dict[str, Any], *keys: str) -> Any:  # noqa: ANN401 - JSON value
    """The first present, non-null value among keys (AWS mixes Name/name across shapes)."""
    for key in keys:
        value = mapping.get(key)
        if value is not None:
            return value
    return None


def _dimensions(value: object) -> tuple[tuple[str, str], ...]:
    """SNS sends [{"name": .., "value": ..}]; the direct and EventBridge shapes send a map."""
    pairs: list[tuple[str, str]] = []
    if isinstance(value, dict):
        for key, item in value.items():
            pairs.append((_text(key) or "?", _text(item) or ""))
    else:
        for item in _list(value):
            entry = _dict(item)
            name = _text(_pick(entry, "name", "Name"))
            if name is None and not entry:
                continue
            pairs.append((name or "?", _text(_pick(entry, "value", "Value")) or ""))
    return tuple(pairs)


def _return_data(value: object) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return None


def _metric_queries(value: object) -> tuple[MetricQuery, ...]:
    queries = []
    for item in _list(value):
        entry = _dict(item)
        if not entry:
            continue
        stat = _dict(_pick(entry, "MetricStat", "metricStat"))
        metric = _dict(_pick(stat, "Metric", "metric"))
        queries.append(
            MetricQuery(
                id=_text(_pick(entry, "Id", "id")),
                expression=_text(_pick(entry, "Expression", "expression")),
                label=_text(_pick(entry, "Label", "label")),
                namespace=_text(_pick(metric, "Namespace", "namespace")),
                metric_name=_text(_pick(metric, "MetricName", "name", "metricName")),
                statistic=_text(_pick(stat, "Stat", "stat")),
                period=_text(_pick(stat, "Period", "period") or _pick(entry, "Period", "period")),
                dimensions=_dimensions(_pick(metric, "Dimensions", "dimensions")),
                return_data=_return_data(_pick(entry, "ReturnData", "returnData")),
            )
        )
    return tuple(queries)


def _alarm_type(
    alarm_rule: str | None,
    threshold_metric_id: str | None,
    metric_name: str | None,
    metrics: tuple[MetricQuery, ...],
) -> str | None:
    if alarm_rule:
        return "composite"
    expressions = " ".join(q.expression or "" for q in metrics).upper()
    if threshold_metric_id or "ANOMALY_DETECTION_BAND" in expressions:
        return "anomaly-detection"
    if metric_name:
        return "metric"
    if metrics:
        return "metric-math"
    return None


def _region_code(*candidates: object) -> str | None:
    for candidate in candidates:
        if isinstance(candidate, str) and _REGION_CODE.match(candidate):
            return candidate
    return None


# --- the shapes ---------------------------------------------------------------------------


def _from_sns_alarm_message(message: dict[str, Any], source: str) -> Alarm:
    """CloudWatch's SNS notification body (AlarmName, NewStateValue, Trigger ...)."""
    trigger = _dict(message.get("Trigger"))
    arn = _text(message.get("AlarmArn"))
    parsed_arn = parse_alarm_arn(arn)
    metrics = _metric_queries(trigger.get("Metrics"))
    metric_name = _text(trigger.get("MetricName"))
    alarm_rule = _text(message.get("AlarmRule"))
    threshold_metric_id = _text(trigger.get("ThresholdMetricId"))
    children = []
    for child in _list(message.get("TriggeringChildren")):
        entry = _dict(child)
        child_arn = _text(_pick(entry, "Arn", "arn"))
        child_state = _text(_pick(_dict(_pick(entry, "State", "state")), "Value", "value"))
        child_name = parse_alarm_arn(child_arn).name if parse_alarm_arn(child_arn) else child_arn
        if child_name:
            children.append(f"{child_name} ({child_state})" if child_state else child_name)
    return Alarm(
        kind="alarm",
        source=source,
        name=_text(message.get("AlarmName")) or (parsed_arn.name if parsed_arn else None),
        description=_text(message.get("AlarmDescription")),
        state=_text(message.get("NewStateValue")),
        previous_state=_text(message.get("OldStateValue")),
        reason=_text(message.get("NewStateReason")),
        timestamp=_text(message.get("StateChangeTime")),
        region=parsed_arn.region if parsed_arn else _region_code(message.get("Region")),
        region_name=_text(message.get("Region")),
        account=_text(message.get("AWSAccountId")) or (parsed_arn.account if parsed_arn else None),
        arn=arn,
        alarm_type=_alarm_type(alarm_rule, threshold_metric_id, metric_name, metrics),
        namespace=_text(trigger.get("Namespace")),
        metric_name=metric_name,
        statistic=_text(trigger.get("Statistic") or trigger.get("ExtendedStatistic")),
        unit=_text(trigger.get("Unit")),
        dimensions=_dimensions(trigger.get("Dimensions")),
        comparison=_text(trigger.get("ComparisonOperator")),
        threshold=_text(trigger.get("Threshold")),
        period=_text(trigger.get("Period")),
        evaluation_periods=_text(trigger.get("EvaluationPeriods")),
        datapoints_to_alarm=_text(trigger.get("DatapointsToAlarm")),
        treat_missing_data=_text(trigger.get("TreatMissingData")),
        threshold_metric_id=threshold_metric_id,
        metrics=metrics,
        alarm_rule=alarm_rule,
        triggering_children=tuple(children),
    )


def _from_alarm_data(
    data: dict[str, Any],
    *,
    source: str,
    arn: object,
    region: object,
    account: object,
    time: object,
) -> Alarm:
    """alarmData of a direct alarm action, or detail of an EventBridge state-change event."""
    state = _dict(data.get("state"))
    previous = _dict(data.get("previousState"))
    configuration = _dict(data.get("configuration"))
    arn_text = _text(arn)
    parsed_arn = parse_alarm_arn(arn_text)
    metrics = _metric_queries(configuration.get("metrics"))
    alarm_rule = _text(configuration.get("alarmRule"))
    threshold_metric_id = _text(configuration.get("thresholdMetricId"))
    namespace = metric_name = statistic = period = None
    dimensions: tuple[tuple[str, str], ...] = ()
    single = [q for q in metrics if q.metric_name and not q.expression]
    if len(metrics) == 1 and single and not threshold_metric_id:
        # One plain metric is a single-metric alarm: show it like the SNS Trigger form.
        query = single[0]
        namespace, metric_name, statistic = query.namespace, query.metric_name, query.statistic
        period, dimensions, metrics = query.period, query.dimensions, ()
    return Alarm(
        kind="alarm",
        source=source,
        name=_text(data.get("alarmName")) or (parsed_arn.name if parsed_arn else None),
        description=_text(configuration.get("description")),
        state=_text(state.get("value")),
        previous_state=_text(previous.get("value")),
        reason=_text(state.get("reason")),
        timestamp=_text(state.get("timestamp")) or _text(time),
        # The alarm's ARN says where it lives; an event's own account/region fields name who
        # put it on the bus, which differs when a forwarder or another process re-puts it.
        region=parsed_arn.region if parsed_arn else _region_code(region),
        account=parsed_arn.account if parsed_arn else _text(account),
        arn=arn_text,
        alarm_type=_alarm_type(alarm_rule, threshold_metric_id, metric_name, metrics),
        namespace=namespace,
        metric_name=metric_name,
        statistic=statistic,
        dimensions=dimensions,
        comparison=_text(configuration.get("comparisonOperator")),
        threshold=_text(configuration.get("threshold")) or _reason_data_threshold(state),
        period=period,
        evaluation_periods=_text(configuration.get("evaluationPeriods")),
        datapoints_to_alarm=_text(configuration.get("datapointsToAlarm")),
        treat_missing_data=_text(configuration.get("treatMissingData")),
        threshold_metric_id=threshold_metric_id,
        metrics=metrics,
        alarm_rule=alarm_rule,
    )


def _reason_data_threshold(state: dict[str, Any]) -> str | None:
    """These shapes carry no threshold in configuration; reasonData (a JSON string) has it."""
    raw = state.get("reasonData")
    if not isinstance(raw, str) or not raw.lstrip().startswith("{"):
        return None
    try:
        data = json.loads(raw)
    except ValueError:
        return None
    return _text(data.get("threshold")) if isinstance(data, dict) else None


def _from_lambda_action(event: dict[str, Any], source: str = "lambda") -> Alarm:
    return _from_alarm_data(
        _dict(event.get("alarmData")),
        source=source,
        arn=event.get("alarmArn"),
        region=event.get("region"),
        account=event.get("accountId"),
        time=event.get("time"),
    )


def _from_eventbridge(event: dict[str, Any], source: str = "eventbridge") -> Alarm:
    resources = [r for r in _list(event.get("resources")) if parse_alarm_arn(r)]
    return _from_alarm_data(
        _dict(event.get("detail")),
        source=source,
        arn=resources[0] if resources else None,
        region=event.get("region"),
        account=event.get("account"),
        time=event.get("time"),
    )


def _is_sns_alarm(obj: dict[str, Any]) -> bool:
    return "AlarmName" in obj or "NewStateValue" in obj


def _is_eventbridge_alarm(obj: dict[str, Any]) -> bool:
    detail = obj.get("detail")
    return obj.get("detail-type") == ALARM_STATE_CHANGE or (
        isinstance(detail, dict) and "alarmName" in detail and "state" in detail
    )


def _dump(value: object) -> str:
    try:
        return safe_text(json.dumps(value, ensure_ascii=False, indent=2, default=str))
    except (TypeError, ValueError):
        return safe_text(repr(value))


def _from_json_object(obj: dict[str, Any], source: str, subject: str | None = None) -> Alarm:
    if _is_sns_alarm(obj):
        return _from_sns_alarm_message(obj, source)
    if _is_eventbridge_alarm(obj):
        return _from_eventbridge(
            obj, "eventbridge" if source == "event" else f"{source}-eventbridge"
        )
    if "alarmData" in obj:
        return _from_lambda_action(obj, "lambda" if source == "event" else f"{source}-lambda")
    return Alarm(kind="unknown", source=source, subject=subject, text=_dump(obj))


def parse_message_body(body: object, source: str, subject: object = None) -> Alarm:
    """An SNS Message (or SQS body): an alarm as JSON text, other JSON, or plain text."""
    subject_text = _text(subject)
    obj: object = body
    if isinstance(body, str):
        stripped = body.strip()
        if not stripped.startswith("{"):
            return Alarm(kind="text", source=source, subject=subject_text, text=safe_text(body))
        try:
            obj = json.loads(stripped)
        except ValueError:
            return Alarm(kind="text", source=source, subject=subject_text, text=safe_text(body))
    if isinstance(obj, dict):
        return _from_json_object(obj, source, subject_text)
    if obj is None:
        return Alarm(kind="text", source=source, subject=subject_text, text="")
    return Alarm(kind="unknown", source=source, subject=subject_text, text=_dump(obj))


def _is_sns_envelope(obj: dict[str, Any]) -> bool:
    """An SNS notification as SQS (or HTTP) receives it: Type, MessageId, Message, TopicArn."""
    return obj.get("Type") == "Notification" and "Message" in obj and "MessageId" in obj


def _is_async_failure_record(obj: dict[str, Any]) -> bool:
    """Lambda's on-failure destination record: the original event is in requestPayload."""
    return "requestPayload" in obj and isinstance(obj.get("requestContext"), dict)


def _event_id(obj: dict[str, Any]) -> str | None:
    """The sender's id of one notification: SNS MessageId or EventBridge event id."""
    if _is_sns_envelope(obj):
        return _text(obj.get("MessageId"))
    if _is_eventbridge_alarm(obj):
        return _text(obj.get("id"))
    return None


def _sqs_body(body: object, item_id: str | None) -> list[Received]:
    """An SQS message body: an SNS envelope, raw alarm JSON (SNS raw message delivery), an
    EventBridge event, a failed invocation's record (redriven from the failure queue), or text."""
    obj: object = body
    if isinstance(body, str) and body.lstrip().startswith("{"):
        try:
            obj = json.loads(body)
        except ValueError:
            obj = body
    if isinstance(obj, dict):
        if _is_sns_envelope(obj):
            alarm = parse_message_body(obj.get("Message"), "sqs-sns", obj.get("Subject"))
            return [Received(alarm, item_id, _event_id(obj))]
        if _is_async_failure_record(obj):
            # The original event may hold several records; all are acknowledged with this item.
            inner = _received_from_event(obj.get("requestPayload"))
            return [Received(r.alarm, item_id, r.event_id) for r in inner]
        return [Received(_from_json_object(obj, "sqs"), item_id, _event_id(obj))]
    return [Received(parse_message_body(body, "sqs"), item_id, None)]


def _received_from_record(record: object) -> list[Received]:
    entry = _dict(record)
    sns = entry.get("Sns")
    if isinstance(sns, dict):
        alarm = parse_message_body(sns.get("Message"), "sns", sns.get("Subject"))
        return [Received(alarm, None, _text(sns.get("MessageId")))]
    if "body" in entry and entry.get("eventSource") == "aws:sqs":
        return _sqs_body(entry.get("body"), _text(entry.get("messageId")))
    return [Received(Alarm(kind="unknown", source="record", text=_dump(record)), None, None)]


def _received_from_record_safely(record: object) -> list[Received]:
    try:
        return _received_from_record(record)
    except Exception:  # a record must become a message, whatever it holds
        item_id = _text(_dict(record).get("messageId")) if isinstance(record, dict) else None
        return [Received(Alarm(kind="unknown", source="record", text=_dump(record)), item_id, None)]


def _received_from_event(event: object) -> list[Received]:
    if event is None or event in ({}, [], ""):
        return []
    if isinstance(event, dict):
        if "Records" in event:
            records = event["Records"]
            if not isinstance(records, list):
                return [Received(Alarm(kind="unknown", source="event", text=_dump(event)))]
            return [r for record in records for r in _received_from_record_safely(record)]
        return [Received(_from_json_object(event, "event"), None, _event_id(event))]
    if isinstance(event, str):
        return [Received(parse_message_body(event, "event"))]
    return [Received(Alarm(kind="unknown", source="event", text=_dump(event)))]


def parse_record(record: object) -> Alarm:
    """One entry of an event's Records list (SNS or SQS); the first alarm it carries."""
    return _received_from_record_safely(record)[0].alarm


def parse_records(event: object) -> list[Received]:
    """Every alarm (or other message) in a Lambda event with the ids needed to acknowledge and
    de-duplicate it; [] for an empty event. Never raises (see parse_event)."""
    try:
        return _received_from_event(event)
    except Exception:  # see parse_event
        return [Received(Alarm(kind="unknown", source="event", text=_dump(event)))]


def parse_event(event: object) -> list[Alarm]:
    """Every alarm (or other message) in a Lambda event, one per record; [] for an empty event.

    Never raises: odd input becomes an Alarm of kind "text" or "unknown" that still formats
    into a readable Slack message, because a dropped alert is worse than an ugly one.
    """
    return [received.alarm for received in parse_records(event)]
