"""SLACK_GRAPHS, SLACK_GRAPH_WINDOW_MINUTES: app mode only; a bad value never stops delivery."""

from __future__ import annotations

import logging

import pytest

from settings import DEFAULT_GRAPH_WINDOW_MINUTES, load_settings

APP = {"SLACK_BOT_TOKEN_SSM_PARAMETER": "/slack/bot-token", "SLACK_CHANNEL_ID": "C0ALERTS01"}
WEBHOOK = {"SLACK_WEBHOOK_URL": "https://hooks.slack.com/services/T000/B000/XXXX"}


def test_graphs_are_off_unless_switched_on() -> None:
    settings = load_settings(APP)
    assert settings.graphs is False
    assert settings.graph_window_minutes == DEFAULT_GRAPH_WINDOW_MINUTES == 180


def test_graphs_and_window_are_read_in_app_mode() -> None:
    settings = load_settings({**APP, "SLACK_GRAPHS": "TRUE", "SLACK_GRAPH_WINDOW_MINUTES": " 60 "})
    assert (settings.graphs, settings.graph_window_minutes) == (True, 60)


def test_webhook_mode_never_draws_graphs() -> None:
    settings = load_settings({**WEBHOOK, "SLACK_GRAPHS": "true"})
    assert settings.graphs is False


@pytest.mark.parametrize(
    ("env", "graphs", "window", "warning"),
    [
        ({"SLACK_GRAPHS": "yes"}, False, 180, "SLACK_GRAPHS="),
        ({"SLACK_GRAPHS": "true", "SLACK_GRAPH_WINDOW_MINUTES": "3h"}, True, 180, "MINUTES="),
        ({"SLACK_GRAPHS": "true", "SLACK_GRAPH_WINDOW_MINUTES": "5"}, True, 180, "MINUTES="),
        ({"SLACK_GRAPHS": "true", "SLACK_GRAPH_WINDOW_MINUTES": "10081"}, True, 180, "MINUTES="),
        ({"SLACK_GRAPHS": "true", "SLACK_GRAPH_WINDOW_MINUTES": "60.5"}, True, 180, "MINUTES="),
    ],
)
def test_a_bad_graph_setting_falls_back_with_a_warning(
    env: dict[str, str],
    graphs: bool,
    window: int,
    warning: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="alarm_to_slack"):
        settings = load_settings({**APP, **env})
    assert (settings.graphs, settings.graph_window_minutes) == (graphs, window)
    (note,) = settings.notes
    assert warning in note
    assert warning in caplog.text


def test_channels_are_joined_and_no_other_account_is_drawn_by_default() -> None:
    settings = load_settings({**APP, "SLACK_GRAPHS": "true"})
    assert settings.graph_join_channels is True
    assert settings.graph_cross_account_ids == ()


def test_join_and_cross_account_settings_are_read() -> None:
    settings = load_settings(
        {
            **APP,
            "SLACK_GRAPHS": "true",
            "SLACK_GRAPH_JOIN_CHANNELS": "False",
            "SLACK_GRAPH_CROSS_ACCOUNT_IDS": " 222233334444,111122223333 ,222233334444",
        }
    )
    assert settings.graph_join_channels is False
    assert settings.graph_cross_account_ids == ("111122223333", "222233334444")
    assert settings.notes == ()


def test_a_wrong_account_id_is_left_out_with_a_note(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="alarm_to_slack"):
        settings = load_settings(
            {**APP, "SLACK_GRAPH_CROSS_ACCOUNT_IDS": "111122223333,12345,arn:aws:iam::1:root"}
        )
    assert settings.graph_cross_account_ids == ("111122223333",)
    (note,) = settings.notes
    assert "SLACK_GRAPH_CROSS_ACCOUNT_IDS" in note
    assert "'12345'" in note
    assert "12345" in caplog.text


def test_a_wrong_join_setting_falls_back_to_joining() -> None:
    settings = load_settings({**APP, "SLACK_GRAPH_JOIN_CHANNELS": "sometimes"})
    assert settings.graph_join_channels is True
    (note,) = settings.notes
    assert "SLACK_GRAPH_JOIN_CHANNELS=" in note
