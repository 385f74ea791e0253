"""graph.widget_for: documented MetricWidget JSON from every alarm shape; render_png's edge."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

import graph
from alarm import Alarm, MetricQuery, parse_event
from graph import GraphError, normalize_statistic, render_png, utc_offset, widget_for
from records import replace
from support.metric_widget import widget_problems

REPO = Path(__file__).resolve().parent.parent
EVENTS = REPO / "examples" / "events"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16


def alarm_from(name: str) -> Alarm:
    (alarm,) = parse_event(json.loads((EVENTS / name).read_text()))
    return alarm


def conforming(widget: dict[str, Any] | None) -> dict[str, Any]:
    assert widget is not None
    assert widget_problems(widget) == []
    # The API takes the widget as a JSON string: it must survive the round trip unchanged.
    assert json.loads(graph.widget_json(widget)) == widget
    return widget


# --- the documented structure, per alarm shape ------------------------------------------------


def test_single_metric_alarm_draws_its_metric_statistic_period_and_threshold() -> None:
    widget = conforming(widget_for(alarm_from("sns-alarm-cpu-high.json"), tz="UTC"))
    assert widget["metrics"] == [
        [
            "AWS/EC2",
            "CPUUtilization",
            "InstanceId",
            "i-0a1b2c3d4e5f67890",
            {"stat": "Average", "period": 60},
        ]
    ]
    # SNS says AVERAGE; the widget wants the API's spelling.
    assert widget["stat"] == "Average"
    assert widget["period"] == 60
    assert widget["region"] == "ap-northeast-2"
    assert widget["title"] == "prod-web-1-cpu"
    assert widget["annotations"]["horizontal"] == [
        {"value": 80, "label": ">= 80", "color": graph.THRESHOLD_COLOR, "fill": "above"}
    ]
    assert widget["annotations"]["vertical"] == [
        {"value": "2024-05-14T07:21:04.987Z", "label": "ALARM", "color": "#d62728"}
    ]


def test_window_shows_three_hours_before_the_state_change_and_a_margin_after() -> None:
    widget = conforming(widget_for(alarm_from("sns-alarm-cpu-high.json")))
    assert widget["start"] == "2024-05-14T04:21:04.987Z"
    # 3 h / 12 = 15 min after the change keeps the vertical line off the right edge.
    assert widget["end"] == "2024-05-14T07:36:04.987Z"


def test_window_is_configurable() -> None:
    widget = conforming(widget_for(alarm_from("sns-alarm-cpu-high.json"), window_seconds=3600))
    assert widget["start"] == "2024-05-14T06:21:04.987Z"
    assert widget["end"] == "2024-05-14T07:26:04.987Z"


def test_window_widens_to_show_ten_periods_of_a_slow_metric() -> None:
    alarm = replace(alarm_from("sns-alarm-cpu-high.json"), period="86400")
    widget = conforming(widget_for(alarm))
    assert widget["start"] == "2024-05-04T07:21:04.987Z"


def test_metric_math_alarm_draws_the_expression_and_hides_its_inputs() -> None:
    widget = conforming(widget_for(alarm_from("sns-metric-math-alarm.json")))
    expression, errors, requests = widget["metrics"]
    assert expression == [{"expression": "100 * errors / requests", "id": "e1",
                           "label": "5xx error rate (%)"}]  # fmt: skip
    assert errors == [
        "AWS/ApplicationELB",
        "HTTPCode_Target_5XX_Count",
        "LoadBalancer",
        "app/prod-web/50dc6c495c0c9188",
        {"id": "errors", "stat": "Sum", "period": 300, "visible": False},
    ]
    assert requests[1] == "RequestCount"
    assert requests[-1]["visible"] is False
    assert widget["period"] == 300
    assert "stat" not in widget  # each metric carries its own
    assert widget["annotations"]["horizontal"] == [
        {"value": 5, "label": "> 5", "color": graph.THRESHOLD_COLOR, "fill": "above"}
    ]


def test_anomaly_detection_alarm_draws_the_band_and_no_threshold_line() -> None:
    widget = conforming(widget_for(alarm_from("sns-anomaly-detection-alarm.json")))
    metric, band = widget["metrics"]
    assert metric[:4] == ["AWS/EC2", "NetworkIn", "AutoScalingGroupName", "prod-web"]
    assert metric[-1]["id"] == "m1"
    assert band == [{"expression": "ANOMALY_DETECTION_BAND(m1, 2)", "id": "ad1",
                     "label": "NetworkIn (expected)"}]  # fmt: skip
    assert "horizontal" not in widget["annotations"]
    assert widget["annotations"]["vertical"][0]["value"] == "2024-05-14T07:21:30.118Z"


@pytest.mark.parametrize(
    "name",
    ["eventbridge-alarm.json", "sns-eventbridge-alarm.json", "direct-alarm-cpu-high.json"],
)
def test_eventbridge_and_direct_shapes_draw_the_same_metric_as_sns(name: str) -> None:
    sns = conforming(widget_for(alarm_from("sns-alarm-cpu-high.json")))
    other = conforming(widget_for(alarm_from(name)))
    assert other["metrics"] == sns["metrics"]
    for key in ("stat", "period", "region", "start", "end", "timezone", "title"):
        assert other[key] == sns[key], key
    # These shapes carry the threshold (from reasonData) but no comparison operator.
    assert other["annotations"]["horizontal"] == [
        {"value": 80, "label": "threshold 80", "color": graph.THRESHOLD_COLOR}
    ]


# The sample events with nothing to draw: composite alarms (no metric of their own), text and
# unknown records, and an alarm whose metric fields are all null. Every other one has a graph.
NO_GRAPH = {
    "direct-composite-alarm.json",
    "sns-composite-alarm.json",
    "sns-non-alarm-json.json",
    "sns-nulls-and-wrong-types.json",
    "sns-plain-text.json",
}


@pytest.mark.parametrize("name", sorted(p.name for p in EVENTS.glob("*.json")))
def test_every_sample_event_gives_a_conforming_widget_or_has_nothing_to_draw(name: str) -> None:
    for alarm in parse_event(json.loads((EVENTS / name).read_text())):
        widget = widget_for(alarm, tz="Asia/Seoul")
        if name in NO_GRAPH:
            assert widget is None
        else:
            conforming(widget)


@pytest.mark.parametrize("name", ["sns-composite-alarm.json", "direct-composite-alarm.json"])
def test_composite_alarm_has_no_graph(name: str) -> None:
    assert widget_for(alarm_from(name)) is None


def test_plain_text_and_unknown_records_have_no_graph() -> None:
    assert widget_for(alarm_from("sns-plain-text.json")) is None
    assert widget_for(Alarm(kind="unknown", source="event", text="{}")) is None


# --- time zone ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("zone", "expected"),
    [
        ("UTC", "+0000"),
        ("Asia/Seoul", "+0900"),
        ("Asia/Kolkata", "+0530"),
        # 14 May is summer time in New York (EDT, UTC-4), not EST (UTC-5).
        ("America/New_York", "-0400"),
        ("America/St_Johns", "-0230"),
    ],
)
def test_timezone_is_the_offset_of_the_message_zone_at_the_state_change(
    zone: str, expected: str
) -> None:
    widget = conforming(widget_for(alarm_from("sns-alarm-cpu-high.json"), tz=zone))
    assert widget["timezone"] == expected


def test_utc_offset_follows_daylight_saving_time() -> None:
    import zoneinfo  # noqa: PLC0415

    berlin = zoneinfo.ZoneInfo("Europe/Berlin")
    assert utc_offset(berlin, dt.datetime(2024, 1, 15, tzinfo=dt.UTC)) == "+0100"
    assert utc_offset(berlin, dt.datetime(2024, 7, 15, tzinfo=dt.UTC)) == "+0200"


def test_unknown_zone_name_falls_back_to_utc_rather_than_failing() -> None:
    widget = conforming(widget_for(alarm_from("sns-alarm-cpu-high.json"), tz="Mars/Olympus"))
    assert widget["timezone"] == "+0000"


def test_alarm_without_a_time_shows_the_last_window_and_no_vertical_line() -> None:
    alarm = replace(alarm_from("sns-alarm-cpu-high.json"), timestamp="yesterday")
    now = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    widget = conforming(widget_for(alarm, tz="Asia/Seoul", now=now))
    assert widget["start"] == "-PT3H"
    assert "end" not in widget
    assert "vertical" not in widget["annotations"]
    assert widget["timezone"] == "+0900"


# --- statistics, comparisons, odd input -----------------------------------------------------


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("AVERAGE", "Average"),
        ("SUM", "Sum"),
        ("MINIMUM", "Minimum"),
        ("MAXIMUM", "Maximum"),
        ("SAMPLE_COUNT", "SampleCount"),
        ("SampleCount", "SampleCount"),
        ("p99", "p99"),
        ("p99.9", "p99.9"),
        ("TM(10%:90%)", "TM(10%:90%)"),
        ("IQM", "IQM"),
        ("", None),
        (None, None),
    ],
)
def test_statistics_take_the_api_spelling(given: str | None, expected: str | None) -> None:
    assert normalize_statistic(given) == expected


def test_extended_statistic_is_drawn_as_given() -> None:
    alarm = replace(alarm_from("sns-alarm-cpu-high.json"), statistic="p99")
    widget = conforming(widget_for(alarm))
    assert widget["stat"] == "p99"
    assert widget["metrics"][0][-1]["stat"] == "p99"


@pytest.mark.parametrize(
    ("operator", "label", "fill"),
    [
        ("LessThanThreshold", "< 10", "below"),
        ("LessThanOrEqualToThreshold", "<= 10", "below"),
        ("GreaterThanThreshold", "> 10", "above"),
    ],
)
def test_threshold_is_shaded_on_the_breaching_side(operator: str, label: str, fill: str) -> None:
    alarm = replace(alarm_from("sns-alarm-cpu-high.json"), comparison=operator, threshold="10")
    (line,) = conforming(widget_for(alarm))["annotations"]["horizontal"]
    assert (line["label"], line["fill"], line["value"]) == (label, fill, 10)


def test_fractional_threshold_keeps_its_value() -> None:
    alarm = replace(alarm_from("sns-alarm-cpu-high.json"), threshold="0.25")
    (line,) = conforming(widget_for(alarm))["annotations"]["horizontal"]
    assert line["value"] == 0.25


def test_missing_threshold_means_no_horizontal_line() -> None:
    alarm = replace(alarm_from("sns-alarm-cpu-high.json"), threshold=None)
    assert "horizontal" not in conforming(widget_for(alarm))["annotations"]


def test_metric_without_a_namespace_has_no_graph() -> None:
    alarm = replace(alarm_from("sns-alarm-cpu-high.json"), namespace=None)
    assert widget_for(alarm) is None


def test_metric_math_with_an_undrawable_entry_has_no_graph_rather_than_a_wrong_one() -> None:
    alarm = alarm_from("sns-metric-math-alarm.json")
    broken = (replace(alarm.metrics[0], id="E-1"), *alarm.metrics[1:])
    assert widget_for(replace(alarm, metrics=broken)) is None


def test_a_metric_id_the_api_would_refuse_is_left_out() -> None:
    alarm = replace(
        alarm_from("sns-metric-math-alarm.json"),
        metric_name=None,
        metrics=(
            MetricQuery(
                id="b8a3f2c1-5d4e",
                namespace="AWS/EC2",
                metric_name="CPUUtilization",
                statistic="Average",
                period="60",
                return_data=True,
            ),
        ),
    )
    widget = conforming(widget_for(alarm))
    assert "id" not in widget["metrics"][0][-1]


def test_more_metrics_than_the_api_draws_means_no_graph() -> None:
    query = MetricQuery(namespace="N", metric_name="M", statistic="Sum", period="60")
    alarm = replace(
        alarm_from("sns-metric-math-alarm.json"), metrics=(query,) * (graph.MAX_METRICS + 1)
    )
    assert widget_for(alarm) is None


def test_long_alarm_name_is_shortened_in_the_title() -> None:
    alarm = replace(alarm_from("sns-alarm-cpu-high.json"), name="x" * 300)
    title = conforming(widget_for(alarm))["title"]
    assert len(title) == graph.TITLE_LIMIT
    assert title.endswith("…")


def test_size_is_configurable_and_kept_within_the_documented_range() -> None:
    alarm = alarm_from("sns-alarm-cpu-high.json")
    widget = conforming(widget_for(alarm, width=5000, height=0))
    assert (widget["width"], widget["height"]) == (2000, 1)


# --- the validator itself can fail ------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"timezone": "+09:00"}, "timezone"),
        ({"timezone": "Asia/Seoul"}, "timezone"),
        ({"stat": ""}, "stat"),
        ({"period": 90}, "period"),
        ({"metrics": [["AWS/EC2", "CPUUtilization", "InstanceId"]]}, "pairs"),
        ({"metrics": [[{"id": "e1"}]]}, "expression"),
        ({"metrics": [[{"expression": "a + 1", "id": "e1"}]]}, "unknown id"),
        ({"annotations": {"horizontal": [{"value": "80"}]}}, "number"),
        ({"annotations": {"vertical": [{"value": "07:21"}]}}, "ISO 8601"),
        ({"annotations": {"horizontal": [{"value": 1, "fill": "left"}]}}, "fill"),
        ({"start": "3 hours ago"}, "start"),
        ({"colour": "red"}, "unknown top-level key"),
    ],
)
def test_validator_rejects_what_the_documentation_does_not_allow(
    change: dict[str, Any], problem: str
) -> None:
    widget = widget_for(alarm_from("sns-alarm-cpu-high.json"))
    assert widget is not None
    problems = widget_problems({**widget, **change})
    assert any(problem in p for p in problems), problems


# --- render_png: the I/O edge -----------------------------------------------------------------


class FakeCloudWatch:
    """Records get_metric_widget_image calls; answers with `image` or raises `error`."""

    def __init__(self, image: object = PNG, error: Exception | None = None) -> None:
        self.image = image
        self.error = error
        self.calls: list[dict[str, Any]] = []

    def get_metric_widget_image(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(kwargs)
        if self.error is not None:
            raise self.error
        return {"MetricWidgetImage": self.image}


def client_error(code: str, message: str = "boom") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}}, "GetMetricWidgetImage")


def test_render_png_sends_the_widget_as_json_and_returns_the_png() -> None:
    widget = conforming(widget_for(alarm_from("sns-alarm-cpu-high.json")))
    client = FakeCloudWatch()
    assert render_png(widget, client) == PNG
    (call,) = client.calls
    assert call["OutputFormat"] == "png"
    assert json.loads(call["MetricWidget"]) == widget


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (client_error("Throttling", "Rate exceeded"), "throttled"),
        (client_error("AccessDenied"), "permission_denied"),
        (client_error("InvalidParameterInput"), "invalid_widget"),
        (EndpointConnectionError(endpoint_url="https://monitoring.invalid"), "unavailable"),
        (client_error("InternalFailure"), "error"),
        (RuntimeError("anything else"), "error"),
    ],
)
def test_render_png_turns_every_failure_into_a_typed_graph_error(
    error: Exception, reason: str
) -> None:
    with pytest.raises(GraphError) as raised:
        render_png({"metrics": [["N", "M"]]}, FakeCloudWatch(error=error))
    assert raised.value.reason == reason


def test_permission_error_names_the_missing_action() -> None:
    with pytest.raises(GraphError, match="cloudwatch:GetMetricWidgetImage"):
        render_png({"metrics": [["N", "M"]]}, FakeCloudWatch(error=client_error("AccessDenied")))


@pytest.mark.parametrize("image", [b"GIF89a....", "iVBORw0KGgo=", None])
def test_render_png_refuses_an_answer_that_is_not_a_png(image: object) -> None:
    with pytest.raises(GraphError) as raised:
        render_png({"metrics": [["N", "M"]]}, FakeCloudWatch(image=image))
    assert raised.value.reason == "bad_image"


def test_importing_graph_does_not_import_boto3() -> None:
    code = "import sys, graph; sys.exit(1 if 'boto3' in sys.modules else 0)"
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO / "lambda",
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_the_default_client_never_retries_and_times_out_before_the_graph_budget(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "ap-northeast-2")
    monkeypatch.setattr(graph, "_client", None)
    client = graph._default_client()
    assert graph._default_client() is client  # one per container
    config = client.meta.config
    assert config.retries["total_max_attempts"] == 1
    worst = config.connect_timeout + config.read_timeout
    assert worst < graph.MIN_SECONDS_FOR_A_GRAPH <= graph.GRAPH_TIME_BUDGET_SECONDS


# --- the metrics' account -------------------------------------------------------------------


def test_a_metric_of_another_account_names_its_account() -> None:
    alarm = alarm_from("eventbridge-cross-account-alarm.json")
    widget = conforming(widget_for(alarm, account_id="444455556666"))
    ((*_, options),) = widget["metrics"]
    assert options["accountId"] == "444455556666"
    assert "accountId" not in widget  # a metric's rendering property, not the widget's


def test_a_metric_math_graph_of_another_account_names_it_on_every_metric_not_on_expressions() -> (
    None
):
    widget = conforming(
        widget_for(alarm_from("sns-metric-math-alarm.json"), account_id="444455556666")
    )
    expression, errors, requests = widget["metrics"]
    assert "accountId" not in expression[0]
    assert errors[-1]["accountId"] == requests[-1]["accountId"] == "444455556666"


def test_the_callers_own_metrics_carry_no_account() -> None:
    widget = conforming(widget_for(alarm_from("sns-alarm-cpu-high.json")))
    assert "accountId" not in json.dumps(widget)


def test_the_widget_checker_refuses_a_malformed_account() -> None:
    widget = widget_for(alarm_from("sns-alarm-cpu-high.json"), account_id="1234")
    assert widget_problems(widget) == ["metrics[0]: accountId must be a 12-digit account ID"]


@pytest.mark.parametrize(
    ("account", "home", "readable", "expected"),
    [
        ("123456789012", "123456789012", (), (True, None)),  # the function's own account
        (None, "123456789012", (), (True, None)),  # no account in the event
        ("444455556666", "123456789012", ("444455556666",), (True, "444455556666")),
        ("444455556666", "123456789012", (), (False, None)),  # not readable: a note instead
        ("444455556666", None, (), (True, None)),  # own account unknown: drawn as before
        ("444455556666", None, ("444455556666",), (True, "444455556666")),
    ],
)
def test_graph_account_draws_only_what_the_function_can_read(
    account: str | None,
    home: str | None,
    readable: tuple[str, ...],
    expected: tuple[bool, str | None],
) -> None:
    alarm = replace(alarm_from("sns-alarm-cpu-high.json"), account=account)
    assert graph.graph_account(alarm, home, readable) == expected


class _Context:
    def __init__(self, arn: object) -> None:
        self.invoked_function_arn = arn


@pytest.mark.parametrize(
    ("context", "account"),
    [
        (_Context("arn:aws:lambda:ap-northeast-2:123456789012:function:alerts"), "123456789012"),
        (
            _Context("arn:aws:lambda:ap-northeast-2:123456789012:function:alerts:live"),
            "123456789012",
        ),
        (_Context("arn:aws:lambda:ap-northeast-2::function:alerts"), None),
        (_Context(None), None),
        (object(), None),
        (None, None),
    ],
)
def test_the_functions_account_comes_from_its_invoked_arn(context: object, account: str) -> None:
    assert graph.function_account(context) == account


@pytest.mark.parametrize(
    ("language", "words"), [("en", "Graph not available"), ("ko", "그래프 없음")]
)
def test_the_cross_account_note_says_what_to_do(language: str, words: str) -> None:
    note = graph.cross_account_note("444455556666", "payments (444455556666)", language)
    assert words in note
    assert "payments (444455556666)" in note
    assert "slack_graph_cross_account_ids" in note
    assert "444455556666" in note.replace("payments (444455556666)", "")
