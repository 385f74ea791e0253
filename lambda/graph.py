"""The alarm's metric as a picture in its Slack thread (Slack app mode only).

Pure: `widget_for` builds the GetMetricWidgetImage MetricWidget JSON from an Alarm. I/O at the
edges: `render_png` calls AWS (it imports boto3 itself, so nothing here costs the webhook path's
cold start; the handler imports this module only in app mode with graphs on), and `post_graph`
/ `post_graphs` upload the PNG through slack_files. `GraphCollector` is the handler's hook: it
notes which posted messages get a graph, drawn after every text was sent.
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


def _query_line(query: MetricQuery, *, anomaly: bool) -> list[Any] | None:
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
    }
    if hidden:
        options["visible"] = False
    return _metric_line(query.namespace, query.metric_name, query.dimensions, options)


def _metrics(alarm: Alarm) -> tuple[list[list[Any]], int | None] | None:
    """The widget's metrics lines and the period to draw; None when there is nothing to draw."""
    period = _period(alarm.period)
    if alarm.metric_name:
        line = _metric_line(
            alarm.namespace,
            alarm.metric_name,
            alarm.dimensions,
            {"stat": normalize_statistic(alarm.statistic), "period": period},
        )
        return ([line], period) if line is not None else None
    if not alarm.metrics or len(alarm.metrics) > MAX_METRICS:
        return None
    anomaly = alarm.alarm_type == "anomaly-detection"
    lines = []
    for query in alarm.metrics:
        line = _query_line(query, anomaly=anomaly)
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
) -> dict[str, Any] | None:
    """The GetMetricWidgetImage MetricWidget for an alarm, or None when there is no graph.

    Single-metric, metric-math and anomaly-detection alarms get their own metric(s) with the
    alarm's statistic and period, the threshold as a horizontal line (an anomaly alarm shows
    its band instead), a vertical line at the state change and the `window_seconds` before it.
    Composite alarms, plain-text and unknown records get None: a composite has no metric of
    its own, and its children's definitions are not in the event.
    """
    if alarm.kind != "alarm" or alarm.alarm_rule or alarm.alarm_type == "composite":
        return None
    drawn = _metrics(alarm)
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
    error), or upload_failed (error then names the Slack step and error code).
    """

    posted: bool
    reason: str
    file_id: str | None = None
    error: str | None = None


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


def _log_outcome(alarm: Alarm, outcome: GraphOutcome, seconds: float) -> GraphOutcome:
    import logging  # noqa: PLC0415 - loaded by the handler already

    quiet = outcome.posted or outcome.reason in ("no_graph", "state")
    level = logging.INFO if quiet else logging.WARNING
    fields = {
        "message": "slack graph",
        "alarm_name": alarm.name,
        "state": alarm.state,
        "outcome": outcome.reason,
        "file_id": outcome.file_id,
        "error": outcome.error,
        "seconds": round(seconds, 3),
    }
    logging.getLogger("alarm_to_slack").log(level, json.dumps(fields, ensure_ascii=False))
    return outcome


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
) -> GraphOutcome:
    """Draw the alarm's graph and share it in the thread of its Slack message; never raises.

    Call it after the alarm's message was posted (channel + ts known), never before: the text
    comes first. Every failure (throttling, permissions, upload) is logged and returned, so the
    record's delivery stands and the other alarms are not held up. One graph takes at most
    GRAPH_TIME_BUDGET_SECONDS and none starts with less than MIN_SECONDS_FOR_A_GRAPH left.
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
        )
    except GraphError as exc:
        outcome = GraphOutcome(False, exc.reason, error=str(exc))
    except Exception as exc:  # a graph bug must never cost the alert its delivery
        outcome = GraphOutcome(False, "error", error=f"{type(exc).__name__}: {exc}"[:300])
    return _log_outcome(alarm, outcome, api.clock() - started)


def _post_graph(
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
) -> GraphOutcome:
    if alarm.kind != "alarm" or alarm.state not in GRAPH_STATES:
        return GraphOutcome(False, "state")
    now = api.clock()
    budget_end = now + GRAPH_TIME_BUDGET_SECONDS
    if deadline is not None:
        if deadline - now < MIN_SECONDS_FOR_A_GRAPH:
            return GraphOutcome(False, "out_of_time")
        budget_end = min(budget_end, deadline)
    widget = widget_for(alarm, tz=tz, window_seconds=window_seconds)
    if widget is None:
        return GraphOutcome(False, "no_graph")
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
    if not upload.ok:
        return GraphOutcome(
            False, "upload_failed", upload.file_id, f"{upload.step}: {upload.error}"
        )
    return GraphOutcome(True, "posted", upload.file_id)


def post_graphs(
    jobs: list[tuple[Alarm, str, str | None]],
    *,
    api: Any,  # noqa: ANN401 - slack_api.SlackApi
    tz: dt.tzinfo | str = "UTC",
    window_seconds: int = DEFAULT_WINDOW_SECONDS,
    deadline: float | None = None,
    client: Any = None,  # noqa: ANN401
    render: Any = None,  # noqa: ANN401
) -> list[GraphOutcome]:
    """post_graph for each (alarm, channel, thread_ts), in order, after every text was posted.

    Sequential on purpose: GetMetricWidgetImage allows 20 requests per second per account, and
    a digest's graphs are capped anyway. Each graph keeps its own budget within `deadline`.
    """
    return [
        post_graph(
            alarm,
            channel,
            thread_ts,
            api=api,
            tz=tz,
            window_seconds=window_seconds,
            deadline=deadline,
            client=client,
            render=render,
        )
        for alarm, channel, thread_ts in jobs
    ]


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
        """Draw and upload the noted graphs (post_graphs); call after all texts were sent."""
        return post_graphs(self.jobs, api=self._app.api, **kwargs)
