"""Formatting: the Slack payload shows what the team needs at 3 a.m., within Slack's limits."""

from __future__ import annotations

import json

import pytest

from alarm import Alarm, parse_event, parse_timestamp
from formatting import (
    ELLIPSIS,
    account_label,
    console_url,
    escape,
    format_timestamp,
    truncate,
)
from message import format_fallback, format_message
from records import replace
from settings import Settings, load_settings
from support import load_event

URL = "https://hooks.slack.com/services/T/B/secret"


def settings(**env: str) -> Settings:
    return load_settings({"SLACK_WEBHOOK_URL": URL, **env})


def payload_for(name: str, **env: str) -> dict:
    (alarm,) = parse_event(load_event(name))
    return format_message(alarm, settings(**env))


def blocks(payload: dict) -> list[dict]:
    (attachment,) = payload["attachments"]
    return attachment["blocks"]


def fields(payload: dict) -> dict[str, str]:
    """Every field as {label: value}, from "*label*\\nvalue"."""
    result = {}
    for block in blocks(payload):
        for field in block.get("fields", []):
            label, _, value = field["text"].partition("\n")
            result[label.strip("*")] = value
    return result


def section_texts(payload: dict) -> dict[str, str]:
    result = {}
    for block in blocks(payload):
        if block["type"] == "section" and "text" in block:
            label, _, value = block["text"]["text"].partition("\n")
            result[label.strip("*")] = value
    return result


def header(payload: dict) -> str:
    return blocks(payload)[0]["text"]["text"]


def button_url(payload: dict) -> str | None:
    for block in blocks(payload):
        if block["type"] == "actions":
            return block["elements"][0]["url"]
    return None


# --- timestamps -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "2017-01-12T16:30:42.236+0000",
        "2017-01-12T16:30:42.236Z",
        "2017-01-12T16:30:42.236+00:00",
        "2017-01-12T16:30:42Z",
        "2017-01-12T16:30:42",
        "2017-01-12 16:30:42.236123456+0000",
        "2017-01-13T01:30:42.236+0900",
        "2017-01-12T11:30:42.236-05:00",
    ],
)
def test_cloudwatch_timestamp_forms_all_parse_to_the_same_instant(raw: str) -> None:
    assert format_timestamp(raw, settings().tz) == "2017-01-12 16:30:42 UTC"


def test_the_real_cloudwatch_format_is_converted_to_seoul_time() -> None:
    tz = settings(TIMEZONE="Asia/Seoul").tz
    assert format_timestamp("2017-01-12T16:30:42.236+0000", tz) == "2017-01-13 01:30:42 KST"


def test_zones_without_an_abbreviation_show_the_offset() -> None:
    tz = settings(TIMEZONE="Asia/Dubai").tz
    assert format_timestamp("2017-01-12T16:30:42Z", tz) == "2017-01-12 20:30:42 UTC+04:00"


@pytest.mark.parametrize(
    "raw",
    ["yesterday", "2017-13-45T99:99:99Z", "", "   ", "2017-01-12", "0001-01-01T00:00:00+0100"],
)
def test_unparseable_timestamps_are_shown_verbatim(raw: str) -> None:
    assert format_timestamp(raw, settings(TIMEZONE="Asia/Seoul").tz) == raw


def test_parse_timestamp_keeps_milliseconds() -> None:
    parsed = parse_timestamp("2017-01-12T16:30:42.236+0000")
    assert parsed is not None
    assert parsed.microsecond == 236000


# --- the alarm message --------------------------------------------------------------------


