"""The alarm's metric as a picture in its Slack thread (Slack app mode only).

Pure: `widget_for` builds the GetMetricWidgetImage MetricWidget JSON from an Alarm. I/O at the
edges: `render_png` calls AWS (it imports boto3 itself, so nothing here costs the webhook path's
cold start; the handler imports this module only in app mode with graphs on), and `post_graph`
/ `post_graphs` upload the PNG through slack_files. `GraphCollector` is the handler's hook: it
notes which posted messages get a graph, drawn after every text was sent.

Sharing a file needs the app to be a member of the channel (chat:write.public covers
chat.postMessage only: field report getnao/nao#1372), so a public channel is joined once per
container before its first graph (conversations.join, scope channels:join). A metric of another
account is drawn only when settings name the account (CloudWatch cross-account observability);
otherwise the thread gets a short note instead of a graph of the wrong account.
Widget structure: https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/
CloudWatch-Metric-Widget-Structure.html
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from dataclasses import dataclass

from alarm import Alarm, MetricQuery, parse_timestamp

# typing costs cold-start time and is only needed by type checkers.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

# Three hours show the run-up to most incidents without squashing a 1-minute metric flat.
DEFAULT_WINDOW_SECONDS = 3 * 3600
MIN_WINDOW_SECONDS = 10 * 60
MAX_WINDOW_SECONDS = 7 * 24 * 3600
# A window of fewer points than this is a stub (a 1-day-period alarm in a 3-hour window has
# none): widen it to this many periods.
MIN_PERIODS_SHOWN = 10
DEFAULT_WIDTH = 800
DEFAULT_HEIGHT = 400
# The API draws at most 100 metrics and expressions per graph.
MAX_METRICS = 100
TITLE_LIMIT = 120
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# GetMetricWidgetImage typically answers within a second; these bound a hung call.
RENDER_CONNECT_TIMEOUT = 2.0
RENDER_READ_TIMEOUT = 4.0

THRESHOLD_COLOR = "#d62728"
STATE_COLORS = {"ALARM": "#d62728", "OK": "#2ca02c", "INSUFFICIENT_DATA": "#7f7f7f"}

# CloudWatch's SNS payloads spell statistics in upper case (AVERAGE, SAMPLE_COUNT); the widget
# wants the API's spelling. Extended statistics (p99, tm90, TM(10%:90%), IQM ...) pass through.
_STATISTICS = {
    "average": "Average",
    "sum": "Sum",
    "minimum": "Minimum",
    "maximum": "Maximum",
    "samplecount": "SampleCount",
}
# comparison operator -> (symbol for the label, shading side of the threshold line)
_COMPARISONS = {
    "GreaterThanOrEqualToThreshold": (">=", "above"),
    "GreaterThanThreshold": (">", "above"),
    "LessThanThreshold": ("<", "below"),
    "LessThanOrEqualToThreshold": ("<=", "below"),
}
# Metric-math ids: a lower-case letter, then letters, digits and underscores.
_METRIC_ID = re.compile(r"^[a-z][A-Za-z0-9_]*$")


class GraphError(Exception):
    """The graph could not be drawn or delivered; `reason` is a short, loggable code.

    reason is one of: throttled, permission_denied, invalid_widget, unavailable, bad_image,
    upload_failed, error. The message never holds a token or an upload URL.
    """

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


# --- pure: the widget -----------------------------------------------------------------------


def normalize_statistic(value: str | None) -> str | None:
    """AVERAGE -> Average, SAMPLE_COUNT -> SampleCount; extended statistics unchanged."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    return _STATISTICS.get(text.lower().replace("_", ""), text)


def _seconds(value: str | None) -> int | None:
    """A positive whole number of seconds from AWS's text ("60", "300.0"); None otherwise."""
    if value is None:
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    if not math.isfinite(number) or number <= 0 or number > 10**9 or not number.is_integer():
        return None
    return int(number)


def _period(value: str | None) -> int | None:
    """A period CloudWatch can draw: 1, 5, 10, 30 or a multiple of 60 seconds; else None."""
    seconds = _seconds(value)
    if seconds is None or (seconds not in (1, 5, 10, 30) and seconds % 60):
        return None
    return seconds


def _number(value: str | None) -> float | int | None:
    if value is None:
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    if not math.isfinite(number):
        return None
    return int(number) if number.is_integer() and abs(number) < 1e15 else number


def utc_offset(tz: dt.tzinfo, at: dt.datetime) -> str:
    """The zone's offset at `at` in the widget's `timezone` form: +HHMM or -HHMM (e.g. +0900).

    Taken at the state-change time, so a graph of a summer alarm uses summer time.
    """
    offset = at.astimezone(tz).utcoffset() or dt.timedelta(0)
    sign = "-" if offset < dt.timedelta(0) else "+"
    minutes = abs(int(offset.total_seconds())) // 60
    return f"{sign}{minutes // 60:02d}{minutes % 60:02d}"


