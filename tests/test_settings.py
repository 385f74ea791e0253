"""Configuration: read once, validated with messages that say what to set."""

from __future__ import annotations

import datetime as dt
import json
import zoneinfo

import pytest

import settings as settings_module
from settings import ConfigError, Settings, load_settings, resolve_timezone

URL = "https://hooks.slack.com/services/T000/B000/settings-test-secret"


def test_defaults_with_only_a_webhook_url() -> None:
    got = load_settings({"SLACK_WEBHOOK_URL": URL})
    assert got == Settings(webhook_url=URL)
    assert (got.timezone, got.tz, got.language, got.log_level) == ("UTC", dt.UTC, "en", "INFO")
    assert got.channel is got.username is got.icon_emoji is got.alarm_mention is None


def test_every_variable_is_read() -> None:
    got = load_settings(
        {
            "SLACK_WEBHOOK_URL": URL,
            "SLACK_CHANNEL": "#ops",
            "SLACK_USERNAME": "CloudWatch",
            "SLACK_ICON_EMOJI": ":bell:",
            "ALARM_MENTION": "<!here>",
            "TIMEZONE": "Asia/Seoul",
            "MESSAGE_LANGUAGE": "KO",
            "LOG_LEVEL": "debug",
        }
    )
    assert (got.channel, got.username, got.icon_emoji, got.alarm_mention) == (
        "#ops",
        "CloudWatch",
        ":bell:",
        "<!here>",
    )
    assert (got.timezone, got.language, got.log_level) == ("Asia/Seoul", "ko", "DEBUG")
    assert dt.datetime(2024, 1, 1, tzinfo=got.tz).utcoffset() == dt.timedelta(hours=9)


def test_empty_strings_mean_unset() -> None:
    # Terraform sets every variable, with "" for the ones the user left null.
    got = load_settings(
        {
            "SLACK_WEBHOOK_URL": URL,
            "SLACK_WEBHOOK_SSM_PARAMETER": "",
            "SLACK_CHANNEL": "",
            "ALARM_MENTION": "  ",
            "TIMEZONE": "",
            "MESSAGE_LANGUAGE": "",
            "LOG_LEVEL": "",
        }
    )
    assert got == Settings(webhook_url=URL)


def test_ssm_parameter_instead_of_url() -> None:
    got = load_settings({"SLACK_WEBHOOK_SSM_PARAMETER": "/alarm-to-slack/webhook"})
    assert (got.webhook_url, got.webhook_ssm_parameter) == (None, "/alarm-to-slack/webhook")


def test_no_webhook_says_which_variables_to_set() -> None:
    with pytest.raises(ConfigError, match=r"SLACK_WEBHOOK_URL.*SLACK_WEBHOOK_SSM_PARAMETER"):
        load_settings({})


def test_both_webhook_variables_is_an_error() -> None:
    with pytest.raises(ConfigError, match="set exactly one"):
        load_settings({"SLACK_WEBHOOK_URL": URL, "SLACK_WEBHOOK_SSM_PARAMETER": "/p"})


def test_a_url_that_is_not_http_is_rejected_without_echoing_it() -> None:
    with pytest.raises(ConfigError) as raised:
        load_settings({"SLACK_WEBHOOK_URL": "hooks.slack.com/services/T/B/not-echoed-secret"})
    assert "not-echoed-secret" not in str(raised.value)
    assert "SLACK_WEBHOOK_URL" in str(raised.value)


