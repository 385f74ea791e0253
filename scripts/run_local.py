"""`make run`: feed a sample CloudWatch alarm through the real handler and show the Slack message.

Without SLACK_WEBHOOK_URL (and without SLACK_WEBHOOK_SSM_PARAMETER) it posts to a local fake
Slack that it starts and always stops, then prints a terminal preview of the message and the
exact JSON payload Slack received. With SLACK_WEBHOOK_URL set it posts to that webhook for real.
Every other setting comes from the environment as in Lambda, e.g.
`TIMEZONE=Asia/Seoul MESSAGE_LANGUAGE=ko make run` or `make run EVENT=examples/events/sns-ok.json`.
Each message also gets a Slack Block Kit Builder link that shows it rendered by Slack itself.

Needs nothing but Python >= 3.11: the handler and the fake Slack use the standard library only.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import sys
from pathlib import Path
from typing import Any
from urllib.parse import quote

if sys.version_info < (3, 11):  # noqa: UP036 - say so instead of failing on an import
    sys.exit(f"error: make run needs Python >= 3.11, this is {sys.version.split()[0]}")

BLOCK_KIT_BUILDER = "https://app.slack.com/block-kit-builder/#"

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_EVENT = REPO_ROOT / "examples" / "events" / "sns-alarm-cpu-high.json"
sys.path[:0] = [str(REPO_ROOT / "lambda"), str(REPO_ROOT / "tests")]

import handler  # noqa: E402
from alarm import parse_event  # noqa: E402
from message import format_message  # noqa: E402
from settings import ConfigError  # noqa: E402
from support.fake_slack import FakeSlack  # noqa: E402

EMOJI = {
    ":rotating_light:": "🚨",
    ":white_check_mark:": "✅",
    ":grey_question:": "❔",
    ":information_source:": "ℹ️",  # noqa: RUF001
    ":incoming_envelope:": "📨",
    ":warning:": "⚠️",
}


class Style:
    """ANSI styling, off when stdout is not a terminal or NO_COLOR is set."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def _wrap(self, code: str, text: str) -> str:
        return f"\033[{code}m{text}\033[0m" if self.enabled else text

    def bold(self, text: str) -> str:
        return self._wrap("1", text)

    def dim(self, text: str) -> str:
        return self._wrap("2", text)

    def bar(self, color: str) -> str:
        match = re.fullmatch(r"#([0-9a-fA-F]{2})([0-9a-fA-F]{2})([0-9a-fA-F]{2})", color or "")
        if not self.enabled or match is None:
            return "┃"
        red, green, blue = (int(part, 16) for part in match.groups())
        return self._wrap(f"38;2;{red};{green};{blue}", "┃")


def slack_to_terminal(text: str, style: Style) -> str:
    """Render Slack mrkdwn roughly as Slack shows it: emoji, *bold*, entities, code fences."""
    for code, emoji in EMOJI.items():
        text = text.replace(code, emoji)
    text = re.sub(r"\*([^*\n]+)\*", lambda m: style.bold(m.group(1)), text)
    # A link shows its text only (<url|text>), as Slack renders it.
    text = re.sub(r"<[^<>|\s]+\|([^<>]+)>", lambda m: m.group(1), text)
    text = text.replace("```", "")
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def preview(payload: dict[str, Any], style: Style) -> str:
    """A readable terminal rendering of one Slack payload."""
    lines = [slack_to_terminal(payload.get("text", ""), style)]
    for attachment in payload.get("attachments", []):
        bar = style.bar(attachment.get("color", ""))
        body: list[str] = []
        for block in attachment.get("blocks", []):
            kind = block.get("type")
            if kind == "header":
                body.append(style.bold(slack_to_terminal(block["text"]["text"], style)))
            elif kind == "section" and "text" in block:
                body.append(slack_to_terminal(block["text"]["text"], style))
            elif kind == "section":
                for field in block.get("fields", []):
                    label, _, value = field["text"].partition("\n")
                    label = slack_to_terminal(label, style)
                    body.append(f"{label}: {slack_to_terminal(value, style)}")
            elif kind == "context":
                texts = [e.get("text", "") for e in block.get("elements", []) if "text" in e]
                body.append(style.dim(slack_to_terminal(" ".join(texts), style)))
            elif kind == "actions":
                for element in block.get("elements", []):
                    button = slack_to_terminal(element["text"]["text"], style)
                    body.append(f"[{button}] {style.dim(element.get('url', ''))}")
            elif kind == "context":
                for element in block.get("elements", []):
                    body.append(style.dim(slack_to_terminal(element.get("text", ""), style)))
            body.append("")
        lines += [f"{bar} {line}".rstrip() for entry in body[:-1] for line in entry.split("\n")]
    extras = {k: payload[k] for k in ("channel", "username", "icon_emoji") if k in payload}
    if extras:
        lines.append(style.dim(f"(overrides, honoured by legacy webhooks only: {extras})"))
    return "\n".join(lines)