def _iso_utc(moment: dt.datetime) -> str:
    """2024-05-14T07:21:04.987Z: the absolute form the widget's start/end and annotations take."""
    utc = moment.astimezone(dt.UTC)
    return f"{utc:%Y-%m-%dT%H:%M:%S}.{utc.microsecond // 1000:03d}Z"


def _relative(seconds: int) -> str:
    """-PT3H, -PT90M: an ISO 8601 duration back from now (used when the alarm has no time)."""
    if seconds % 3600 == 0:
        return f"-PT{seconds // 3600}H"
    if seconds % 60 == 0:
        return f"-PT{seconds // 60}M"
    return f"-PT{seconds}S"


def _metric_line(
    namespace: str | None,
    metric_name: str | None,
    dimensions: tuple[tuple[str, str], ...],
    options: dict[str, Any],
) -> list[Any] | None:
    """["Namespace", "Metric", "Dim", "Value", ..., {options}]; None without namespace/name."""
    if not namespace or not metric_name or not all(name and value for name, value in dimensions):
        return None  # an empty dimension would draw another metric, or be refused
    line: list[Any] = [namespace, metric_name]
    for name, value in dimensions:
        line += [name, value]
    line.append({key: value for key, value in options.items() if value is not None})
    return line


def _query_line(
    query: MetricQuery, *, anomaly: bool, account_id: str | None = None
) -> list[Any] | None:
    """One entry of a metric-math or anomaly-detection alarm as a widget metrics line."""
    metric_id = query.id if query.id and _METRIC_ID.match(query.id) else None
    # ReturnData false means "an input of the expression, not a line on the alarm's graph";
    # the console hides those lines too. An anomaly alarm's band and metric both show.
    hidden = query.return_data is False and not anomaly
    if query.expression:
        if metric_id is None:
            return None  # an expression without a usable id cannot be drawn reliably
        options: dict[str, Any] = {
            "expression": query.expression,
            "id": metric_id,
            "label": query.label,
            "period": _period(query.period),
        }
        if hidden:
            options["visible"] = False
        return [{key: value for key, value in options.items() if value is not None}]
    options = {
        "id": metric_id,
        "stat": normalize_statistic(query.statistic),
        "period": _period(query.period),
        "label": query.label,
        "accountId": account_id,
    }
    if hidden:
        options["visible"] = False
    return _metric_line(query.namespace, query.metric_name, query.dimensions, options)


def _metrics(
    alarm: Alarm, account_id: str | None = None
) -> tuple[list[list[Any]], int | None] | None:
    """The widget's metrics lines and the period to draw; None when there is nothing to draw.
    `account_id`: the account the metrics live in, when not the caller's (each metric line's
    rendering property accountId; expressions compute from those lines)."""
    period = _period(alarm.period)
    if alarm.metric_name:
        line = _metric_line(
            alarm.namespace,
            alarm.metric_name,
            alarm.dimensions,
            {
                "stat": normalize_statistic(alarm.statistic),
                "period": period,
                "accountId": account_id,
            },
        )
        return ([line], period) if line is not None else None
    if not alarm.metrics or len(alarm.metrics) > MAX_METRICS:
        return None
    anomaly = alarm.alarm_type == "anomaly-detection"
    lines = []
    for query in alarm.metrics:
        line = _query_line(query, anomaly=anomaly, account_id=account_id)
        if line is None:
            return None  # a half-drawn metric-math graph would show the wrong thing
        lines.append(line)
    if period is None:
        period = next((p for p in (_period(q.period) for q in alarm.metrics) if p), None)
    return lines, period


def _threshold_annotation(alarm: Alarm) -> dict[str, Any] | None:
    """The threshold as a horizontal line, shaded on the breaching side; not for bands."""
    if alarm.alarm_type == "anomaly-detection" or alarm.threshold_metric_id:
        return None
    value = _number(alarm.threshold)
    if value is None:
        return None
    symbol, fill = _COMPARISONS.get(alarm.comparison or "", (None, None))
    shown = alarm.threshold if alarm.threshold is not None else str(value)
    annotation: dict[str, Any] = {
        "value": value,
        "label": f"{symbol} {shown}" if symbol else f"threshold {shown}",
        "color": THRESHOLD_COLOR,
    }
    if fill:
        annotation["fill"] = fill
    return annotation


def _state_time(alarm: Alarm) -> dt.datetime | None:
    if not alarm.timestamp:
        return None
    return parse_timestamp(alarm.timestamp)


