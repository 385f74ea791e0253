"""Paths and small statistics shared by the benchmark modules."""

from __future__ import annotations

import statistics
import sys
from collections.abc import Sequence
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
LAMBDA_DIR = REPO_ROOT / "lambda"
EVENTS_DIR = REPO_ROOT / "examples" / "events"
TESTS_DIR = REPO_ROOT / "tests"
BENCH_DIR = REPO_ROOT / "bench"
BUILD_DIR = REPO_ROOT / "build" / "bench"

# A syntactically valid webhook URL for code paths that only need one to be configured.
DUMMY_WEBHOOK_URL = "https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX"


def use_repo_paths() -> None:
    """Make `support.*` (tests/support) and the handler modules (lambda/) importable."""
    for path in (TESTS_DIR, LAMBDA_DIR):
        if str(path) not in sys.path:
            sys.path.insert(0, str(path))


def median(values: Sequence[float]) -> float:
    """The median of a non-empty sequence."""
    return statistics.median(values)


def percentile(values: Sequence[float], pct: float) -> float:
    """The pct-th percentile (nearest rank) of a non-empty sequence."""
    ordered = sorted(values)
    rank = max(1, round(pct / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]
