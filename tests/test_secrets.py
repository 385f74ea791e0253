"""The webhook URL from SSM Parameter Store: decrypted, cached per container, never shown."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import boto3
import pytest
from botocore.stub import Stubber

import handler
import settings as settings_module
from settings import ConfigError, load_settings, resolve_webhook_url
from support import REPO_ROOT, load_event

PARAMETER = "/alarm-to-slack/webhook"


@pytest.fixture(autouse=True)
def _fresh_container() -> Iterator[None]:
    handler.reset_caches()
    yield
    handler.reset_caches()


@pytest.fixture
def ssm() -> Iterator[tuple[object, Stubber]]:
    client = boto3.client(
        "ssm",
        region_name="ap-northeast-2",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",  # noqa: S106 - not a credential
    )
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def parameter_response(value: str) -> dict:
    return {
        "Parameter": {
            "Name": PARAMETER,
            "Type": "SecureString",
            "Value": value,
            "Version": 1,
            "ARN": f"arn:aws:ssm:ap-northeast-2:123456789012:parameter{PARAMETER}",
            "DataType": "text",
        }
    }


def test_url_is_read_with_decryption_once_per_container(ssm: tuple) -> None:
    client, stubber = ssm
    url = "https://hooks.slack.com/services/T000/B000/from-ssm"
    stubber.add_response(
        "get_parameter",
        parameter_response(url),
        expected_params={"Name": PARAMETER, "WithDecryption": True},
    )
    settings = load_settings({"SLACK_WEBHOOK_SSM_PARAMETER": PARAMETER})
    assert resolve_webhook_url(settings, ssm_client_factory=lambda: client) == url
    # A second call would fail the Stubber (no response queued): it must come from the cache.
    assert resolve_webhook_url(settings, ssm_client_factory=lambda: client) == url


def test_missing_parameter_is_a_config_error_naming_it(ssm: tuple) -> None:
    client, stubber = ssm
    stubber.add_client_error(
        "get_parameter", service_error_code="ParameterNotFound", http_status_code=400
    )
    settings = load_settings({"SLACK_WEBHOOK_SSM_PARAMETER": PARAMETER})
    with pytest.raises(ConfigError, match="ParameterNotFound") as raised:
        resolve_webhook_url(settings, ssm_client_factory=lambda: client)
    # Named as it is, never through repr(): escapes would change what a reader searches for.
    assert f"SSM parameter {PARAMETER} (SLACK_WEBHOOK_SSM_PARAMETER)" in str(raised.value)
    assert f"'{PARAMETER}'" not in str(raised.value)


def test_a_parameter_that_is_not_a_url_is_rejected_without_echoing_it(ssm: tuple) -> None:
    client, stubber = ssm
    stubber.add_response("get_parameter", parameter_response("oops-not-a-url-secret"))
    settings = load_settings({"SLACK_WEBHOOK_SSM_PARAMETER": PARAMETER})
    with pytest.raises(ConfigError) as raised:
        resolve_webhook_url(settings, ssm_client_factory=lambda: client)
    assert "oops-not-a-url-secret" not in str(raised.value)


def test_the_handler_posts_to_the_url_from_ssm(
    ssm: tuple, fake_slack: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    client, stubber = ssm
    stubber.add_response("get_parameter", parameter_response(fake_slack.url))
    monkeypatch.setattr(settings_module, "_default_ssm_client", lambda: client)
    monkeypatch.setenv("SLACK_WEBHOOK_SSM_PARAMETER", PARAMETER)
    monkeypatch.delenv("SLACK_WEBHOOK_URL", raising=False)
    for _ in range(2):  # the second invocation reuses the cached URL
        result = handler.lambda_handler(load_event("sns-alarm-cpu-high"), None)
        assert result == {"records": 1, "delivered": 1, "failed": 0}
    assert [r["text"] for r in fake_slack.requests] == [
        ":rotating_light: *ALARM*: prod-web-1-cpu"
    ] * 2


def test_ssm_failure_makes_the_invocation_raise(
    ssm: tuple, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    client, stubber = ssm
    stubber.add_client_error("get_parameter", service_error_code="AccessDeniedException")
    monkeypatch.setattr(settings_module, "_default_ssm_client", lambda: client)
    monkeypatch.setenv("SLACK_WEBHOOK_SSM_PARAMETER", PARAMETER)
    monkeypatch.delenv("SLACK_WEBHOOK_URL", raising=False)
    with pytest.raises(ConfigError, match="AccessDeniedException"):
        handler.lambda_handler(load_event("sns-alarm-cpu-high"), None)
    assert "configuration error" in caplog.text


@pytest.mark.parametrize(
    "value",
    [
        "https://hooks.slack.com/services/T000/B000/ssm\tsecret-token",
        "https://hooks.slack.com/services/T000/B000/ssm\nsecret-token",
        "http://hooks.slack.com/services/T000/B000/ssm-secret-token",
    ],
)
def test_a_parameter_with_control_characters_or_http_is_rejected_without_echoing_it(
    ssm: tuple, value: str
) -> None:
    # An embedded tab or newline used to reach http.client, whose InvalidURL error printed
    # repr(path), token included, into CloudWatch Logs.
    client, stubber = ssm
    stubber.add_response("get_parameter", parameter_response(value))
    settings = load_settings({"SLACK_WEBHOOK_SSM_PARAMETER": PARAMETER})
    with pytest.raises(ConfigError, match="does not hold a usable webhook URL") as raised:
        resolve_webhook_url(settings, ssm_client_factory=lambda: client)
    assert "secret-token" not in str(raised.value)


# The same markers as variables.tf's rule for both parameter-name variables.
SECRET_LOOKING_NAMES = [
    "xoxb-1234-5678-bot-leak42",
    "XOXP-1234-5678-user-leak42",
    "xoxe.xoxp-1-rotated-leak42",
    "xoxe-1-refresh-leak42",
    "xapp-1-A000-app-leak42",
    "https://hooks.slack.com/services/T000/B000/url-leak42",
    "http://proxy.example.com/url-leak42",
    "/alerts/hooks.slack.com/services/T000/B000/url-leak42",
]


@pytest.mark.parametrize(
    "variable", ["SLACK_WEBHOOK_SSM_PARAMETER", "SLACK_BOT_TOKEN_SSM_PARAMETER"]
)
@pytest.mark.parametrize("value", SECRET_LOOKING_NAMES)
def test_a_parameter_name_that_looks_like_a_token_or_url_is_refused_without_echoing_it(
    variable: str, value: str, caplog: pytest.LogCaptureFixture
) -> None:
    environ = {variable: value}
    if variable == "SLACK_BOT_TOKEN_SSM_PARAMETER":
        environ["SLACK_CHANNEL_ID"] = "C0123456789"
    with caplog.at_level("DEBUG"), pytest.raises(ConfigError) as raised:
        load_settings(environ)
    message = str(raised.value)
    assert message.startswith(f"{variable} looks like a Slack token or a URL"), message
    assert "leak42" not in message
    assert "leak42" not in caplog.text


@pytest.mark.parametrize(
    "value", ["/alarm-to-slack/webhook-url", "/slack/xox-notes", "/team/https-proxy"]
)
def test_an_ordinary_parameter_name_is_accepted(value: str) -> None:
    assert load_settings({"SLACK_WEBHOOK_SSM_PARAMETER": value}).webhook_ssm_parameter == value


def test_terraform_refuses_the_same_parameter_names_as_the_function() -> None:
    # main.tf's secret_looking_name_pattern (an HCL string, JSON-like escapes) is the function's
    # rule with Terraform's (?i) flag: a name one of them accepts, the other must accept too.
    (literal,) = re.findall(
        r'^\s*secret_looking_name_pattern\s*=\s*("(?:[^"\\]|\\.)*")\s*$',
        (REPO_ROOT / "main.tf").read_text(),
        flags=re.MULTILINE,
    )
    pattern = settings_module._SECRET_LOOKING_NAME
    assert pattern.flags & re.IGNORECASE
    assert json.loads(literal) == f"(?i)({pattern.pattern})"
