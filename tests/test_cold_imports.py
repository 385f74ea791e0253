"""What a webhook-mode cold start imports: only the modules a lone alert needs (issue: cold start
back to the bare handler's). The time itself is a `make bench` figure, never a test."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from support import REPO_ROOT
from support.fake_slack import FakeSlack

LAMBDA_DIR = Path(REPO_ROOT, "lambda")
OWN_MODULES = {p.stem for p in LAMBDA_DIR.glob("*.py")}
# What one lone webhook alert needs: parse, group, render one message, post it.
WEBHOOK_PATH = {
    "handler", "alarm", "text", "records", "grouping", "render", "formatting", "message",
    "settings", "delivery", "slack",
}  # fmt: skip
# Never on the webhook path: Slack app mode, digests, graphs, and the costly stdlib modules.
NEVER_ON_WEBHOOK_PATH = {
    "digest", "app_mode", "slack_app", "slack_api", "state", "lifecycle", "routing", "graph",
    "slack_files",
    "boto3", "botocore", "dataclasses", "typing", "inspect",
}  # fmt: skip

# -I: no user site and no PYTHON* variables; -B: no bytecode written into lambda/.
PROBE = """\
import json, sys
sys.path.insert(0, sys.argv[1])
import handler
after_import = sorted(sys.modules)
event = json.loads(sys.argv[2]) if len(sys.argv) > 2 else None
result = handler.lambda_handler(event, None) if event is not None else None
print(json.dumps({"import": after_import, "invoke": sorted(sys.modules), "result": result}))
"""


def _cold_start(webhook_url: str, event: object = None) -> dict[str, object]:
    argv = [sys.executable, "-I", "-B", "-c", PROBE, str(LAMBDA_DIR)]
    if event is not None:
        argv.append(json.dumps(event))
    out = subprocess.run(
        argv,
        capture_output=True,
        text=True,
        check=True,
        env={"SLACK_WEBHOOK_URL": webhook_url, "TIMEZONE": "Asia/Seoul", "PATH": ""},
    )
    return json.loads(out.stdout)


def _own(modules: object) -> set[str]:
    assert isinstance(modules, list)
    return {m for m in modules if m in OWN_MODULES}


def test_importing_the_handler_loads_only_the_webhook_path(fake_slack: FakeSlack) -> None:
    seen = _cold_start(fake_slack.url)
    assert _own(seen["import"]) == WEBHOOK_PATH
    assert NEVER_ON_WEBHOOK_PATH.isdisjoint(seen["import"])  # type: ignore[arg-type]


def test_a_lone_webhook_alert_loads_nothing_more_of_ours(fake_slack: FakeSlack) -> None:
    event = json.loads((REPO_ROOT / "examples/events/sns-alarm-cpu-high.json").read_text())
    seen = _cold_start(fake_slack.url, event)
    assert seen["result"] == {"records": 1, "delivered": 1, "failed": 0}
    assert _own(seen["invoke"]) == WEBHOOK_PATH
    assert NEVER_ON_WEBHOOK_PATH.isdisjoint(seen["invoke"])  # type: ignore[arg-type]
    assert len(fake_slack.requests) == 1


def test_a_storm_batch_loads_the_digest_renderer_when_it_needs_it(fake_slack: FakeSlack) -> None:
    event = json.loads((REPO_ROOT / "examples/events/sqs-storm-batch.json").read_text())
    seen = _cold_start(fake_slack.url, event)
    assert "digest" not in seen["import"]  # type: ignore[operator]
    assert "digest" in seen["invoke"]  # type: ignore[operator]
