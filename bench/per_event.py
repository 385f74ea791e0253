"""Per-event cost: parse + format of each sample event (in process), and the whole handler
end to end against a local fake Slack on loopback (in a child process, which also reports RSS).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import timeit
from dataclasses import dataclass
from pathlib import Path

from common import BENCH_DIR, DUMMY_WEBHOOK_URL, EVENTS_DIR, median, percentile, use_repo_paths


@dataclass(frozen=True)
class EndToEnd:
    """Handler latency per invocation and the child's peak RSS, medians over `runs` processes."""

    p50_ms: float
    p99_ms: float
    peak_rss_mib: float
    events_per_run: int
    runs: int
    failures: int


def parse_format_micros(repeats: int = 9, target_seconds: float = 0.03) -> dict[str, float]:
    """Median µs per event of parse_event + format_message for every examples/events/*.json."""
    use_repo_paths()
    from alarm import parse_event  # noqa: PLC0415
    from message import format_message  # noqa: PLC0415
    from settings import load_settings  # noqa: PLC0415

    settings = load_settings({"SLACK_WEBHOOK_URL": DUMMY_WEBHOOK_URL})
    results: dict[str, float] = {}
    for path in sorted(EVENTS_DIR.glob("*.json")):
        event = json.loads(path.read_text())

        def parse_and_format(event: object = event) -> None:
            for alarm in parse_event(event):
                format_message(alarm, settings)

        timer = timeit.Timer(parse_and_format)
        one = timer.timeit(1) or 1e-6
        loops = max(1, int(target_seconds / one))
        samples = timer.repeat(repeat=repeats, number=loops)
        results[path.stem] = median(samples) / loops * 1e6
    return results


def end_to_end(events: int = 1000, runs: int = 3) -> EndToEnd:
    """Run bench/handler_worker.py `runs` times against a fault-free fake Slack."""
    use_repo_paths()
    from support.faulty_slack import FaultySlack  # noqa: PLC0415

    p50s, p99s, rss, failures = [], [], [], 0
    with FaultySlack() as fake, tempfile.TemporaryDirectory() as tmp:
        for run in range(runs):
            result_path = Path(tmp) / f"run-{run}.json"
            subprocess.run(
                [
                    sys.executable,
                    "-I",
                    "-B",
                    str(BENCH_DIR / "handler_worker.py"),
                    fake.url,
                    str(events),
                    str(result_path),
                ],
                stdout=subprocess.DEVNULL,
                check=True,
                timeout=600,
            )
            result = json.loads(result_path.read_text())
            times_ms = [s * 1000 for s in result["seconds"]]
            p50s.append(percentile(times_ms, 50))
            p99s.append(percentile(times_ms, 99))
            rss.append(result["peak_rss_kib"] / 1024)
            failures += result["failures"]
    return EndToEnd(median(p50s), median(p99s), median(rss), events, runs, failures)
