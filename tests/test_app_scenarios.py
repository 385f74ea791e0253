"""`make run SCENARIO=...`: Slack app mode scenarios against the fake Web API, stdlib only."""

from __future__ import annotations

import subprocess
import sys

import pytest

from support import REPO_ROOT

SCRIPT = REPO_ROOT / "scripts" / "run_local.py"


def play(scenario: str) -> subprocess.CompletedProcess[str]:
    # -S: no site-packages, so the scenario must need nothing but the standard library. -B: the
    # environment is bare (no PYTHONPYCACHEPREFIX), so no bytecode is written next to lambda/.
    return subprocess.run(
        [sys.executable, "-S", "-B", str(SCRIPT), "--scenario", scenario],
        capture_output=True,
        text=True,
        check=False,
        env={"NO_COLOR": "1", "PATH": "/usr/bin:/bin"},
        timeout=120,
    )


def test_alarm_then_ok_shows_one_resolved_message_with_the_ok_in_its_thread() -> None:
    out = play("alarm-then-ok")
    assert out.returncode == 0, out.stderr
    shown = out.stdout.split("══ #alerts (C0ALERTS01) shows ══", 1)[1]
    assert shown.count("\n✅ Resolved after 11 min: prod-web-1-cpu (edited)") == 1
    assert shown.count("↳ in thread") == 1
    assert "    ✅ OK: prod-web-1-cpu" in shown
    assert "🚨" not in shown.split("┃")[0], "no second top-level message"


def test_redelivery_makes_no_web_api_call() -> None:
    out = play("redelivery")
    assert out.returncode == 0, out.stderr
    assert "→ the same record again: handler returned" in out.stdout
    assert (
        out.stdout.split("→ the same record again", 1)[1]
        .split("\n", 1)[0]
        .endswith("Web API calls: none")
    )


@pytest.mark.parametrize("scenario", ["alarm-ok-alarm", "storm"])
def test_other_scenarios_run(scenario: str) -> None:
    out = play(scenario)
    assert out.returncode == 0, out.stderr
    assert "shows ══" in out.stdout


def test_an_unknown_scenario_names_the_known_ones() -> None:
    out = play("nope")
    assert out.returncode == 2
    assert "alarm-then-ok" in out.stderr
