"""MotoServer's gap filler answers GetMetricWidgetImage (absent from moto 5.2) through boto3."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from alarm import parse_event
from graph import GraphError, render_png, widget_for
from support.moto_server import MotoServer, png_size, tiny_png
from support.terraform import REPO_ROOT


def test_tiny_png_is_a_valid_png_of_the_asked_size() -> None:
    data = tiny_png(800, 400)
    assert png_size(data) == (800, 400)
    assert len(data) < 2000  # blank rows compress to almost nothing


@pytest.fixture(scope="module")
def cloudwatch() -> Iterator[Any]:
    with MotoServer() as moto:
        yield moto.client("cloudwatch")


def test_get_metric_widget_image_answers_a_png_of_the_widget_size(cloudwatch: Any) -> None:
    widget = {"metrics": [["AWS/EC2", "CPUUtilization"]], "width": 320, "height": 200}
    response = cloudwatch.get_metric_widget_image(MetricWidget=json.dumps(widget))
    assert png_size(response["MetricWidgetImage"]) == (320, 200)


def test_a_widget_without_metrics_is_refused_like_cloudwatch_does(cloudwatch: Any) -> None:
    with pytest.raises(ClientError) as raised:
        cloudwatch.get_metric_widget_image(MetricWidget=json.dumps({"width": 100}))
    assert raised.value.response["Error"]["Code"] == "InvalidParameterInput"


def test_render_png_draws_an_alarm_widget_through_boto3(cloudwatch: Any) -> None:
    event = json.loads((REPO_ROOT / "examples/events/sns-metric-math-alarm.json").read_text())
    (alarm,) = parse_event(event)
    widget = widget_for(alarm)
    assert widget is not None
    assert png_size(render_png(widget, cloudwatch)) == (widget["width"], widget["height"])


def test_render_png_reports_a_refused_widget_as_a_graph_error(cloudwatch: Any) -> None:
    with pytest.raises(GraphError) as raised:
        render_png({"metrics": []}, cloudwatch)
    assert raised.value.reason == "invalid_widget"