def test_alarm_message_shows_every_field() -> None:
    payload = payload_for("sns-alarm-cpu-high")
    assert header(payload) == ":rotating_light: ALARM: prod-web-1-cpu"
    assert payload["attachments"][0]["color"] == "#E01E5A"
    assert payload["text"] == ":rotating_light: *ALARM*: prod-web-1-cpu"
    assert fields(payload) == {
        "Alarm name": "prod-web-1-cpu",
        "State": "ALARM",
        "Previous state": "OK",
        "Time": "2024-05-14 07:21:04 UTC",
        "Region": "Asia Pacific (Seoul) (ap-northeast-2)",
        "Account": "123456789012",
        "Alarm type": "metric",
        "Metric": "AWS/EC2 CPUUtilization",
        "Dimensions": "InstanceId=i-0a1b2c3d4e5f67890",
        "Condition": "AVERAGE &gt;= 80",
        "Period": "60 s × 1",  # noqa: RUF001
    }
    texts = section_texts(payload)
    assert texts["Description"].startswith("CPU of web-1")
    assert texts["Reason"].startswith("Threshold Crossed: 1 out of the last 1 datapoints [93.4")
    assert button_url(payload) == (
        "https://ap-northeast-2.console.aws.amazon.com/cloudwatch/deeplink.js"
        "?region=ap-northeast-2#alarmsV2:alarm/prod-web-1-cpu"
    )


@pytest.mark.parametrize(
    ("name", "color", "emoji"),
    [
        ("sns-alarm-cpu-high", "#E01E5A", ":rotating_light:"),
        ("sns-ok", "#2EB67D", ":white_check_mark:"),
        ("sns-insufficient-data", "#9E9E9E", ":grey_question:"),
    ],
)
def test_state_sets_colour_and_emoji(name: str, color: str, emoji: str) -> None:
    payload = payload_for(name)
    assert payload["attachments"][0]["color"] == color
    assert header(payload).startswith(emoji)
    assert payload["text"].startswith(emoji)


def test_unknown_state_is_shown_verbatim_with_a_neutral_colour() -> None:
    alarm = replace(parse_event(load_event("sns-ok"))[0], state="PENDING_REVIEW")
    payload = format_message(alarm, settings())
    assert header(payload) == ":information_source: PENDING_REVIEW: prod-web-1-cpu"
    assert payload["attachments"][0]["color"] == "#439FE0"
    assert fields(payload)["State"] == "PENDING_REVIEW"


def test_status_check_alarm_shows_period_times_evaluation_periods() -> None:
    got = fields(payload_for("sns-alarm-status-check"))
    assert got["Condition"] == "MAXIMUM &gt;= 1"
    assert got["Period"] == "60 s × 2"  # noqa: RUF001


def test_korean_labels_with_values_as_aws_sent_them() -> None:
    payload = payload_for("sns-alarm-cpu-high", MESSAGE_LANGUAGE="ko", TIMEZONE="Asia/Seoul")
    got = fields(payload)
    assert got["알람 이름"] == "prod-web-1-cpu"
    assert got["상태"] == "ALARM"
    assert got["이전 상태"] == "OK"
    assert got["발생 시각"] == "2024-05-14 16:21:04 KST"
    assert got["리전"] == "Asia Pacific (Seoul) (ap-northeast-2)"
    assert got["계정"] == "123456789012"
    assert got["지표"] == "AWS/EC2 CPUUtilization"
    assert "원인" in section_texts(payload)
    assert "설명" in section_texts(payload)
    assert blocks(payload)[-1]["elements"][0]["text"]["text"] == "CloudWatch에서 보기"


def test_korean_alarm_name_is_kept_and_linked_url_encoded() -> None:
    payload = payload_for("sns-korean-alarm")
    assert header(payload) == ":rotating_light: ALARM: 운영-웹서버-1-CPU"
    assert button_url(payload).endswith(
        "#alarmsV2:alarm/%EC%9A%B4%EC%98%81-%EC%9B%B9%EC%84%9C%EB%B2%84-1-CPU"
    )


def test_metric_math_alarm_lists_expression_and_metrics() -> None:
    payload = payload_for("sns-metric-math-alarm")
    metrics = section_texts(payload)["Metrics"]
    assert metrics.startswith("```")
    assert metrics.endswith("```")
    assert "e1 = 100 * errors / requests (5xx error rate (%))" in metrics
    assert "errors: AWS/ApplicationELB HTTPCode_Target_5XX_Count (Sum, 300 s)" in metrics
    assert fields(payload)["Condition"] == "&gt; 5"
    assert fields(payload)["Period"] == "300 s × 3 (2/3)"  # noqa: RUF001
    assert fields(payload)["Alarm type"] == "metric math"


