"""Test helpers: fakes and stand-ins shared by the unit, e2e and bench code."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
EVENTS_DIR = REPO_ROOT / "examples" / "events"


def load_event(name: str) -> Any:
    """A sample event from examples/events/ by file name (with or without .json)."""
    path = EVENTS_DIR / (name if name.endswith(".json") else f"{name}.json")
    return json.loads(path.read_text(encoding="utf-8"))
