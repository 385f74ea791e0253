"""Lone surrogates and other odd code points never stop a message: parse, format, encode."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from alarm import Alarm, parse_event
from formatting import truncate
from message import format_fallback, format_message
from settings import load_settings
from slack import encode_payload, post_to_slack
from support.fake_slack import FakeSlack
from text import REPLACEMENT, safe_text

SETTINGS = load_settings({"SLACK_WEBHOOK_URL": "https://hooks.slack.com/services/T/B/text"})

# st.text() leaves out surrogates (category Cs): ask for them, and for the other odd ones
# (controls, format characters, private use, unassigned, separators, combining marks).
odd_characters = st.characters(
    codec=None, categories=["Cs", "Cc", "Cf", "Co", "Cn", "Zs", "Zl", "Zp", "Mn", "So", "Lo"]
)
odd_text = st.one_of(
    st.text(odd_characters, max_size=30),
    st.text(st.one_of(odd_characters, st.characters()), max_size=30),
    st.builds(
        lambda c, n: c * n, st.sampled_from(["\ud800", "\udfff", "a\udc80"]), st.integers(1, 3000)
    ),
)
odd_values = st.recursive(
    st.one_of(st.none(), st.integers(), odd_text),
    lambda children: st.one_of(
        st.lists(children, max_size=3), st.dictionaries(odd_text, children, max_size=3)
    ),
    max_leaves=8,
)
sns_alarm_messages = st.fixed_dictionaries(
    {"AlarmName": odd_text, "NewStateValue": st.sampled_from(["ALARM", "OK", "\ud800"])},
    optional={
        "AlarmDescription": odd_text,
        "NewStateReason": odd_text,
        "OldStateValue": odd_text,
        "StateChangeTime": odd_text,
        "Region": odd_text,
        "AlarmArn": odd_text.map(lambda n: f"arn:aws:cloudwatch:us-east-1:123456789012:alarm:{n}"),
        "Trigger": st.fixed_dictionaries(
            {},
            optional={
                "MetricName": odd_text,
                "Namespace": odd_text,
                "Dimensions": st.lists(
                    st.fixed_dictionaries({"name": odd_text, "value": odd_text}), max_size=3
                ),
                "Threshold": odd_values,
            },
        ),
        "Extra": odd_values,
    },
)
# What SNS hands over: either JSON text whose \\uXXXX escapes decode to lone surrogates (the
# reported crash), or the raw decoded string, or plain text with odd characters.
messages = st.one_of(
    sns_alarm_messages.map(json.dumps),
    sns_alarm_messages.map(lambda m: json.dumps(m, ensure_ascii=False)),
    odd_values.map(json.dumps),
    odd_text,
)
events = st.builds(
    lambda bodies, subject: {
        "Records": [
            {"EventSource": "aws:sns", "Sns": {"Message": m, "Subject": subject}} for m in bodies
        ]
    },
    st.lists(messages, min_size=1, max_size=3),
    st.one_of(st.none(), odd_text),
)


def has_surrogate(text: str) -> bool:
    return any(0xD800 <= ord(c) <= 0xDFFF for c in text)


def test_safe_text_replaces_lone_surrogates_only() -> None:
    assert safe_text("plain 한국어 \U0001f525") == "plain 한국어 \U0001f525"
    assert safe_text("a\ud800b\udfffc") == f"a{REPLACEMENT}b{REPLACEMENT}c"
    # A pair written as two surrogates is the character it encodes.
    assert safe_text("\ud83d\udd25") == "\U0001f525"
    assert safe_text("\udc00\ud800") == REPLACEMENT * 2


def test_an_escaped_lone_surrogate_in_an_sns_message_is_delivered(fake_slack: FakeSlack) -> None:
    message = (
        '{"AlarmName": "cpu \\ud800 high", "NewStateValue": "ALARM", "NewStateReason": "x\\udc00"}'
    )
    (alarm,) = parse_event({"Records": [{"Sns": {"Message": message}}]})
    assert alarm.name == f"cpu {REPLACEMENT} high"
    delivery = post_to_slack(fake_slack.url, format_message(alarm, SETTINGS))
    assert delivery.delivered
    (payload,) = fake_slack.requests
    assert f"cpu {REPLACEMENT} high" in payload["text"]


def test_the_fallback_and_the_encoder_never_raise_on_lone_surrogates() -> None:
    # An Alarm built by hand (not by the parser) may still hold one: the last resorts cope.
    alarm = Alarm(kind="alarm", source="sns", name="x\ud800" * 2000, state="ALARM\udfff")
    payload = format_fallback(alarm, SETTINGS)
    assert not has_surrogate(payload["text"])
    body = encode_payload({"text": "\ud800", "blocks": [{"text": "a\udc80"}]})
    assert json.loads(body) == {"text": REPLACEMENT, "blocks": [{"text": f"a{REPLACEMENT}"}]}
    assert truncate("\ud800" * 5000, 10).endswith("…")


@hypothesis_settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(event=events)
def test_odd_code_points_survive_parse_format_and_json_encoding(event: dict) -> None:
    alarms = parse_event(event)
    assert len(alarms) == len(event["Records"])
    for alarm in alarms:
        for value in vars(alarm).values():
            assert not (isinstance(value, str) and has_surrogate(value))
        payload = format_message(alarm, SETTINGS)
        body = encode_payload(payload)
        body.decode("utf-8")
        json.dumps(payload, ensure_ascii=False).encode("utf-8")
        encode_payload(format_fallback(alarm, SETTINGS)).decode("utf-8")


@hypothesis_settings(max_examples=200, deadline=None)
@given(value=odd_values)
def test_any_payload_encodes_to_valid_utf8_json(value: object) -> None:
    body = encode_payload({"text": value})
    assert isinstance(json.loads(body.decode("utf-8")), dict)
