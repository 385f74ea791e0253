"""Child process for the end-to-end figures: N invocations of the real entry point, then peak RSS.

    python -I -B bench/handler_worker.py WEBHOOK_URL COUNT RESULT_JSON

Imports the handler the way Lambda does (environment first, then `import handler`), invokes
`handler.lambda_handler` COUNT times cycling through examples/events/*.json, logs as the Lambda
Python runtime does (INFO lines to stdout, which the parent discards), and writes per-invocation
seconds, failures and ru_maxrss to RESULT_JSON. Only this process's own memory is counted: the
fake Slack runs in the parent.
"""

from __future__ import annotations

import json
import logging
import os
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str]) -> int:
    """Run the invocations and write the result file."""
    url, count, result_path = argv[0], int(argv[1]), Path(argv[2])
    os.environ["SLACK_WEBHOOK_URL"] = url
    os.environ.pop("SLACK_WEBHOOK_SSM_PARAMETER", None)
    sys.path[:0] = [str(ROOT / "lambda"), str(ROOT / "tests")]
    logging.basicConfig(stream=sys.stdout, level=logging.INFO)

    import handler  # noqa: PLC0415 -- after the environment is set, as on Lambda
    from support.faulty_slack import LambdaContext  # noqa: PLC0415

    events = [
        json.loads(path.read_text()) for path in sorted((ROOT / "examples/events").glob("*.json"))
    ]
    seconds: list[float] = []
    failures = 0
    for index in range(count):
        event = events[index % len(events)]
        started = time.perf_counter()
        try:
            handler.lambda_handler(event, LambdaContext())
        except Exception:  # counted: the figure is about time and memory
            failures += 1
        seconds.append(time.perf_counter() - started)
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    result_path.write_text(
        json.dumps({"seconds": seconds, "failures": failures, "peak_rss_kib": peak_kib})
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