def _resolve_tz(tz: dt.tzinfo | str) -> dt.tzinfo:
    if isinstance(tz, dt.tzinfo):
        return tz
    from settings import ConfigError, resolve_timezone  # noqa: PLC0415

    try:
        return resolve_timezone(tz)
    except ConfigError:
        return dt.UTC  # a display setting never stops a graph; settings already validated it


def _around(
    changed_at: dt.datetime, window: int, period: int | None, zone: dt.tzinfo
) -> tuple[str, str, str] | None:
    """(start, end, timezone) for a graph of `window` seconds up to the change, plus a margin
    after it that keeps the vertical line off the right edge; None for a time CloudWatch could
    not draw (outside 1970-9999: a garbled timestamp)."""
    margin = max(period or 60, window // 12)
    try:
        start = changed_at - dt.timedelta(seconds=window)
        end = changed_at + dt.timedelta(seconds=margin)
        offset = utc_offset(zone, changed_at)
    except (OverflowError, ValueError):
        return None
    if start.year < 1970 or end.year > 9999:  # the drawable calendar
        return None
    return _iso_utc(start), _iso_utc(end), offset


def effective_window(window_seconds: int, period: int | None) -> int:
    """The window actually drawn: the setting, widened to show at least MIN_PERIODS_SHOWN."""
    window = max(MIN_WINDOW_SECONDS, min(MAX_WINDOW_SECONDS, int(window_seconds)))
    if period:
        window = max(window, period * MIN_PERIODS_SHOWN)
    return window


def widget_for(
    alarm: Alarm,
    *,
    tz: dt.tzinfo | str = "UTC",
    window_seconds: int = DEFAULT_WINDOW_SECONDS,
    width: int = DEFAULT_WIDTH,
    height: int = DEFAULT_HEIGHT,
    now: dt.datetime | None = None,
    account_id: str | None = None,
) -> dict[str, Any] | None:
    """The GetMetricWidgetImage MetricWidget for an alarm, or None when there is no graph.

    Single-metric, metric-math and anomaly-detection alarms get their own metric(s) with the
    alarm's statistic and period, the threshold as a horizontal line (an anomaly alarm shows
    its band instead), a vertical line at the state change and the `window_seconds` before it.
    Composite alarms, plain-text and unknown records get None: a composite has no metric of
    its own, and its children's definitions are not in the event. `account_id` names the
    account of the metrics when it is not the caller's (cross-account observability).
    """
    if alarm.kind != "alarm" or alarm.alarm_rule or alarm.alarm_type == "composite":
        return None
    drawn = _metrics(alarm, account_id)
    if drawn is None:
        return None
    lines, period = drawn
    zone = _resolve_tz(tz)
    window = effective_window(window_seconds, period)
    changed_at = _state_time(alarm)
    widget: dict[str, Any] = {
        "metrics": lines,
        "view": "timeSeries",
        "stacked": False,
        "width": max(1, min(2000, int(width))),
        "height": max(1, min(2000, int(height))),
        "legend": {"position": "bottom"},
    }
    title = alarm.name or "CloudWatch alarm"
    widget["title"] = title if len(title) <= TITLE_LIMIT else title[: TITLE_LIMIT - 1] + "…"
    if alarm.region:
        # The metric's own region: the function may run elsewhere (a cross-region topic).
        widget["region"] = alarm.region
    if period:
        widget["period"] = period
    if alarm.metric_name:
        statistic = normalize_statistic(alarm.statistic)
        if statistic:
            widget["stat"] = statistic
    annotations: dict[str, list[dict[str, Any]]] = {}
    threshold = _threshold_annotation(alarm)
    if threshold is not None:
        annotations["horizontal"] = [threshold]
    placed = _around(changed_at, window, period, zone) if changed_at is not None else None
    if placed is not None:
        start, end, offset = placed
        widget.update(start=start, end=end, timezone=offset)
        marker: dict[str, Any] = {"value": _iso_utc(changed_at), "label": alarm.state or "change"}
        if alarm.state in STATE_COLORS:
            marker["color"] = STATE_COLORS[alarm.state]
        annotations["vertical"] = [marker]
    else:
        widget["start"] = _relative(window)
        widget["timezone"] = utc_offset(zone, now or dt.datetime.now(dt.UTC))
    if annotations:
        widget["annotations"] = annotations
    return widget


def widget_json(widget: dict[str, Any]) -> str:
    """The MetricWidget parameter: compact JSON (the API takes at most 100 KB)."""
    return json.dumps(widget, ensure_ascii=False, separators=(",", ":"))


# --- I/O: the PNG -----------------------------------------------------------------------------

_THROTTLED = frozenset(
    {"Throttling", "ThrottlingException", "TooManyRequestsException", "RequestLimitExceeded"}
)
_DENIED = frozenset(
    {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "UnrecognizedClient"}
)
_INVALID = frozenset(
    {"InvalidParameterValue", "InvalidParameterInput", "InvalidParameterCombination",
     "MissingParameter", "ValidationError"}
)  # fmt: skip

_client: Any = None


def _default_client() -> Any:  # noqa: ANN401 - a boto3 client has no importable type
    """One CloudWatch client per container; boto3 is imported here only."""
    global _client  # noqa: PLW0603 - created once per container by design
    if _client is None:
        import boto3  # noqa: PLC0415
        from botocore.config import Config  # noqa: PLC0415

        # No retry and short timeouts: a graph is a bonus, never a reason to hold up delivery or
        # run into Lambda's timeout. A throttled call means no graph for this alarm.
        _client = boto3.client(
            "cloudwatch",
            config=Config(
                connect_timeout=RENDER_CONNECT_TIMEOUT,
                read_timeout=RENDER_READ_TIMEOUT,
                retries={"total_max_attempts": 1, "mode": "standard"},
            ),
        )
    return _client


def _classify(exc: Exception) -> tuple[str, str]:
    response = getattr(exc, "response", None)
    error = response.get("Error", {}) if isinstance(response, dict) else {}
    code = str(error.get("Code") or "")
    detail = str(error.get("Message") or exc)[:300]
    if code in _THROTTLED:
        return "throttled", f"GetMetricWidgetImage throttled ({code}): {detail}"
    if code in _DENIED:
        return "permission_denied", (
            f"GetMetricWidgetImage denied ({code}): the function's role needs "
            f"cloudwatch:GetMetricWidgetImage: {detail}"
        )
    if code in _INVALID:
        return "invalid_widget", f"GetMetricWidgetImage refused the widget ({code}): {detail}"
    name = type(exc).__name__
    if name in ("EndpointConnectionError", "ConnectTimeoutError", "ReadTimeoutError"):
        return "unavailable", f"GetMetricWidgetImage unreachable: {name}: {detail}"
    return "error", f"GetMetricWidgetImage failed: {code or name}: {detail}"


def render_png(widget: dict[str, Any], client: Any = None) -> bytes:  # noqa: ANN401
    """Draw the widget with cloudwatch:GetMetricWidgetImage; the PNG bytes, or GraphError."""
    try:
        cloudwatch = client if client is not None else _default_client()
        response = cloudwatch.get_metric_widget_image(
            MetricWidget=widget_json(widget), OutputFormat="png"
        )
    except Exception as exc:  # any failure is the graph's, never the caller's
        reason, message = _classify(exc)
        raise GraphError(reason, message) from exc
    image = response.get("MetricWidgetImage") if isinstance(response, dict) else None
    if not isinstance(image, bytes | bytearray) or not bytes(image).startswith(PNG_SIGNATURE):
        raise GraphError("bad_image", "GetMetricWidgetImage did not return a PNG image")
    return bytes(image)


# --- delivery: the graph into the alarm's Slack thread ----------------------------------------

# Graphs go with these states only: an OK or INSUFFICIENT_DATA arrives in the thread where the
# ALARM's graph already is, and every graph is a billed GetMetricWidgetImage call.
GRAPH_STATES = frozenset({"ALARM"})
# A storm digest gets graphs for its first few alarms only: they show the shape of the incident;
# 100 graphs would bury the thread, cost 100+ billed metrics, take ~1 s each (render + upload)
# and run into GetMetricWidgetImage's 20-requests-per-second account quota.
MAX_GRAPHS_PER_DIGEST = 3
# One graph may take at most this long (render + three Slack calls) ...
GRAPH_TIME_BUDGET_SECONDS = 8.0
# ... and is not started with less time left before the invocation's deadline than the render
# can take at worst (the client's timeouts, no retry) plus a second for the upload, which is
# itself bounded by the deadline.
MIN_SECONDS_FOR_A_GRAPH = RENDER_CONNECT_TIMEOUT + RENDER_READ_TIMEOUT + 1.0

_FILENAME_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class GraphOutcome:
    """What happened to one alarm's graph: safe to log (no token, no upload URL).

    reason: posted, no_graph (shape without a graph), state (not an ALARM), out_of_time,
    a GraphError reason (throttled, permission_denied, invalid_widget, unavailable, bad_image,
    error), upload_failed (error then names the Slack step and error code), not_in_channel (the
    app cannot share files in the channel: error says how to fix it) or cross_account (the
    alarm's metrics live in `account`, which the function may not read: a note instead).
    """

    posted: bool
    reason: str
    file_id: str | None = None
    error: str | None = None
    account: str | None = None


def wants_graph(alarm: Alarm) -> bool:
    """An ALARM of a metric alarm (single, math, anomaly): the ones that get a picture."""
    return alarm.kind == "alarm" and alarm.state in GRAPH_STATES and widget_for(alarm) is not None


def graphs_for_digest(alarms: list[Alarm], limit: int = MAX_GRAPHS_PER_DIGEST) -> list[Alarm]:
    """The alarms of a digest that get a graph: the first `limit` that want one, in order."""
    chosen: list[Alarm] = []
    for alarm in alarms:
        if len(chosen) >= limit:
            break
        if wants_graph(alarm):
            chosen.append(alarm)
    return chosen


def graph_filename(alarm: Alarm) -> str:
    """prod-web-1-cpu-20240514T072104Z.png: readable, safe in any file system and URL."""
    name = _FILENAME_UNSAFE.sub("-", alarm.name or "alarm").strip("-.")[:80] or "alarm"
    changed_at = _state_time(alarm)
    stamp = f"-{changed_at.astimezone(dt.UTC):%Y%m%dT%H%M%SZ}" if changed_at else ""
    return f"{name}{stamp}.png"


def _alt_text(alarm: Alarm, widget: dict[str, Any]) -> str:
    metric = alarm.metric_name or "the alarm's metrics"
    text = f"Graph of {metric} for alarm {alarm.name or '?'}"
    horizontal = widget.get("annotations", {}).get("horizontal") or []
    if horizontal:
        text += f", threshold {horizontal[0]['label']}"
    if alarm.timestamp:
        text += f", state changed to {alarm.state} at {alarm.timestamp}"
    return text


def _log(level_name: str, **fields: object) -> None:
    import logging  # noqa: PLC0415 - loaded by the handler already

    logging.getLogger("alarm_to_slack").log(
        getattr(logging, level_name), json.dumps(fields, ensure_ascii=False)
    )


def _log_outcome(alarm: Alarm, outcome: GraphOutcome, seconds: float) -> GraphOutcome:
    quiet = outcome.posted or outcome.reason in ("no_graph", "state", "cross_account")
    _log(
        "INFO" if quiet else "WARNING",
        message="slack graph",
        alarm_name=alarm.name,
        state=alarm.state,
        outcome=outcome.reason,
        file_id=outcome.file_id,
        error=outcome.error,
        account=outcome.account,
        seconds=round(seconds, 3),
    )
    return outcome


# --- the account: only metrics the function can read -------------------------------------


def function_account(context: object) -> str | None:
    """The function's own account, from Lambda's context (invoked_function_arn); None outside
    Lambda (local runs, tests without a context)."""
    arn = getattr(context, "invoked_function_arn", None)
    parts = arn.split(":") if isinstance(arn, str) else []
    account = parts[4] if len(parts) > 4 else ""  # arn:aws:lambda:<region>:<account>:function:..
    return account if len(account) == 12 and account.isdigit() else None


def graph_account(
    alarm: Alarm, home_account: str | None, readable: tuple[str, ...] | frozenset[str] = ()
) -> tuple[bool, str | None]:
    """(drawable, accountId for the widget) for the alarm's metrics.

    A widget without accountId reads the caller's account (the CloudWatch API reference's
    metric widget structure), so an alarm forwarded from another account would be drawn with
    the wrong account's data, or none. Another account is drawn only when `readable` lists it
    (CloudWatch cross-account observability links it to this monitoring account); else the
    alarm gets no graph. When the function's own account is unknown, the graph is drawn as
    before (no accountId unless listed).
    """
    account = alarm.account
    if not account or account == home_account:
        return True, None
    if account in readable:
        return True, account
    return home_account is None, None


_NOTES = {
    "en": (
        ":information_source: Graph not available: this alarm is in account {label}, and "
        "this function reads only its own account's metrics. For graphs, enable CloudWatch "
        "cross-account observability (this account as the monitoring account, {account} "
        "linked as a source account) and add {account} to slack_graph_cross_account_ids."
    ),
    "ko": (
        ":information_source: 그래프 없음: 이 알람은 계정 {label}의 알람이고, 이 함수는 자기 "
        "계정의 지표만 읽습니다. 그래프를 보려면 CloudWatch 교차 계정 관측성을 켜고(이 계정을 "
        "모니터링 계정으로, {account}를 소스 계정으로 연결) slack_graph_cross_account_ids에 "
        "{account}를 넣으세요."
    ),
}


def cross_account_note(account: str, label: str | None = None, language: str = "en") -> str:
    """The thread note for an alarm whose account the function may not read."""
    template = _NOTES.get(language, _NOTES["en"])
    return template.format(account=account, label=label or account)


# --- channel membership: sharing a file needs it -----------------------------------------

# What this container learned about the app's membership, per (Web API base URL, channel), so
# per workspace (one bot token per container): "member" (joined, or a file was shared there),
# "not_joinable" (conversations.join was refused for good: missing scope, a private channel ...;
# the app may still have been invited, so uploads are tried) or "outside" (a share was refused
# with not_in_channel and the app cannot join: later graphs there are skipped before the billed
# render).
_channel_access: dict[tuple[str, str], str] = {}

NOT_IN_CHANNEL_FIX = (
    "the app must be a member of the channel to share a graph (chat:write.public covers "
    "messages only): /invite the app to the channel, or give it the channels:join scope "
    "(OAuth & Permissions, then reinstall) with slack_graph_join_channels = true"
)
# conversations.join answers that no retry in this container changes, and what to do.
_JOIN_REFUSALS = {
    "missing_scope": (
        "the app lacks the channels:join scope: add it under OAuth & Permissions and reinstall "
        "the app, or /invite the app to the channel"
    ),
    "method_not_supported_for_channel_type": (
        "a private channel: the app cannot join it; graphs work once the app is invited"
    ),
    "is_archived": "the channel is archived",
    "channel_not_found": "the app cannot see the channel (a private channel it is not in?)",
}


def forget_channels() -> None:
    """Forget what this container learned about channel membership (tests, a new container)."""
    _channel_access.clear()


def _key(api: Any, channel: str) -> tuple[str, str]:  # noqa: ANN401
    return str(getattr(api, "base_url", "")), channel


def _join_channel(api: Any, channel: str, deadline: float | None) -> None:  # noqa: ANN401
    """conversations.join once per channel and container; the answer is remembered."""
    result = api.call("conversations.join", {"channel": channel}, deadline=deadline)
    if result.ok:
        _channel_access[_key(api, channel)] = "member"
        return
    status = result.delivery.status
    answered = status is not None and 200 <= status < 300
    if answered and result.error in _JOIN_REFUSALS:
        _channel_access[_key(api, channel)] = "not_joinable"
    private = result.error == "method_not_supported_for_channel_type"
    _log(
        "INFO" if private else "WARNING",
        message="slack graph channel",
        channel=channel,
        outcome="join_refused" if _key(api, channel) in _channel_access else "join_failed",
        error=result.error,
        fix=_JOIN_REFUSALS.get(result.error or "", "tried again with the next graph"),
    )


def _channel_ready(
    api: Any,  # noqa: ANN401
    channel: str,
    *,
    join: bool,
    deadline: float | None,
) -> bool:
    """False when this container knows the app cannot share files in the channel."""
    known = _channel_access.get(_key(api, channel))
    if known is None and join:
        _join_channel(api, channel, deadline)
        known = _channel_access.get(_key(api, channel))
    return known != "outside"


def _learn_from_upload(api: Any, channel: str, upload: Any, *, join: bool) -> None:  # noqa: ANN401
    key = _key(api, channel)
    if upload.ok:
        _channel_access[key] = "member"
    elif upload.step == "complete" and upload.error == "not_in_channel":
        if _channel_access.get(key) == "member" and join:
            del _channel_access[key]  # removed from the channel since: join again next time
        else:
            _channel_access[key] = "outside"


# --- one graph into its thread ---------------------------------------------------------------


def post_graph(
    alarm: Alarm,
    channel: str,
    thread_ts: str | None,
    *,
    api: Any,  # noqa: ANN401 - slack_api.SlackApi, imported lazily
    tz: dt.tzinfo | str = "UTC",
    window_seconds: int = DEFAULT_WINDOW_SECONDS,
    deadline: float | None = None,
    client: Any = None,  # noqa: ANN401 - a boto3 CloudWatch client (tests pass a fake)
    render: Any = None,  # noqa: ANN401 - Callable[[dict, Any], bytes]; render_png by default
    join_channels: bool = False,
    home_account: str | None = None,
    cross_account_ids: tuple[str, ...] | frozenset[str] = (),
) -> GraphOutcome:
    """Draw the alarm's graph and share it in the thread of its Slack message; never raises.

    Call it after the alarm's message was posted (channel + ts known), never before: the text
    comes first. Every failure (throttling, permissions, upload) is logged and returned, so the
    record's delivery stands and the other alarms are not held up. One graph takes at most
    GRAPH_TIME_BUDGET_SECONDS and none starts with less than MIN_SECONDS_FOR_A_GRAPH left.
    `join_channels`: join a public channel first (once per container); `home_account` and
    `cross_account_ids`: which accounts' metrics may be drawn (graph_account).
    """
    started = api.clock()
    try:
        outcome = _post_graph(
            alarm,
            channel,
            thread_ts,
            api=api,
            tz=tz,
            window_seconds=window_seconds,
            deadline=deadline,
            client=client,
            render=render or render_png,
            join_channels=join_channels,
            home_account=home_account,
            cross_account_ids=cross_account_ids,
        )
    except GraphError as exc:
        outcome = GraphOutcome(False, exc.reason, error=str(exc))
    except Exception as exc:  # a graph bug must never cost the alert its delivery
        outcome = GraphOutcome(False, "error", error=f"{type(exc).__name__}: {exc}"[:300])
    return _log_outcome(alarm, outcome, api.clock() - started)


def _post_graph(  # noqa: PLR0911 - one return per way a graph is skipped
    alarm: Alarm,
    channel: str,
    thread_ts: str | None,
    *,
    api: Any,  # noqa: ANN401
    tz: dt.tzinfo | str,
    window_seconds: int,
    deadline: float | None,
    client: Any,  # noqa: ANN401
    render: Any,  # noqa: ANN401
    join_channels: bool,
    home_account: str | None,
    cross_account_ids: tuple[str, ...] | frozenset[str],
) -> GraphOutcome:
    if alarm.kind != "alarm" or alarm.state not in GRAPH_STATES:
        return GraphOutcome(False, "state")
    now = api.clock()
    budget_end = now + GRAPH_TIME_BUDGET_SECONDS
    if deadline is not None:
        if deadline - now < MIN_SECONDS_FOR_A_GRAPH:
            return GraphOutcome(False, "out_of_time")
        budget_end = min(budget_end, deadline)
    drawable, account_id = graph_account(alarm, home_account, cross_account_ids)
    if not drawable:
        return GraphOutcome(False, "cross_account", account=alarm.account)
    widget = widget_for(alarm, tz=tz, window_seconds=window_seconds, account_id=account_id)
    if widget is None:
        return GraphOutcome(False, "no_graph")
    if not _channel_ready(api, channel, join=join_channels, deadline=budget_end):
        return GraphOutcome(False, "not_in_channel", error=f"skipped: {NOT_IN_CHANNEL_FIX}")
    image = render(widget, client)
    from slack_files import upload_file  # noqa: PLC0415 - app mode only

    upload = upload_file(
        api,
        channel=channel,
        thread_ts=thread_ts,
        filename=graph_filename(alarm),
        title=widget["title"],
        content=image,
        alt_text=_alt_text(alarm, widget),
        deadline=budget_end,
    )
    _learn_from_upload(api, channel, upload, join=join_channels)
    if upload.ok:
        return GraphOutcome(True, "posted", upload.file_id)
    if upload.step == "complete" and upload.error == "not_in_channel":
        return GraphOutcome(
            False, "not_in_channel", upload.file_id, f"not_in_channel: {NOT_IN_CHANNEL_FIX}"
        )
    return GraphOutcome(False, "upload_failed", upload.file_id, f"{upload.step}: {upload.error}")


# --- every graph of an invocation --------------------------------------------------------------


def post_graphs(
    jobs: list[tuple[Alarm, str, str | None]],
    *,
    api: Any,  # noqa: ANN401 - slack_api.SlackApi
    tz: dt.tzinfo | str = "UTC",
    window_seconds: int = DEFAULT_WINDOW_SECONDS,
    deadline: float | None = None,
    client: Any = None,  # noqa: ANN401
    render: Any = None,  # noqa: ANN401
    join_channels: bool = False,
    home_account: str | None = None,
    cross_account_ids: tuple[str, ...] | frozenset[str] = (),
    note_for: Any = None,  # noqa: ANN401 - Callable[[str], str]; cross_account_note by default
    pacer: Any = None,  # noqa: ANN401 - delivery.Pacer: a note is a message like any other
) -> list[GraphOutcome]:
    """post_graph for each (alarm, channel, thread_ts), in order, after every text was posted.

    Sequential on purpose: GetMetricWidgetImage allows 20 requests per second per account, and
    a digest's graphs are capped anyway. Each graph keeps its own budget within `deadline`. An
    alarm of an account the function may not read gets a note in its thread instead, once per
    thread and account.
    """
    outcomes = []
    noted: set[tuple[str, str | None, str | None]] = set()
    for alarm, channel, thread_ts in jobs:
        outcome = post_graph(
            alarm,
            channel,
            thread_ts,
            api=api,
            tz=tz,
            window_seconds=window_seconds,
            deadline=deadline,
            client=client,
            render=render,
            join_channels=join_channels,
            home_account=home_account,
            cross_account_ids=cross_account_ids,
        )
        outcomes.append(outcome)
        key = (channel, thread_ts, outcome.account)
        if outcome.reason == "cross_account" and outcome.account and key not in noted:
            noted.add(key)
            note = (note_for or cross_account_note)(outcome.account)
            _post_note(api, channel, thread_ts, note, deadline=deadline, pacer=pacer)
    return outcomes


def _post_note(
    api: Any,  # noqa: ANN401
    channel: str,
    thread_ts: str | None,
    text: str,
    *,
    deadline: float | None,
    pacer: Any,  # noqa: ANN401
) -> bool:
    """A short text reply in the alarm's thread; logged, never raised."""
    limit = deadline if deadline is not None else api.clock() + GRAPH_TIME_BUDGET_SECONDS
    try:
        if pacer is not None and not pacer.wait_turn(channel, limit):
            return False
        arguments: dict[str, Any] = {"channel": channel, "text": text}
        if thread_ts:
            arguments["thread_ts"] = thread_ts
        result = api.post_message(arguments, deadline=limit)
        if pacer is not None:
            pacer.sent(channel, result.delivery)
    except Exception as exc:  # a note must never disturb the delivery it follows
        _log("WARNING", message="slack graph note", outcome="error", error=type(exc).__name__)
        return False
    _log(
        "INFO" if result.ok else "WARNING",
        message="slack graph note",
        channel=channel,
        outcome="posted" if result.ok else "failed",
        error=result.error,
    )
    return bool(result.ok)


# Outcomes of SlackApp.deliver_alarm that created a new top-level message: its graph goes into
# that message's thread. A reply to a message still open ("replied") gets none: the thread
# already has the first ALARM's graph, and a flapping alarm would add one per flap.
_NEW_MESSAGE_OUTCOMES = frozenset({"posted", "posted_after_message_gone"})


class GraphCollector:
    """Wraps a slack_app.SlackApp for the handler: delivers exactly as the app does, and notes
    which posted messages get a graph, so the graphs are drawn after every text was posted."""

    def __init__(self, app: Any) -> None:  # noqa: ANN401 - slack_app.SlackApp
        self._app = app
        self.jobs: list[tuple[Alarm, str, str | None]] = []

    def __getattr__(self, name: str) -> Any:  # noqa: ANN401 - everything else is the app's
        return getattr(self._app, name)

    def deliver_alarm(self, alarm: Alarm, payload: Any, channel: str, **kwargs: Any) -> Any:  # noqa: ANN401
        posted = self._app.deliver_alarm(alarm, payload, channel, **kwargs)
        self._note(lambda: self._alarm_jobs(alarm, posted, channel))
        return posted

    def deliver_digest(self, parts: Any, channel: str, *args: Any, **kwargs: Any) -> Any:  # noqa: ANN401
        posted = self._app.deliver_digest(parts, channel, *args, **kwargs)
        self._note(lambda: self._digest_jobs(parts, posted, channel))
        return posted

    @staticmethod
    def _alarm_jobs(alarm: Alarm, posted: Any, channel: str) -> list[tuple[Alarm, str, str]]:  # noqa: ANN401
        new_message = posted.delivered and posted.ts and posted.outcome in _NEW_MESSAGE_OUTCOMES
        if not new_message or not wants_graph(alarm):
            return []
        return [(alarm, posted.channel or channel, posted.ts)]

    @staticmethod
    def _digest_jobs(parts: Any, posted: Any, channel: str) -> list[tuple[Alarm, str, str]]:  # noqa: ANN401
        """A digest's graphs go into the thread of its first message, for its first few alarms."""
        first = next((p for p in posted if p.delivered and p.ts), None)
        if first is None:
            return []
        alarms = [alarm for _, part_alarms in parts for alarm in part_alarms]
        return [(alarm, first.channel or channel, first.ts) for alarm in graphs_for_digest(alarms)]

    def _note(self, jobs: Any) -> None:  # noqa: ANN401 - Callable[[], list[...]]
        try:
            self.jobs += jobs()
        except Exception:  # noting a graph must never disturb the delivery it follows
            import logging  # noqa: PLC0415

            logging.getLogger("alarm_to_slack").exception("could not note a graph; none drawn")

    def post(self, **kwargs: Any) -> list[GraphOutcome]:  # noqa: ANN401 - post_graphs' options
        """Draw and upload the noted graphs (post_graphs); call after all texts were sent.
        Joining, readable accounts, the note's language and account names come from the app's
        settings unless given."""
        settings = getattr(self._app, "settings", None)
        if settings is not None:
            kwargs.setdefault("join_channels", settings.graph_join_channels)
            kwargs.setdefault("cross_account_ids", settings.graph_cross_account_ids)
            kwargs.setdefault("note_for", _note_in(settings))
        kwargs.setdefault("pacer", getattr(self._app, "pacer", None))
        return post_graphs(self.jobs, api=self._app.api, **kwargs)


def _note_in(settings: Any) -> Any:  # noqa: ANN401 - Settings -> Callable[[str], str]
    """The cross-account note in the settings' language, the account named as messages do."""
    from formatting import account_label, escape  # noqa: PLC0415 - app mode with graphs only

    return lambda account: cross_account_note(
        account, escape(account_label(account, settings) or account), settings.language
    )
