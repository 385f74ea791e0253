"""What a metric graph adds per alarm in app mode, and that the webhook path never loads it.

The GetMetricWidgetImage call is mocked with a fixed delay (ASSUMED_RENDER_SECONDS: AWS does not
publish a latency; 300-600 ms is what a rendered 800x400 PNG of one to three metrics typically
takes from a Lambda in the same region). The three Slack upload calls go over loopback HTTP to
the fake Web API in tests/support, so they measure our client's own cost, not Slack's network.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import timeit
from dataclasses import dataclass
from typing import Any

from common import EVENTS_DIR, LAMBDA_DIR, TESTS_DIR, median, use_repo_paths

ASSUMED_RENDER_SECONDS = (0.3, 0.6)
SHAPES = ("sns-alarm-cpu-high", "sns-metric-math-alarm", "sns-anomaly-detection-alarm")

# Run in a fresh interpreter from lambda/: one webhook-mode SNS alarm through the handler,
# then report which graph-related modules got imported.
_WEBHOOK_PROBE = """
import json, sys
sys.path[:0] = [{lambda_dir!r}, {tests!r}]
from support.fake_slack import FakeSlack
event = json.loads(open({event!r}).read())
with FakeSlack() as fake:
    import handler
    from settings import load_settings
    handler.handle_event(event, None, settings=load_settings({{"SLACK_WEBHOOK_URL": fake.url}}))
print(json.dumps({{m: m in sys.modules for m in ("graph", "slack_files", "boto3", "botocore")}}))
"""


@dataclass(frozen=True)
class GraphCost:
    """Medians, in seconds, per alarm with a graph."""

    widget_build: dict[str, float]
    added: dict[float, float]  # assumed render delay -> whole post_graph time
    runs: int


class DelayedCloudWatch:
    """get_metric_widget_image that sleeps like the real call and answers a small PNG."""

    def __init__(self, delay: float, png: bytes) -> None:
        self.delay = delay
        self.png = png

    def get_metric_widget_image(self, **kwargs: str) -> dict[str, Any]:
        json.loads(kwargs["MetricWidget"])
        time.sleep(self.delay)
        return {"MetricWidgetImage": self.png}


def _alarm(name: str) -> Any:  # noqa: ANN401 - alarm.Alarm, imported late
    from alarm import parse_event  # noqa: PLC0415

    (alarm,) = parse_event(json.loads((EVENTS_DIR / f"{name}.json").read_text()))
    return alarm


def measure(runs: int = 5) -> GraphCost:
    """widget_for per shape (µs scale) and post_graph end to end per assumed render delay."""
    use_repo_paths()
    from graph import post_graph, widget_for  # noqa: PLC0415
    from slack import RetryPolicy  # noqa: PLC0415
    from slack_api import SlackApi  # noqa: PLC0415
    from support.fake_slack_api import DEFAULT_TOKEN, FakeSlackApi  # noqa: PLC0415
    from support.moto_server import tiny_png  # noqa: PLC0415

    build: dict[str, float] = {}
    for shape in SHAPES:
        alarm = _alarm(shape)
        timer = timeit.Timer(lambda alarm=alarm: widget_for(alarm, tz="Asia/Seoul"))
        loops = 200
        build[shape] = median(timer.repeat(repeat=5, number=loops)) / loops

    # A real graph is 20-40 KB; the size matters for the byte upload, so send one that big.
    png = tiny_png(800, 400) + b"\x00" * 30_000
    alarm = _alarm("sns-alarm-cpu-high")
    added: dict[float, float] = {}
    with FakeSlackApi(channels={"C0ALERTS01": "alerts"}, min_interval=0.0) as fake:
        api = SlackApi(DEFAULT_TOKEN, base_url=fake.base_url, policy=RetryPolicy())
        for delay in ASSUMED_RENDER_SECONDS:
            client = DelayedCloudWatch(delay, png)
            samples = []
            for _ in range(runs):
                posted = api.post_message({"channel": "C0ALERTS01", "text": "x"}, deadline=None)
                started = time.perf_counter()
                outcome = post_graph(alarm, "C0ALERTS01", posted.ts, api=api, client=client)
                samples.append(time.perf_counter() - started)
                if not outcome.posted:
                    raise RuntimeError(f"graph not posted: {outcome}")
            added[delay] = median(samples)
    return GraphCost(build, added, runs)


def webhook_path_modules() -> dict[str, bool]:
    """Which of graph, slack_files, boto3, botocore one webhook-mode alarm imports."""
    code = _WEBHOOK_PROBE.format(
        lambda_dir=str(LAMBDA_DIR),
        tests=str(TESTS_DIR),
        event=str(EVENTS_DIR / "sns-alarm-cpu-high.json"),
    )
    result = subprocess.run(
        [sys.executable, "-I", "-B", "-c", code],
        cwd=LAMBDA_DIR,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])
