"""`make run SCENARIO=...`: play alarms through the handler in Slack app mode, show the channels.

The handler runs as in Lambda (app mode, one container for the whole scenario) against a local
fake Slack Web API, with the state kept in memory instead of DynamoDB. Standard library only.
"""

from __future__ import annotations

import copy
import json
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
EVENTS = REPO_ROOT / "examples" / "events"
for path in (REPO_ROOT / "lambda", REPO_ROOT / "tests"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

import handler  # noqa: E402
from settings import ConfigError, load_settings  # noqa: E402
from support.fake_slack_api import DEFAULT_TOKEN, FakeSlackApi  # noqa: E402
from support.memory_state import MemoryState  # noqa: E402

CHANNELS = {"C0ALERTS01": "alerts", "C0DATABASE": "db-oncall"}
ROUTES = [{"channel_id": "C0DATABASE", "alarm_name_prefix": "prod-db-"}]


def _event(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / f"{name}.json").read_text(encoding="utf-8"))


def _sns_state(event: dict[str, Any], state: str, message_id: str, time: str) -> dict[str, Any]:
    """A copy of a one-record SNS alarm event with another state, id and time."""
    event = copy.deepcopy(event)
    sns = event["Records"][0]["Sns"]
    message = json.loads(sns["Message"])
    message.update(NewStateValue=state, StateChangeTime=time)
    sns["Message"], sns["MessageId"] = json.dumps(message), message_id
    return event


def _storm_oks(count: int) -> dict[str, Any]:
    """The first `count` alarms of sqs-storm-batch.json back to OK, 15 minutes later."""
    batch = _event("sqs-storm-batch")
    records = []
    for index, record in enumerate(batch["Records"][:count]):
        body = json.loads(record["body"])
        message = json.loads(body["Message"])
        message.update(NewStateValue="OK", OldStateValue="ALARM")
        message["StateChangeTime"] = message["StateChangeTime"].replace("T07:2", "T07:3")
        body.update(Message=json.dumps(message), MessageId=f"ok-{index}")
        records.append({**record, "messageId": f"ok-q-{index}", "body": json.dumps(body)})
    return {"Records": records}


def _scenarios() -> dict[str, tuple[str, list[tuple[str, dict[str, Any]]]]]:
    alarm = _event("sns-alarm-cpu-high")
    ok = _event("sns-ok")
    later = "2024-05-14T07:40:00.000+0000"
    return {
        "alarm-then-ok": (
            "An alarm fires, then recovers: one message, turned green in place, the OK in its "
            "thread.",
            [("ALARM", alarm), ("OK", ok)],
        ),
        "alarm-ok-alarm": (
            "It fires again after recovering (a new message), and again while open (a reply).",
            [
                ("ALARM", alarm),
                ("OK", ok),
                ("ALARM again", _sns_state(alarm, "ALARM", "again-1", later)),
                ("ALARM while open", _sns_state(alarm, "ALARM", "again-2", later)),
            ],
        ),
        "redelivery": (
            "SNS delivers the same notification twice: the second posts nothing.",
            [("ALARM", alarm), ("the same record again", alarm)],
        ),
        "storm": (
            "A storm batch becomes one digest; three alarms recover: replies in the digest's "
            "thread and its count goes down.",
            [("storm batch", _event("sqs-storm-batch")), ("3 OKs", _storm_oks(3))],
        ),
    }


SCENARIOS = sorted(_scenarios())


def _show_message(message: Any, preview: Callable[[dict], str], indent: str) -> list[str]:  # noqa: ANN401
    edited = " (edited)" if message.edited else ""
    lines = [f"{indent}{line}" for line in preview(message.content).split("\n")]
    lines[0] += edited
    return lines


def run_scenario(name: str, preview: Callable[[dict], str], dim: Callable[[str], str]) -> int:
    """Play the scenario and print every channel's messages and threads at the end."""
    scenarios = _scenarios()
    if name not in scenarios:
        print(f"error: unknown scenario {name!r}; one of: {', '.join(SCENARIOS)}", file=sys.stderr)
        return 2
    description, steps = scenarios[name]
    print(dim(f"scenario {name}: {description}"))
    print(dim("Slack app mode against a local fake Slack Web API; state in memory"))
    state = MemoryState()
    with FakeSlackApi(channels=CHANNELS) as fake:
        try:
            settings = load_settings(
                {
                    "SLACK_BOT_TOKEN_SSM_PARAMETER": "/local/slack-bot-token",
                    "SLACK_CHANNEL_ID": "C0ALERTS01",
                    "SLACK_ROUTES": json.dumps(ROUTES),
                    "SLACK_API_BASE_URL": fake.base_url,
                    "TIMEZONE": "UTC",
                }
            )
        except ConfigError as exc:
            print(f"error: configuration: {exc}", file=sys.stderr)
            return 2
        ok = True
        for label, event in steps:
            calls = len(fake.calls)
            try:
                result = handler.handle_event(
                    event, None, settings=settings, state=state, bot_token=DEFAULT_TOKEN
                )
            except handler.DeliveryError as exc:
                result, ok = {"error": str(exc)}, False
            made = [
                c.method + ("" if c.answer.get("ok") else f" ({c.answer.get('error')})")
                for c in fake.calls[calls:]
            ]
            print(
                f"→ {label}: handler returned {json.dumps(result)}; Web API calls: {made or 'none'}"
            )
        for channel, channel_name in CHANNELS.items():
            messages = fake.messages(channel)
            if not messages:
                continue
            print()
            print(f"══ #{channel_name} ({channel}) shows ══")
            for message in messages:
                print()
                print("\n".join(_show_message(message, preview, "")))
                for reply in message.replies:
                    print(
                        dim(
                            "  ↳ in thread"
                            + (" (also sent to the channel)" if reply.reply_broadcast else "")
                        )
                    )
                    print("\n".join(_show_message(reply, preview, "    ")))
    return 0 if ok else 1


def main(argv: list[str] | None = None) -> int:
    """Run one scenario by name (for a direct call; `make run` goes through run_local.py)."""
    logging.basicConfig(level=logging.WARNING, format="log: %(message)s", stream=sys.stderr)
    args = sys.argv[1:] if argv is None else argv
    return run_scenario(args[0] if args else "alarm-then-ok", json.dumps, str)


if __name__ == "__main__":
    sys.exit(main())