def block_kit_builder_url(payload: dict[str, Any]) -> str:
    """A link that opens the payload's blocks and attachments in Slack's Block Kit Builder."""
    message = {key: payload[key] for key in ("blocks", "attachments") if key in payload}
    encoded = json.dumps(message, ensure_ascii=False, separators=(",", ":"))
    return BLOCK_KIT_BUILDER + quote(encoded, safe="")


def print_message(title: str, payload: dict[str, Any], style: Style) -> None:
    print()
    print(style.bold(f"── {title} ──"))
    print(preview(payload, style))
    print()
    print(style.bold("── JSON payload ──"))
    print(json.dumps(payload, indent=2, ensure_ascii=False))
    print()
    print(style.bold("── Rendered by Slack (Block Kit Builder) ──"))
    print(block_kit_builder_url(payload))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument(
        "--event", type=Path, default=DEFAULT_EVENT, help="a Lambda event JSON file"
    )
    parser.add_argument(
        "--scenario",
        help="play a Slack app mode scenario against a fake Web API instead (alarm-then-ok, ...)",
    )
    args = parser.parse_args(argv)
    style = Style(sys.stdout.isatty() and "NO_COLOR" not in os.environ)
    logging.basicConfig(level=logging.INFO, format="log: %(message)s", stream=sys.stderr)
    if args.scenario:
        from app_scenarios import run_scenario  # noqa: PLC0415

        return run_scenario(args.scenario, lambda payload: preview(payload, style), style.dim)

    try:
        event = json.loads(args.event.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        print(f"error: cannot read event {args.event}: {exc}", file=sys.stderr)
        return 2

    real = bool(
        os.environ.get("SLACK_WEBHOOK_URL", "").strip()
        or os.environ.get("SLACK_WEBHOOK_SSM_PARAMETER", "").strip()
    )
    print(style.dim(f"event: {args.event}"))
    if real:
        return run_real(event, style)
    with FakeSlack() as fake:
        os.environ["SLACK_WEBHOOK_URL"] = fake.url
        try:
            return run_fake(event, fake, style)
        finally:
            os.environ.pop("SLACK_WEBHOOK_URL", None)


def invoke(event: object) -> bool:
    try:
        result = handler.lambda_handler(event, None)
    except ConfigError as exc:
        print(f"error: configuration: {exc}", file=sys.stderr)
        return False
    except handler.DeliveryError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return False
    except ModuleNotFoundError as exc:
        if exc.name != "boto3":
            raise
        # Only the SSM webhook source needs boto3; the Lambda runtime ships it, make run does not.
        print(
            "error: SLACK_WEBHOOK_SSM_PARAMETER is read with boto3, which this Python lacks:"
            " install boto3 (and have AWS credentials), or set SLACK_WEBHOOK_URL instead",
            file=sys.stderr,
        )
        return False
    print(style_summary(result))
    return True


def style_summary(result: dict[str, object]) -> str:
    if "batchItemFailures" in result:
        failures = result["batchItemFailures"]
        return f"handler returned: {len(failures)} record(s) to retry (batchItemFailures)"
    return (
        f"handler returned: {result['delivered']} delivered, {result['failed']} failed, "
        f"{result['records']} record(s)"
    )


def run_fake(event: object, fake: FakeSlack, style: Style) -> int:
    # Settings first: a configuration error is the answer, not an empty fake Slack.
    try:
        handler.get_settings()
    except ConfigError as exc:
        print(f"error: configuration: {exc}", file=sys.stderr)
        return 2
    print(style.dim("posting to a local fake Slack (set SLACK_WEBHOOK_URL to post for real)"))
    ok = invoke(event)
    if ok and not fake.requests:
        print("(nothing was posted: the event held no records)")
    for number, payload in enumerate(fake.requests, start=1):
        print_message(f"Slack would show (message {number})", payload, style)
    return 0 if ok else 1


def run_real(event: object, style: Style) -> int:
    try:
        settings = handler.get_settings()
    except ConfigError as exc:
        print(f"error: configuration: {exc}", file=sys.stderr)
        return 2
    print(style.dim("posting to the configured Slack webhook (the URL is not shown)"))
    for alarm in parse_event(event):
        print_message("Message", format_message(alarm, settings), style)
    print()
    return 0 if invoke(event) else 1


if __name__ == "__main__":
    sys.exit(main())
