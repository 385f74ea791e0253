"""Cold start: wall time to import a handler module in a fresh interpreter (the Lambda init phase).

Both the real handler and the bare baseline are imported from directories laid out like
/var/task: the real handler from the unpacked deployment zip, the baseline from a copy of
bench/baseline_handler.py. Python runs with -I (no user site, no PYTHON* variables) and -B (no
.pyc written), so each import compiles our sources as on Lambda, whose /var/task is read-only.
Runs alternate handler/baseline so drift on a shared machine hits both alike.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from common import BENCH_DIR, BUILD_DIR, DUMMY_WEBHOOK_URL, median

# Measured inside the child: only sys and time (both built in) are loaded before the clock starts.
PROBE = """\
import sys, time
sys.path.insert(0, {path!r})
started = time.perf_counter()
import {module}
elapsed = time.perf_counter() - started
print(elapsed, int("boto3" in sys.modules), int("botocore" in sys.modules))
"""

# Import, then the first invocation. The event is decoded before the clock starts, as the
# Lambda runtime hands the handler a decoded event (and has imported json itself).
FIRST_INVOKE_PROBE = """\
import json, sys, time
sys.path.insert(0, {path!r})
event = json.loads({event_json!r})
started = time.perf_counter()
import {module}
{module}.lambda_handler(event, None)
elapsed = time.perf_counter() - started
print(elapsed, int("boto3" in sys.modules), int("botocore" in sys.modules))
"""

_IMPORTTIME = re.compile(r"^import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)$")


@dataclass(frozen=True)
class ColdStart:
    """Median import times (seconds) of the handler and the baseline, and what got imported."""

    handler_seconds: float
    baseline_seconds: float
    runs: int
    boto3_imported: bool
    botocore_imported: bool
    # (module, cumulative µs) imported by the handler but not by the baseline, heaviest first
    heaviest_extra_imports: tuple[tuple[str, int], ...]
    # Import plus the first invocation posting to a local fake Slack (None when not measured).
    handler_first_seconds: float | None = None
    baseline_first_seconds: float | None = None
    # The previous release's handler, imported in the same alternation (None when not measured).
    previous_seconds: float | None = None

    @property
    def previous_ratio(self) -> float | None:
        """previous release / baseline."""
        return (
            None if self.previous_seconds is None else self.previous_seconds / self.baseline_seconds
        )

    @property
    def ratio(self) -> float:
        """handler / baseline."""
        return self.handler_seconds / self.baseline_seconds


def probe_env(base: Mapping[str, str] | None = None) -> dict[str, str]:
    """A Lambda-like environment on the webhook-URL path (no SSM parameter)."""
    env = dict(os.environ if base is None else base)
    for name in list(env):
        if name.startswith(("SLACK_", "PYTHON")):
            del env[name]
    env.update(
        {
            "SLACK_WEBHOOK_URL": DUMMY_WEBHOOK_URL,
            "AWS_REGION": "us-east-1",
            "AWS_LAMBDA_FUNCTION_NAME": "alarm-to-slack-bench",
            "LOG_LEVEL": "INFO",
        }
    )
    return env


def _layout(package_zip: Path) -> tuple[Path, Path]:
    """Unpack the handler zip and copy the baseline into fresh /var/task-like directories."""
    root = BUILD_DIR / "cold-start"
    shutil.rmtree(root, ignore_errors=True)
    handler_dir, baseline_dir = root / "handler", root / "baseline"
    with zipfile.ZipFile(package_zip) as archive:
        archive.extractall(handler_dir)
    baseline_dir.mkdir(parents=True)
    shutil.copy2(BENCH_DIR / "baseline_handler.py", baseline_dir / "baseline_handler.py")
    return handler_dir, baseline_dir


def _probe(
    path: Path, module: str, env: Mapping[str, str], event_json: str | None = None
) -> tuple[float, bool, bool]:
    if event_json is None:
        code = PROBE.format(path=str(path), module=module)
    else:
        code = FIRST_INVOKE_PROBE.format(path=str(path), module=module, event_json=event_json)
    result = subprocess.run(
        [sys.executable, "-I", "-B", "-c", code],
        capture_output=True,
        text=True,
        env=dict(env),
        check=False,
        timeout=60,
    )
    if result.returncode != 0:
        raise RuntimeError(f"importing {module} failed:\n{result.stderr}")
    seconds, boto3, botocore = result.stdout.split()
    return float(seconds), boto3 == "1", botocore == "1"


def _imported_modules(path: Path, module: str, env: Mapping[str, str]) -> dict[str, int]:
    """Every module `-X importtime` reports for `import module`, with its cumulative µs."""
    code = f"import sys; sys.path.insert(0, {str(path)!r}); import {module}"
    result = subprocess.run(
        [sys.executable, "-I", "-B", "-X", "importtime", "-c", code],
        capture_output=True,
        text=True,
        env=dict(env),
        check=False,
        timeout=60,
    )
    found: dict[str, int] = {}
    for line in result.stderr.splitlines():
        match = _IMPORTTIME.match(line)
        if match:
            found[match.group(4)] = int(match.group(2))
    return found


def measure(
    package_zip: Path,
    runs: int = 25,
    *,
    webhook_url: str | None = None,
    event_json: str | None = None,
    previous_dir: Path | None = None,
) -> ColdStart:
    """Import the handler and the baseline `runs` times each, alternating, in fresh processes.

    With a webhook URL and an SNS event, also time import + first invocation the same way; with
    the previous release's lambda/ directory, import its handler in the same alternation.
    """
    handler_dir, baseline_dir = _layout(package_zip)
    env = probe_env()
    handler_times: list[float] = []
    baseline_times: list[float] = []
    previous_times: list[float] = []
    if previous_dir is not None:
        _probe(previous_dir, "handler", env)
    boto3 = botocore = False
    # One warm-up each so the OS page cache holds the interpreter and stdlib for both.
    _probe(handler_dir, "handler", env)
    _probe(baseline_dir, "baseline_handler", env)
    first = webhook_url is not None and event_json is not None
    first_env = {**env, "SLACK_WEBHOOK_URL": webhook_url or ""}
    handler_first: list[float] = []
    baseline_first: list[float] = []
    for _ in range(runs):
        seconds, got_boto3, got_botocore = _probe(handler_dir, "handler", env)
        handler_times.append(seconds)
        boto3, botocore = boto3 or got_boto3, botocore or got_botocore
        baseline_times.append(_probe(baseline_dir, "baseline_handler", env)[0])
        if previous_dir is not None:
            previous_times.append(_probe(previous_dir, "handler", env)[0])
        if first:
            seconds, got_boto3, got_botocore = _probe(handler_dir, "handler", first_env, event_json)
            handler_first.append(seconds)
            boto3, botocore = boto3 or got_boto3, botocore or got_botocore
            baseline_first.append(
                _probe(baseline_dir, "baseline_handler", first_env, event_json)[0]
            )
    handler_modules = _imported_modules(handler_dir, "handler", env)
    baseline_modules = _imported_modules(baseline_dir, "baseline_handler", env)
    extra = sorted(
        ((name, us) for name, us in handler_modules.items() if name not in baseline_modules),
        key=lambda item: -item[1],
    )
    return ColdStart(
        handler_seconds=median(handler_times),
        baseline_seconds=median(baseline_times),
        runs=runs,
        boto3_imported=boto3,
        botocore_imported=botocore,
        heaviest_extra_imports=tuple(extra),
        handler_first_seconds=median(handler_first) if first else None,
        baseline_first_seconds=median(baseline_first) if first else None,
        previous_seconds=median(previous_times) if previous_times else None,
    )