@pytest.mark.parametrize(
    ("env", "note", "fallback"),
    [
        ({"TIMEZONE": "Asia/Seol"}, "TIMEZONE='Asia/Seol' is not a known IANA", ("UTC", "en")),
        ({"TIMEZONE": "KST"}, "TIMEZONE='KST'", ("UTC", "en")),
        ({"TIMEZONE": "Foo3"}, "TIMEZONE='Foo3'", ("UTC", "en")),
        ({"TIMEZONE": "../../etc/passwd"}, "TIMEZONE=", ("UTC", "en")),
        ({"MESSAGE_LANGUAGE": "fr"}, "MESSAGE_LANGUAGE='fr' is not supported", ("UTC", "en")),
    ],
)
def test_a_wrong_display_setting_falls_back_with_a_note_and_a_warning(
    env: dict, note: str, fallback: tuple, caplog: pytest.LogCaptureFixture
) -> None:
    got = load_settings({"SLACK_WEBHOOK_URL": URL, **env})
    assert (got.timezone, got.language) == fallback
    assert got.tz is dt.UTC
    (only,) = got.notes
    assert note in only
    (record,) = [r for r in caplog.records if r.name == "alarm_to_slack"]
    assert record.levelname == "WARNING"
    assert note in json.loads(record.getMessage())["warning"]


def test_a_wrong_log_level_falls_back_to_info_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    got = load_settings({"SLACK_WEBHOOK_URL": URL, "LOG_LEVEL": "LOUD"})
    assert got.log_level == "INFO"
    assert "LOG_LEVEL='LOUD'" in got.notes[0]
    assert any("LOG_LEVEL='LOUD'" in r.getMessage() for r in caplog.records)


def test_several_wrong_display_settings_give_one_note_each() -> None:
    got = load_settings(
        {"SLACK_WEBHOOK_URL": URL, "TIMEZONE": "Mars/Base", "MESSAGE_LANGUAGE": "xx"}
    )
    assert len(got.notes) == 2


@pytest.mark.parametrize(
    "url",
    [
        "http://hooks.slack.com/services/T000/B000/not-echoed-secret",
        "https://hooks.slack.com/services/T000/B000/not-echoed\tsecret",
        "https://hooks.slack.com/services/T000/B000/not-echoed\nsecret",
        "https://attacker.example/services/T000/B000/not-echoed-secret",
    ],
)
def test_an_unusable_webhook_url_is_rejected_at_load_without_echoing_it(url: str) -> None:
    with pytest.raises(ConfigError) as raised:
        load_settings({"SLACK_WEBHOOK_URL": url})
    assert "not-echoed" not in str(raised.value)
    assert "secret" not in str(raised.value)
    assert "SLACK_WEBHOOK_URL" in str(raised.value)


def test_allowed_hosts_extend_slacks_hosts() -> None:
    url = "https://hooks.example.com/services/T000/B000/x"
    got = load_settings(
        {"SLACK_WEBHOOK_URL": url, "SLACK_WEBHOOK_ALLOWED_HOSTS": " Hooks.Example.com ,"}
    )
    assert got.webhook_url == url
    assert got.webhook_allowed_hosts == frozenset({"hooks.example.com"})


def test_loopback_http_is_allowed_for_local_runs() -> None:
    url = "http://127.0.0.1:8080/services/T000/B000/x"
    assert load_settings({"SLACK_WEBHOOK_URL": url}).webhook_url == url


def test_repr_never_shows_the_webhook_url() -> None:
    got = load_settings({"SLACK_WEBHOOK_URL": URL})
    assert "settings-test-secret" not in repr(got)
    assert "settings-test-secret" not in str(got)


