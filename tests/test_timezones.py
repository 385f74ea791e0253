"""timezones.tf (the IANA names `timezone` is validated against) is generated and current."""

from __future__ import annotations

import subprocess
import sys
import zoneinfo
from pathlib import Path

from support import REPO_ROOT

SCRIPT = REPO_ROOT / "scripts" / "timezones.py"


def generated_names() -> list[str]:
    text = (REPO_ROOT / "timezones.tf").read_text(encoding="utf-8")
    body = text[text.index("iana_time_zones = [") : text.rindex("]")]
    return [part.strip().strip('"') for part in body.split("[", 1)[1].split(",") if part.strip()]


def test_timezones_tf_is_current() -> None:
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--check"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, f"run `make docs`: {result.stderr}"


def test_timezones_tf_lists_every_zone_python_knows_and_nothing_else() -> None:
    names = generated_names()
    assert names == sorted(names)
    assert set(names) == set(zoneinfo.available_timezones()) | {"UTC"}
    assert {"UTC", "Asia/Seoul", "America/New_York"} <= set(names)
    assert not {"Asia/Seol", "KST"} & set(names)


def test_the_check_fails_on_a_stale_file(tmp_path: Path) -> None:
    import importlib.util  # noqa: PLC0415 - only this test loads the script as a module

    spec = importlib.util.spec_from_file_location("timezones_script", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    stale = tmp_path / "timezones.tf"
    stale.write_text(module.render({"UTC", "Asia/Seoul"}), encoding="utf-8")
    module.TARGET = stale
    assert module.main(["--check"]) == 1
    assert module.main(["--write"]) == 0
    assert module.main(["--check"]) == 0
