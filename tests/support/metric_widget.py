"""A structural check of GetMetricWidgetImage MetricWidget JSON against AWS's documented syntax."""

from __future__ import annotations

import re
from typing import Any

# From "GetMetricWidgetImage: Metric Widget Structure and Syntax" (CloudWatch API Reference):
# the overall parameters, the metrics-array formats, and the annotation properties.
TOP_LEVEL_KEYS = frozenset(
    {
        "metrics", "annotations", "end", "height", "legend", "liveData", "period", "region",
        "stacked", "start", "stat", "timezone", "title", "view", "width", "yAxis",
    }
)  # fmt: skip
VIEWS = frozenset({"timeSeries", "bar", "pie"})
LEGEND_POSITIONS = frozenset({"bottom", "right", "hidden"})
METRIC_OPTION_KEYS = frozenset(
    {"accountId", "color", "id", "label", "period", "region", "stat", "visible", "yAxis"}
)
EXPRESSION_KEYS = frozenset({"expression", "id", "label", "color", "period", "visible", "yAxis"})
HORIZONTAL_KEYS = frozenset({"value", "label", "color", "fill", "visible", "yAxis"})
VERTICAL_KEYS = frozenset({"value", "label", "color", "fill", "visible"})
MAX_METRICS = 100

_METRIC_ID = re.compile(r"^[a-z][A-Za-z0-9_]*$")
_TIMEZONE = re.compile(r"^[+-](?:[01]\d|2[0-3])[0-5]\d$")
_ABSOLUTE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,3})?)?Z$")
_RELATIVE_TIME = re.compile(r"^-P(?:\d+[WD])?(?:T(?:\d+H)?(?:\d+M)?(?:\d+S)?)?$")
_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")
_ACCOUNT = re.compile(r"^[0-9]{12}$")
_IDENTIFIER = re.compile(r"\b[a-z][A-Za-z0-9_]*\b")


def _period_ok(value: object) -> bool:
    return (
        isinstance(value, int)
        and not isinstance(value, bool)
        and (value in (1, 5, 10, 30) or (value > 0 and value % 60 == 0))
    )


def _check_options(options: dict[str, Any], allowed: frozenset[str], where: str) -> list[str]:
    problems = [f"{where}: unknown key {key!r}" for key in options if key not in allowed]
    if "id" in options and not (isinstance(options["id"], str) and _METRIC_ID.match(options["id"])):
        problems.append(f"{where}: id {options['id']!r} is not a valid metric id")
    if "period" in options and not _period_ok(options["period"]):
        problems.append(f"{where}: period {options['period']!r} is not 1/5/10/30 or n*60")
    if "visible" in options and not isinstance(options["visible"], bool):
        problems.append(f"{where}: visible must be a boolean")
    if "stat" in options and not (isinstance(options["stat"], str) and options["stat"]):
        problems.append(f"{where}: stat must be a non-empty string")
    if "color" in options and not (
        isinstance(options["color"], str) and _COLOR.match(options["color"])
    ):
        problems.append(f"{where}: color must be #rrggbb")
    if "label" in options and not isinstance(options["label"], str):
        problems.append(f"{where}: label must be a string")
    # accountId: "the ID of the account where the metric is located" (a metric's rendering
    # properties, CloudWatch-Metric-Widget-Structure); an AWS account ID is 12 digits.
    if "accountId" in options and not (
        isinstance(options["accountId"], str) and _ACCOUNT.match(options["accountId"])
    ):
        problems.append(f"{where}: accountId must be a 12-digit account ID")
    return problems


def _check_metric_line(line: object, where: str) -> list[str]:
    """[{"expression": ..., "id": ...}] or ["Namespace", "Metric", "Dim", "Value", ..., {..}]."""
    if not isinstance(line, list) or not line:
        return [f"{where}: each metric must be a non-empty array"]
    if isinstance(line[0], dict):
        if len(line) != 1:
            return [f"{where}: an expression entry is an array of one object"]
        entry = line[0]
        problems = _check_options(entry, EXPRESSION_KEYS, where)
        if not isinstance(entry.get("expression"), str) or not entry["expression"].strip():
            problems.append(f"{where}: expression entry needs an expression string")
        if "id" not in entry:
            problems.append(f"{where}: expression entry needs an id")
        return problems
    *strings, last = line
    options: dict[str, Any] = {}
    if isinstance(last, dict):
        options = last
    else:
        strings.append(last)
    problems = []
    if not all(isinstance(item, str) and item for item in strings):
        problems.append(f"{where}: namespace, metric name and dimensions must be strings")
    if len(strings) < 2:
        problems.append(f"{where}: needs at least a namespace and a metric name")
    elif len(strings) % 2:
        problems.append(f"{where}: dimensions must come as name, value pairs")
    elif len(strings) > 2 + 2 * 30:
        problems.append(f"{where}: at most 30 dimensions")
    return problems + _check_options(options, METRIC_OPTION_KEYS, where)


def _check_time(value: object, where: str) -> list[str]:
    if isinstance(value, str) and (_ABSOLUTE_TIME.match(value) or _RELATIVE_TIME.match(value)):
        return []
    return [f"{where}: {value!r} is neither an ISO 8601 time (…Z) nor a -P… duration"]