def test_timezone_falls_back_to_dateutil_when_the_system_has_no_tz_database(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The python3.12+ Lambda runtime ships without /usr/share/zoneinfo and without tzdata.
    def no_tz_database(key: str) -> zoneinfo.ZoneInfo:
        raise zoneinfo.ZoneInfoNotFoundError(f"No time zone found with key {key}")

    monkeypatch.setattr(zoneinfo, "ZoneInfo", no_tz_database)
    tz = resolve_timezone("Asia/Seoul")
    assert type(tz).__module__.startswith("dateutil")
    moment = dt.datetime(2017, 1, 12, 16, 30, 42, tzinfo=dt.UTC).astimezone(tz)
    assert (moment.hour, moment.tzname()) == (1, "KST")
    with pytest.raises(ConfigError):
        resolve_timezone("Mars/Olympus_Mons")


def test_utc_needs_no_tz_database(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(zoneinfo, "ZoneInfo", None)
    assert resolve_timezone("UTC") is dt.UTC
    assert settings_module.load_settings({"SLACK_WEBHOOK_URL": URL}).tz is dt.UTC


def test_account_names_are_read_from_json() -> None:
    got = load_settings(
        {
            "SLACK_WEBHOOK_URL": URL,
            "ACCOUNT_NAMES": '{"444455556666": " payments-prod ", "111122223333": "shared"}',
        }
    )
    assert got.account_names == (("111122223333", "shared"), ("444455556666", "payments-prod"))
    assert load_settings({"SLACK_WEBHOOK_URL": URL, "ACCOUNT_NAMES": ""}).account_names == ()


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("{not json", "ACCOUNT_NAMES is not valid JSON"),
        ('["111122223333"]', "must be a JSON object"),
    ],
)
def test_unreadable_account_names_warn_and_show_ids(raw: str, message: str) -> None:
    # A display setting never stops delivery: the function still starts, without names.
    got = load_settings({"SLACK_WEBHOOK_URL": URL, "ACCOUNT_NAMES": raw})
    assert got.account_names == ()
    assert len(got.notes) == 1
    assert message in got.notes[0]


def test_bad_account_name_entries_are_dropped_with_a_warning_naming_them() -> None:
    raw = json.dumps(
        {
            "1111-2222-3333": "prod",
            "11112222333": "short",
            "111122223333": "",
            "222233334444": 7,
            "444455556666": "payments-prod",
        }
    )
    got = load_settings({"SLACK_WEBHOOK_URL": URL, "ACCOUNT_NAMES": raw})
    assert got.account_names == (("444455556666", "payments-prod"),)
    text = "\n".join(got.notes)
    assert "key '1111-2222-3333' is not a 12-digit AWS account ID" in text
    assert "key '11112222333' is not a 12-digit" in text
    assert "the name of account 111122223333 must be a non-empty string" in text
    assert "the name of account 222233334444" in text
    assert len(got.notes) == 4


APP_MODE = {"SLACK_BOT_TOKEN_SSM_PARAMETER": "/slack/bot-token", "SLACK_CHANNEL_ID": "C0ALERTS01"}
# Each numeric setting: its field, its default, its range (the same as the Terraform variable's
# validation in variables.tf), whether it must be whole, and the mode that reads it.
NUMERIC = [
    ("DIGEST_THRESHOLD", "digest_threshold", 3, 0, 1000, True, {"SLACK_WEBHOOK_URL": URL}),
    ("SLACK_MESSAGE_INTERVAL_SECONDS", "message_interval", 1.0, 0, 60, False,
     {"SLACK_WEBHOOK_URL": URL}),
    ("SLACK_STATE_TTL_DAYS", "state_ttl_days", 30, 1, 3650, True, APP_MODE),
    ("SLACK_GRAPH_WINDOW_MINUTES", "graph_window_minutes", 180, 10, 10080, True, APP_MODE),
    ("SLACK_GROUP_INTERVAL_SECONDS", "group_interval_seconds", 300, 0, 3600, True, APP_MODE),
]  # fmt: skip


@pytest.mark.parametrize("case", NUMERIC, ids=[n[0] for n in NUMERIC])
def test_numeric_settings_take_their_whole_range_and_nothing_beyond_it(case: tuple) -> None:
    name, field, default, low, high, whole, base = case
    for value in (low, high):
        got = load_settings({**base, name: str(value)})
        assert (getattr(got, field), got.notes) == (value, ()), value
    beyond = [high + 1, high * 5, low - 1, "nan", "inf", "-inf", "1e400", "many"]
    if whole:
        beyond.append(low + 0.5)
    for value in beyond:
        got = load_settings({**base, name: str(value)})
        assert getattr(got, field) == default, value
        (note,) = got.notes
        assert note.startswith(f"{name}={str(value)!r} is not "), note
        assert f"from {low:g} to {high:g}; using {default:g}" in note, note
