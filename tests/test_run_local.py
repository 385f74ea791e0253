"""`make run` (scripts/run_local.py): the real handler, a fake Slack, a readable preview."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote

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
    after = stdout.split("── JSON payload ──\n", 1)[1]
    return json.loads(after.split("\n\n── ", 1)[0])


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


def test_each_message_links_to_the_block_kit_builder_with_the_exact_payload() -> None:
    out = run(TIMEZONE="Asia/Seoul", MESSAGE_LANGUAGE="ko")
    assert out.returncode == 0, out.stderr
    link = out.stdout.split("── Rendered by Slack (Block Kit Builder) ──\n", 1)[1].split("\n")[0]
    prefix = "https://app.slack.com/block-kit-builder/#"
    assert link.startswith(prefix)
    assert " " not in link
    assert "#" not in link.removeprefix(prefix)
    assert "%7B" in link
    shown = json.loads(unquote(link.removeprefix(prefix)))
    assert shown == {"attachments": payload_from(out.stdout)["attachments"]}


def test_a_bad_time_zone_still_delivers_and_the_message_says_why_times_are_utc() -> None:
    # A display setting never stops delivery: the message goes out in UTC with a note, and the
    # handler's warning is in the log.
    out = run(TIMEZONE="Asia/Seol")
    assert out.returncode == 0, out.stderr
    assert "TIMEZONE='Asia/Seol' is not a known IANA time zone name" in out.stdout
    assert "TIMEZONE='Asia/Seol' is not a known IANA time zone name" in out.stderr
    assert "Slack would show (message 1)" in out.stdout
    assert "held no records" not in out.stdout


def test_an_unknown_message_language_still_delivers_in_english_with_a_note() -> None:
    out = run(MESSAGE_LANGUAGE="fr")
    assert out.returncode == 0, out.stderr
    assert "MESSAGE_LANGUAGE='fr' is not supported" in out.stdout
    assert "Alarm name" in out.stdout


def test_an_unusable_webhook_url_is_a_configuration_error_without_the_value() -> None:
    out = run(SLACK_WEBHOOK_URL="http://hooks.slack.com/services/T0/B0/secret-part")
    assert out.returncode == 2
    assert "error: configuration: SLACK_WEBHOOK_URL must be an https:// URL" in out.stderr
    assert "secret-part" not in out.stdout + out.stderr
    assert "held no records" not in out.stdout


def test_the_ssm_webhook_source_without_boto3_says_what_is_missing() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "AWS_"))}
    env["SLACK_WEBHOOK_SSM_PARAMETER"] = "/alerts/slack-webhook"
    out = subprocess.run(
        [str(Path(sys.base_prefix) / "bin" / "python3"), "-S", str(SCRIPT)],
        capture_output=True,
        text=True,
        check=False,
        env=env,
        timeout=60,
    )
    assert out.returncode == 1
    assert "boto3" in out.stderr
    assert "Traceback" not in out.stderr


def test_both_webhook_sources_set_is_named() -> None:
    out = run(
        SLACK_WEBHOOK_URL="https://hooks.slack.com/services/T0/B0/X",
        SLACK_WEBHOOK_SSM_PARAMETER="/x",
    )
    assert out.returncode == 2
    assert "SLACK_WEBHOOK_URL and SLACK_WEBHOOK_SSM_PARAMETER" in out.stderr
    assert "hooks.slack.com" not in out.stdout + out.stderr


def _source_tree_copy(target: Path) -> Path:
    """The repository's files as a fresh clone has them (tracked and new, nothing ignored)."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=REPO_ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = REPO_ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    return target


def test_make_run_in_a_fresh_clone_needs_only_python(tmp_path: Path) -> None:
    make = shutil.which("make")
    assert make is not None, "make is not installed"
    clone = _source_tree_copy(tmp_path / "clone")
    assert not (clone / ".venv").exists()
    # The interpreter the virtualenv was made from, with -S: no site-packages at all, so the run
    # proves that the handler, the fake Slack and the preview need the standard library only.
    python = Path(sys.base_prefix) / "bin" / "python3"
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("SLACK_", "TIMEZONE", "MESSAGE_", "ALARM_", "VENV", "MAKE"))
    }
    env["NO_COLOR"] = "1"

    result = subprocess.run(
        [make, "run", f"PYTHON={python} -S"],
        cwd=clone,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "Slack would show (message 1)" in result.stdout
    assert "┃ 🚨 ALARM: prod-web-1-cpu" in result.stdout
    assert "https://app.slack.com/block-kit-builder/#" in result.stdout
    assert "pip install" not in result.stdout + result.stderr
    assert not (clone / ".venv").exists(), "make run created a virtualenv"


def test_a_mistyped_timezone_is_delivered_with_the_note_in_the_preview() -> None:
    out = run(TIMEZONE="Asia/Seol")
    assert out.returncode == 0, out.stderr
    preview = out.stdout.split("── JSON payload ──", 1)[0]
    assert "┃ Time: 2024-05-14 07:21:04 UTC" in preview
    assert "TIMEZONE='Asia/Seol' is not a known IANA time zone name" in preview
    assert '"outcome": "delivered"' in out.stderr
