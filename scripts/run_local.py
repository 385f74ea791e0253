"""`make run`: feed a sample CloudWatch alarm through the real handler and show the Slack message.

Without SLACK_WEBHOOK_URL (and without SLACK_WEBHOOK_SSM_PARAMETER) it posts to a local fake
Slack that it starts and always stops, then prints a terminal preview of the message and the
exact JSON payload Slack received. With SLACK_WEBHOOK_URL set it posts to that webhook for real.
Every other setting comes from the environment as in Lambda, e.g.
`TIMEZONE=Asia/Seoul MESSAGE_LANGUAGE=ko make run` or `make run EVENT=examples/events/sns-ok.json`.
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
            elif kind == "actions":
                for element in block.get("elements", []):
                    button = slack_to_terminal(element["text"]["text"], style)
                    body.append(f"[{button}] {style.dim(element.get('url', ''))}")
            body.append("")
        lines += [f"{bar} {line}".rstrip() for entry in body[:-1] for line in entry.split("\n")]
    extras = {k: payload[k] for k in ("channel", "username", "icon_emoji") if k in payload}
    if extras:
        lines.append(style.dim(f"(overrides, honoured by legacy webhooks only: {extras})"))
    return "\n".join(lines)


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
    print(style_summary(result))
    return True


def style_summary(result: dict[str, int]) -> str:
    return (
        f"handler returned: {result['delivered']} delivered, {result['failed']} failed, "
        f"{result['records']} record(s)"
    )


def run_fake(event: object, fake: FakeSlack, style: Style) -> int:
    print(style.dim("posting to a local fake Slack (set SLACK_WEBHOOK_URL to post for real)"))
    ok = invoke(event)
    if not fake.requests:
        print("(nothing was posted: the event held no records)")
    for number, payload in enumerate(fake.requests, start=1):
        print()
        print(style.bold(f"── Slack would show (message {number}) ──"))
        print(preview(payload, style))
        print()
        print(style.bold("── JSON payload ──"))
        print(json.dumps(payload, indent=2, ensure_ascii=False))
    return 0 if ok else 1


def run_real(event: object, style: Style) -> int:
    try:
        settings = handler.get_settings()
    except ConfigError as exc:
        print(f"error: configuration: {exc}", file=sys.stderr)
        return 2
    print(style.dim("posting to the configured Slack webhook (the URL is not shown)"))
    for alarm in parse_event(event):
        payload = format_message(alarm, settings)
        print()
        print(style.bold("── Message ──"))
        print(preview(payload, style))
        print()
        print(style.bold("── JSON payload ──"))
        print(json.dumps(payload, indent=2, ensure_ascii=False))
    print()
    return 0 if invoke(event) else 1


if __name__ == "__main__":
    sys.exit(main())
