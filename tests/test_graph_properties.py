"""Property: whatever an alarm holds, widget_for never raises, and a widget it builds keeps the
documented structure (only an expression's own content is left for CloudWatch to judge)."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from test_properties import direct_events, eventbridge_events, sns_alarms, sns_events, triggers

from alarm import Alarm, MetricQuery, parse_event
from graph import widget_for
from support.metric_widget import widget_problems

# An expression is passed on as the alarm has it: whether it names known ids is CloudWatch's
# call (the alarm was accepted with it); random text can name anything.
EXPRESSION_CONTENT = ("names unknown id", "is used twice")
PROPERTY_SETTINGS = hypothesis_settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)

texts = st.one_of(st.none(), st.text(max_size=30), st.sampled_from(["", " ", "x" * 300]))
numbers_as_text = st.one_of(
    texts,
    st.integers(-100, 10**6).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.sampled_from(["60", "300", "86400", "10", "1", "7", "90", "0.25", "1e400"]),
)
names = st.one_of(st.sampled_from(["AWS/EC2", "CPUUtilization", "m1", "e1"]), texts)
dimensions = st.lists(st.tuples(st.text(max_size=10), st.text(max_size=10)), max_size=4).map(tuple)
ids = st.one_of(
    st.none(), st.sampled_from(["m1", "e1", "ad1", "E-1", "1x", ""]), st.text(max_size=8)
)
queries = st.builds(
    MetricQuery,
    id=ids,
    expression=st.one_of(st.none(), st.sampled_from(["m1 * 2", "ANOMALY_DETECTION_BAND(m1, 2)"])),
    label=texts,
    namespace=names,
    metric_name=names,
    statistic=st.one_of(texts, st.sampled_from(["AVERAGE", "p99", "SAMPLE_COUNT"])),
    period=numbers_as_text,
    dimensions=dimensions,
    return_data=st.one_of(st.none(), st.booleans()),
)
alarms = st.builds(
    Alarm,
    kind=st.sampled_from(["alarm", "alarm", "text", "unknown"]),
    source=st.sampled_from(["sns", "lambda", "eventbridge"]),
    name=texts,
    state=st.one_of(st.sampled_from(["ALARM", "OK", "INSUFFICIENT_DATA"]), texts),
    timestamp=st.one_of(
        texts, st.sampled_from(["2024-05-14T07:21:04.987+0000", "0001-01-01T00:00:00Z"])
    ),
    region=st.one_of(st.none(), st.sampled_from(["ap-northeast-2", "us-east-1"])),
    alarm_type=st.one_of(
        st.none(), st.sampled_from(["metric", "metric-math", "anomaly-detection", "composite"])
    ),
    namespace=names,
    metric_name=names,
    statistic=st.one_of(texts, st.sampled_from(["AVERAGE", "p99", "tm(10%:90%)"])),
    dimensions=dimensions,
    comparison=st.one_of(texts, st.sampled_from(["GreaterThanThreshold", "LessThanThreshold"])),
    threshold=numbers_as_text,
    period=numbers_as_text,
    threshold_metric_id=st.one_of(st.none(), st.just("ad1")),
    metrics=st.lists(queries, max_size=4).map(tuple),
    alarm_rule=st.one_of(st.none(), st.just('ALARM("x")')),
)


def must_draw(alarm: Alarm) -> bool:
    """A metric alarm that names its metric (namespace, name, no blank dimension) always has a
    graph: widget_for's documented rule (graph.py, widget_for and _metric_line)."""
    return (
        alarm.kind == "alarm"
        and not alarm.alarm_rule
        and alarm.alarm_type != "composite"
        and bool(alarm.namespace and alarm.metric_name)
        and all(name and value for name, value in alarm.dimensions)
    )


def assert_conforming_or_none(alarm: Alarm, widget: dict | None) -> bool:
    if widget is None:
        assert not must_draw(alarm), alarm
        return False
    json.dumps(widget)
    problems = [p for p in widget_problems(widget) if not any(c in p for c in EXPRESSION_CONTENT)]
    assert problems == [], widget
    return True


@PROPERTY_SETTINGS
@given(
    alarm=alarms,
    zone=st.sampled_from(["UTC", "Asia/Seoul", "America/St_Johns", "Not/AZone"]),
    window=st.integers(-10, 10**7),
)
def test_any_alarm_gives_no_widget_or_a_conforming_one(
    alarm: Alarm, zone: str, window: int
) -> None:
    assert_conforming_or_none(alarm, widget_for(alarm, tz=zone, window_seconds=window))


# SNS alarm notifications whose Trigger names a metric, anything else random: most of these
# must be drawn, so a widget_for that gave up on them would fail here.
named_metric_events = st.builds(
    lambda alarm, trigger: {
        "Records": [
            {
                "EventSource": "aws:sns",
                "Sns": {
                    "Message": json.dumps(
                        {
                            **alarm,
                            "AlarmName": "prod-web-1-cpu",
                            "NewStateValue": "ALARM",
                            "Trigger": {
                                **trigger,
                                "Namespace": "AWS/EC2",
                                "MetricName": "CPUUtilization",
                            },
                        }
                    )
                },
            }
        ]
    },
    sns_alarms,
    triggers,
)


@hypothesis_settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(event=st.one_of(sns_events, direct_events, eventbridge_events, named_metric_events))
def test_any_event_gives_no_widget_or_a_conforming_one(event: dict) -> None:
    for alarm in parse_event(event):
        assert_conforming_or_none(alarm, widget_for(alarm))