def test_anomaly_detection_alarm_shows_the_band() -> None:
    got = fields(payload_for("sns-anomaly-detection-alarm"))
    assert got["Condition"] == "outside the band ad1"
    assert got["Alarm type"] == "anomaly detection"
    got_ko = fields(payload_for("sns-anomaly-detection-alarm", MESSAGE_LANGUAGE="ko"))
    assert got_ko["조건"] == "밴드 ad1 범위 밖"


@pytest.mark.parametrize("name", ["sns-composite-alarm", "direct-composite-alarm"])
def test_composite_alarm_shows_its_rule(name: str) -> None:
    payload = payload_for(name)
    rule = section_texts(payload)["Alarm rule"]
    assert rule == '```ALARM("prod-web-1-status-check") AND ALARM("prod-web-5xx-rate")```'
    assert fields(payload)["Alarm type"] == "composite"
    assert "Metric" not in fields(payload)


def test_direct_and_eventbridge_alarms_look_like_the_sns_one() -> None:
    sns = fields(payload_for("sns-alarm-cpu-high"))
    for name in ("direct-alarm-cpu-high", "eventbridge-alarm", "sns-eventbridge-alarm"):
        got = fields(payload_for(name))
        assert got["Region"] == "ap-northeast-2"  # these shapes carry only the code
        assert got["Condition"] == "Average threshold 80"  # from state.reasonData
        for label in ("Alarm name", "State", "Previous state", "Time", "Account", "Dimensions"):
            assert got[label] == sns[label], (name, label)


def test_aws_cn_alarm_links_to_the_china_console() -> None:
    payload = payload_for("sns-aws-cn-alarm")
    assert button_url(payload) == (
        "https://console.amazonaws.cn/cloudwatch/home?region=cn-north-1"
        "#alarmsV2:alarm/cn-api-1-cpu-p95"
    )
    assert fields(payload)["Condition"] == "p95 &gt;= 80"


def test_govcloud_link_and_url_encoded_name() -> None:
    alarm = Alarm(
        kind="alarm",
        source="sns",
        arn="arn:aws-us-gov:cloudwatch:us-gov-west-1:123456789012:alarm:db 1/cpu#high",
    )
    assert console_url(alarm) == (
        "https://console.amazonaws-us-gov.com/cloudwatch/home?region=us-gov-west-1"
        "#alarmsV2:alarm/db%201%2Fcpu%23high"
    )


def test_no_arn_means_no_link() -> None:
    payload = payload_for("sns-nulls-and-wrong-types")
    assert button_url(payload) is None
    assert fields(payload)["Time"] == "yesterday around noon"


def test_mention_is_prepended_to_alarm_messages_only_and_not_escaped() -> None:
    alarm_payload = payload_for("sns-alarm-cpu-high", ALARM_MENTION="<!here>")
    assert alarm_payload["text"] == "<!here> :rotating_light: *ALARM*: prod-web-1-cpu"
    ok_payload = payload_for("sns-ok", ALARM_MENTION="<!here>")
    assert "<!here>" not in json.dumps(ok_payload)
    text_payload = payload_for("sns-plain-text", ALARM_MENTION="<!here>")
    assert "<!here>" not in json.dumps(text_payload)


def test_event_values_cannot_ping_or_inject_links() -> None:
    payload = payload_for("sns-slack-injection", ALARM_MENTION="<!subteam^S123>")
    dumped = json.dumps(payload, ensure_ascii=False)
    assert dumped.count("<") == 1  # only the operator's mention
    assert payload["text"].startswith("<!subteam^S123> ")
    assert header(payload) == (
        ":rotating_light: ALARM: &lt;!channel&gt; &amp; &lt;https://evil.example|click me&gt;"
    )
    assert section_texts(payload)["Reason"] == (
        "Reason with &lt;!here&gt; and &lt;@U0123ABCD&gt; &amp; friends"
    )
    assert "%3C%21channel%3E" in button_url(payload)