def _check_edge(edge: object, kind: str, where: str) -> list[str]:
    """One annotation line (or one edge of a band)."""
    if not isinstance(edge, dict):
        return [f"{where}: must be an object"]
    keys, fills = (
        (HORIZONTAL_KEYS, ("above", "below"))
        if kind == "horizontal"
        else (VERTICAL_KEYS, ("before", "after"))
    )
    problems = [f"{where}: unknown key {k!r}" for k in edge if k not in keys]
    value = edge.get("value")
    if kind == "horizontal":
        if not isinstance(value, int | float) or isinstance(value, bool):
            problems.append(f"{where}: value must be a number")
    elif not (isinstance(value, str) and _ABSOLUTE_TIME.match(value)):
        problems.append(f"{where}: value must be an ISO 8601 time")
    if "fill" in edge and edge["fill"] not in fills:
        problems.append(f"{where}: fill must be one of {fills}")
    if "color" in edge and not (isinstance(edge["color"], str) and _COLOR.match(edge["color"])):
        problems.append(f"{where}: color must be #rrggbb")
    return problems


def _check_annotations(annotations: object) -> list[str]:
    if not isinstance(annotations, dict):
        return ["annotations must be an object"]
    problems = [
        f"annotations: unknown key {key!r}"
        for key in annotations
        if key not in ("horizontal", "vertical")
    ]
    for kind in ("horizontal", "vertical"):
        entries = annotations.get(kind, [])
        if not isinstance(entries, list):
            problems.append(f"annotations.{kind} must be an array")
            continue
        for index, entry in enumerate(entries):
            where = f"annotations.{kind}[{index}]"
            # A band is an array of two edge objects; a line is one object.
            if isinstance(entry, list) and len(entry) != 2:
                problems.append(f"{where}: a band has exactly two edges")
            for edge in entry if isinstance(entry, list) else [entry]:
                problems += _check_edge(edge, kind, where)
    return problems


def _check_ids(metrics: list[Any]) -> list[str]:
    """Ids are unique, and every lower-case identifier an expression names is an id or a
    function-like word (expressions call FUNCTIONS in upper case, so lower-case words are ids)."""
    ids: list[str] = []
    expressions: list[str] = []
    for line in metrics:
        if isinstance(line, list) and line and isinstance(line[-1], dict):
            options = line[-1]
            if isinstance(options.get("id"), str):
                ids.append(options["id"])
            if isinstance(options.get("expression"), str):
                expressions.append(options["expression"])
    problems = [f"metrics: id {i!r} is used twice" for i in sorted(set(ids)) if ids.count(i) > 1]
    known = set(ids)
    for expression in expressions:
        for word in _IDENTIFIER.findall(expression):
            if word not in known:
                problems.append(f"metrics: expression {expression!r} names unknown id {word!r}")
    return problems


def _check_scalars(widget: dict[str, Any]) -> list[str]:
    """The overall parameters other than metrics and annotations."""
    problems = []
    for key in ("width", "height"):
        value = widget.get(key, 1)
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 2000:
            problems.append(f"{key} must be an integer 1-2000")
    if "period" in widget and not _period_ok(widget["period"]):
        problems.append("period must be 1, 5, 10, 30 or a multiple of 60")
    if not isinstance(widget.get("stat", "-"), str) or not widget.get("stat", "-"):
        problems.append("stat must be a non-empty string")
    if widget.get("view", "timeSeries") not in VIEWS:
        problems.append(f"view must be one of {sorted(VIEWS)}")
    problems += [
        f"{key} must be a boolean"
        for key in ("stacked", "liveData")
        if not isinstance(widget.get(key, False), bool)
    ]
    legend = widget.get("legend", {"position": "bottom"})
    if not isinstance(legend, dict) or legend.get("position") not in LEGEND_POSITIONS:
        problems.append("legend must be {position: bottom|right|hidden}")
    for key in ("start", "end"):
        if key in widget:
            problems += _check_time(widget[key], key)
    zone = widget.get("timezone", "+0000")
    if not (isinstance(zone, str) and _TIMEZONE.match(zone)):
        problems.append(f"timezone {zone!r} is not +HHMM / -HHMM")
    problems += [
        f"{key} must be a string"
        for key in ("title", "region")
        if not isinstance(widget.get(key, ""), str)
    ]
    return problems


def widget_problems(widget: object) -> list[str]:
    """Every way `widget` departs from the documented structure; [] when it conforms."""
    if not isinstance(widget, dict):
        return ["the widget must be a JSON object"]
    problems = [f"unknown top-level key {key!r}" for key in widget if key not in TOP_LEVEL_KEYS]
    metrics = widget.get("metrics")
    if not isinstance(metrics, list) or not metrics:
        problems.append("metrics is required: an array of 1-100 arrays")
        metrics = []
    elif len(metrics) > MAX_METRICS:
        problems.append(f"metrics has {len(metrics)} entries; at most {MAX_METRICS}")
    for index, line in enumerate(metrics):
        problems += _check_metric_line(line, f"metrics[{index}]")
    problems += _check_ids(metrics)
    problems += _check_scalars(widget)
    if "annotations" in widget:
        problems += _check_annotations(widget["annotations"])
    return problems
