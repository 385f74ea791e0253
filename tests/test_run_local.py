"""`make run` (scripts/run_local.py): the real handler, a fake Slack, a readable preview."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from support import REPO_ROOT
from support.fake_slack import FakeSlack

SCRIPT = REPO_ROOT / "scripts" / "run_local.py"


def run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_")}
    base.pop("TIMEZONE", None)
    base.pop("MESSAGE_LANGUAGE", None)
    base.pop("ALARM_MENTION", None)
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args],
        capture_output=True,
        text=True,
        check=False,
        env={**base, **env},
        timeout=60,
    )


def payload_from(stdout: str) -> dict:
    return json.loads(stdout.split("── JSON payload ──\n", 1)[1])


def test_default_run_previews_the_cpu_alarm_in_local_time() -> None:
    out = run(TIMEZONE="Asia/Seoul", MESSAGE_LANGUAGE="ko")
    assert out.returncode == 0, out.stderr
    assert "Slack would show" in out.stdout
    assert "┃ 🚨 ALARM: prod-web-1-cpu" in out.stdout
    assert "┃ 발생 시각: 2024-05-14 16:21:04 KST" in out.stdout
    assert "┃ 조건: AVERAGE >= 80" in out.stdout
    payload = payload_from(out.stdout)
    assert payload["text"] == ":rotating_light: *ALARM*: prod-web-1-cpu"
    assert payload["attachments"][0]["color"] == "#E01E5A"
    assert '"outcome": "delivered"' in out.stderr


def test_event_option_runs_another_sample() -> None:
    out = run("--event", str(REPO_ROOT / "examples/events/sns-ok.json"))
    assert out.returncode == 0, out.stderr
    assert "✅ OK: prod-web-1-cpu" in out.stdout
    assert "Time: 2024-05-14 07:32:05 UTC" in out.stdout


def test_with_a_webhook_url_it_posts_there_and_never_prints_the_url() -> None:
    with FakeSlack() as slack:
        url = slack.url
        out = run(SLACK_WEBHOOK_URL=url)
        assert out.returncode == 0, out.stderr
        (body,) = slack.requests
    assert body == payload_from(out.stdout.rsplit("\n\nhandler returned", 1)[0])
    assert url not in out.stdout + out.stderr


def test_a_failed_delivery_exits_non_zero() -> None:
    with FakeSlack() as slack:
        slack.script([(404, "no_service")])
        out = run(SLACK_WEBHOOK_URL=slack.url)
    assert out.returncode == 1
    assert "not delivered: permanent_error (HTTP 404)" in out.stderr


def test_a_missing_event_file_is_a_clear_error() -> None:
    out = run("--event", "no/such/event.json")
    assert out.returncode == 2
    assert "cannot read event" in out.stderr


def test_a_mistyped_timezone_is_delivered_with_the_note_in_the_preview() -> None:
    out = run(TIMEZONE="Asia/Seol")
    assert out.returncode == 0, out.stderr
    preview = out.stdout.split("── JSON payload ──", 1)[0]
    assert "┃ Time: 2024-05-14 07:21:04 UTC" in preview
    assert "TIMEZONE='Asia/Seol' is not a known IANA time zone name" in preview
    assert '"outcome": "delivered"' in out.stderr