def test_channel_username_and_icon_are_sent_only_when_configured() -> None:
    bare = payload_for("sns-ok")
    assert not {"channel", "username", "icon_emoji"} & bare.keys()
    full = payload_for(
        "sns-ok", SLACK_CHANNEL="#ops", SLACK_USERNAME="CloudWatch", SLACK_ICON_EMOJI=":bell:"
    )
    assert (full["channel"], full["username"], full["icon_emoji"]) == (
        "#ops",
        "CloudWatch",
        ":bell:",
    )


# --- other messages -----------------------------------------------------------------------


def test_plain_text_message_is_shown_as_text_with_its_subject() -> None:
    payload = payload_for("sns-plain-text")
    assert header(payload) == ":incoming_envelope: Deploy notice"
    assert payload["text"] == ":incoming_envelope: Deploy notice"
    assert section_texts(payload)["Message"].startswith("Deploy finished on prod-web.")
    assert payload["attachments"][0]["color"] == "#439FE0"


def test_non_alarm_json_is_shown_as_a_code_block() -> None:
    payload = payload_for("sns-non-alarm-json")
    body = section_texts(payload)["Message"]
    assert body.startswith("```{")
    assert body.endswith("}```")
    assert '"pipeline": "prod-web"' in body
    assert payload["text"] == ":incoming_envelope: Notification"
    # The message's own "text"/"attachments" keys never leak into the payload's.
    assert set(payload) == {"text", "attachments"}


def test_empty_text_message_says_so() -> None:
    (alarm,) = parse_event({"Records": [{"Sns": {"Message": ""}}]})
    payload = format_message(alarm, settings(MESSAGE_LANGUAGE="ko"))
    assert section_texts(payload)["메시지"] == "(빈 메시지)"
    assert header(payload) == ":incoming_envelope: 알림"


# --- limits -------------------------------------------------------------------------------


def test_long_values_are_truncated_to_slack_limits_with_an_ellipsis() -> None:
    alarm = Alarm(
        kind="alarm",
        source="sns",
        name="n" * 300,
        state="ALARM",
        reason="<" * 5000,
        description="d" * 5000,
        dimensions=tuple((f"Dim{i}", "v" * 200) for i in range(30)),
        metrics=(),
        alarm_rule="ALARM(x) OR " * 1000,
    )
    payload = format_message(alarm, settings())
    assert len(header(payload)) == 150
    assert header(payload).endswith(ELLIPSIS)
    reason = section_texts(payload)["Reason"]
    assert len(reason) + len("*Reason*\n") <= 3000
    assert reason.endswith("&lt;" + ELLIPSIS)  # never a half entity such as "&l…"
    assert len(fields(payload)["Dimensions"]) + len("*Dimensions*\n") <= 2000
    rule = section_texts(payload)["Alarm rule"]
    assert rule.endswith(ELLIPSIS + "```")


def test_truncate_counts_like_slack_and_keeps_short_text() -> None:
    assert truncate("short", 10) == "short"
    assert truncate("abcdefghijk", 10) == "abcdefghi" + ELLIPSIS
    # Characters outside the BMP count twice (UTF-16), as Slack counts them.
    emoji = "\U0001f525" * 10
    cut = truncate(emoji, 10)
    assert len(cut.encode("utf-16-le")) // 2 <= 10
    assert cut.endswith(ELLIPSIS)


def test_escape_covers_the_three_control_characters() -> None:
    assert escape("a & <b> c") == "a &amp; &lt;b&gt; c"


def test_configuration_notes_are_shown_in_the_message_and_the_fallback() -> None:
    settings = load_settings({"SLACK_WEBHOOK_URL": URL, "MESSAGE_LANGUAGE": "<!here>"})
    alarm = parse_event(load_event("sns-alarm-cpu-high"))[0]
    blocks = format_message(alarm, settings)["attachments"][0]["blocks"]
    note = blocks[-1]["elements"][0]["text"]
    assert "MESSAGE_LANGUAGE='&lt;!here&gt;'" in note  # escaped: a setting cannot mention
    assert "<" not in note
    assert "MESSAGE_LANGUAGE" in format_fallback(alarm, settings)["text"]


# --- where: account and region ---------------------------------------------------------------


