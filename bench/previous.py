"""The previous release's handler, taken from git history, for side-by-side figures.

v0.2 has no tag: it is the commit that ended that round on main. `make bench` needs the full
history (a shallow clone gives a "not measured" row instead of a figure).
"""

from __future__ import annotations

import io
import shutil
import subprocess
import tarfile
from pathlib import Path

from common import BUILD_DIR, REPO_ROOT

PREVIOUS_RELEASE = "v0.2"
PREVIOUS_COMMIT = "b5d6cbc"  # main at the end of the v0.2 round (before formatting.py)


class PreviousReleaseMissing(RuntimeError):
    """The previous release's commit is not in this clone's history."""


def lambda_dir(commit: str = PREVIOUS_COMMIT, release: str = PREVIOUS_RELEASE) -> Path:
    """lambda/ as it was at `commit`, unpacked under build/bench/<release>/lambda."""
    archive = subprocess.run(
        ["git", "archive", "--format=tar", commit, "lambda"],
        cwd=REPO_ROOT,
        capture_output=True,
        check=False,
    )
    if archive.returncode != 0:
        raise PreviousReleaseMissing(
            f"{release} ({commit}) is not in this clone: {archive.stderr.decode().strip()[:200]}"
        )
    root = BUILD_DIR / release
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(root, filter="data")
    return root / "lambda"
