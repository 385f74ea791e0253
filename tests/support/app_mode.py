"""Helpers for Slack app mode tests: a shared fake clock and alarm records to play."""

from __future__ import annotations

import json
import threading
from typing import Any

from support import load_event


class SharedClock:
    """A clock that moves only when someone sleeps; shared by the code and the fake Web API."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self.now += max(0.0, seconds)


def sns_alarm_event(
    state: str,
    *,
    message_id: str,
    name: str = "prod-web-1-cpu",
    time: str = "2024-05-14T07:21:04.987+0000",
    account: str = "123456789012",
    region: str = "ap-northeast-2",
) -> dict[str, Any]:
    """A one-record SNS event for `name` entering `state` (from sns-alarm-cpu-high.json)."""
    event = load_event("sns-alarm-cpu-high")
    record = event["Records"][0]
    message = json.loads(record["Sns"]["Message"])
    message.update(
        AlarmName=name,
        NewStateValue=state,
        OldStateValue="OK" if state != "OK" else "ALARM",
        StateChangeTime=time,
        AWSAccountId=account,
        AlarmArn=f"arn:aws:cloudwatch:{region}:{account}:alarm:{name}",
    )
    record["Sns"]["Message"] = json.dumps(message)
    record["Sns"]["MessageId"] = message_id
    return event