def test_a_named_account_is_shown_with_its_name_and_id() -> None:
    got = fields(
        payload_for(
            "eventbridge-cross-account-alarm",
            ACCOUNT_NAMES='{"444455556666": "payments-prod"}',
        )
    )
    assert got["Account"] == "payments-prod (444455556666)"
    assert got["Region"] == "us-west-2"


def test_an_account_without_a_name_is_shown_by_its_id() -> None:
    got = fields(
        payload_for("eventbridge-cross-account-alarm", ACCOUNT_NAMES='{"111122223333": "shared"}')
    )
    assert got["Account"] == "444455556666"


def test_account_names_are_escaped_like_any_text() -> None:
    got = fields(
        payload_for("eventbridge-cross-account-alarm", ACCOUNT_NAMES='{"444455556666": "<!here>"}')
    )
    assert got["Account"] == "&lt;!here&gt; (444455556666)"


def test_account_label_without_an_account_is_none() -> None:
    named = settings(ACCOUNT_NAMES='{"111122223333": "shared"}')
    assert account_label(None, named) is None
    assert account_label("111122223333", named) == "shared (111122223333)"


# --- the total budget -------------------------------------------------------------------------


def composite_at_cloudwatchs_limits(char: str) -> Alarm:
    """A composite alarm with every field at CloudWatch's maximum length, made of `char`."""
    name = "n" * 255
    return Alarm(
        kind="alarm",
        source="sns",
        name=name,
        state="ALARM",
        previous_state="OK",
        timestamp="2024-05-14T07:21:04.123+0000",
        account="123456789012",
        region="ap-northeast-2",
        arn=f"arn:aws:cloudwatch:ap-northeast-2:123456789012:alarm:{name}",
        alarm_type="composite",
        reason="Alarm rule became true: " + char * 999,
        description=char * 1024,
        alarm_rule=char * 10240,
        triggering_children=tuple(f"arn:…:alarm:{char * 200}" for _ in range(5)),
    )


@pytest.mark.parametrize("char", ["x", "&", "<"])
def test_one_alarms_blocks_stay_within_the_total_budget(char: str) -> None:
    from formatting import MESSAGE_BUDGET, block_chars  # noqa: PLC0415
    from support.slack_rules import message_refusal  # noqa: PLC0415

    # Escaping makes "&" five characters: 13.6k of blocks before the budget existed.
    payload = format_message(composite_at_cloudwatchs_limits(char), settings())
    total = block_chars(blocks(payload))
    assert total <= MESSAGE_BUDGET
    if char != "x":  # over the budget before the cut: cut no shorter than needed
        assert total > MESSAGE_BUDGET - 100
    assert message_refusal(payload) is None


def test_the_budget_shortens_the_longest_texts_first_and_keeps_name_state_and_reason() -> None:
    alarm = composite_at_cloudwatchs_limits("&")
    payload = format_message(alarm, settings())
    values = fields(payload)
    # Short values are whole.
    assert values["Alarm name"] == "n" * 255
    assert values["State"] == "ALARM"
    assert values["Time"] == "2024-05-14 07:21:04 UTC"
    assert header(payload).startswith(":rotating_light: ALARM: nnn")
    # The long ones are cut, to about the same length, the reason keeping its start.
    texts = section_texts(payload)
    assert texts["Reason"].startswith("Alarm rule became true: &amp;")
    cut = [texts[label] for label in ("Description", "Reason", "Alarm rule")]
    assert all(text.endswith((ELLIPSIS, ELLIPSIS + "```")) for text in cut)
    lengths = [len(text) for text in cut]
    assert max(lengths) - min(lengths) < 30
    assert min(lengths) > 500


def test_a_message_within_the_budget_is_not_cut() -> None:
    alarm = composite_at_cloudwatchs_limits("x")
    small = replace(alarm, alarm_rule="ALARM(a) OR ALARM(b)", description="d" * 1024)
    texts = section_texts(format_message(small, settings()))
    assert texts["Description"] == "d" * 1024
    assert texts["Alarm rule"] == "```ALARM(a) OR ALARM(b)```"
