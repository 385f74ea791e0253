"""The release metadata agrees: CHANGELOG.md, pyproject.toml, the READMEs' ?ref= and the tag."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from support import REPO_ROOT

SCRIPT = REPO_ROOT / "scripts" / "release_check.py"
_spec = importlib.util.spec_from_file_location("release_check", SCRIPT)
assert _spec is not None
assert _spec.loader is not None
release_check = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(release_check)


def test_changelog_pyproject_and_readme_refs_agree() -> None:
    assert release_check.problems(REPO_ROOT) == []


def test_the_readme_pins_the_latest_release() -> None:
    changelog = (REPO_ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    released = release_check.latest_changelog_release(changelog)
    assert released is not None
    assert f"?ref=v{released}" in (REPO_ROOT / "README.md").read_text(encoding="utf-8")


def test_license_is_the_apache_2_text() -> None:
    text = (REPO_ROOT / "LICENSE").read_text(encoding="utf-8")
    assert "Apache License" in text
    assert "Version 2.0, January 2004" in text
    assert "END OF TERMS AND CONDITIONS" in text


@pytest.fixture
def release_copy(tmp_path: Path) -> Path:
    for name in ("CHANGELOG.md", "pyproject.toml", "README.md"):
        shutil.copy(REPO_ROOT / name, tmp_path / name)
    return tmp_path


def test_a_version_bumped_in_one_place_only_is_named(release_copy: Path) -> None:
    pyproject = release_copy / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace('version = "0.1.0"', 'version = "0.2.0"'), encoding="utf-8"
    )
    readme = release_copy / "README.md"
    readme.write_text(readme.read_text().replace("?ref=v0.1.0", "?ref=v0.1.1", 1))

    found = release_check.problems(release_copy)

    assert "pyproject.toml says 0.2.0, the CHANGELOG's latest release is 0.1.0" in found
    assert "README.md pins ?ref=v0.1.1, the CHANGELOG's latest release is 0.1.0" in found


def test_a_docs_page_or_the_korean_readme_pinning_another_version_is_named(
    release_copy: Path,
) -> None:
    # The long snippets live in docs/ now, and the Korean pages copy them: a release must move
    # their ?ref= too (CONTRIBUTING.md, step 3).
    (release_copy / "docs" / "ko").mkdir(parents=True)
    (release_copy / "docs" / "slack-app.md").write_text("?ref=v0.1.0 ?ref=v0.0.9\n")
    (release_copy / "docs" / "ko" / "quick-start.md").write_text("?ref=v0.0.8\n")
    (release_copy / "README.ko.md").write_text("?ref=v0.0.7\n")

    found = release_check.problems(release_copy)

    for page, pinned in (
        ("docs/slack-app.md", "0.0.9"),
        ("docs/ko/quick-start.md", "0.0.8"),
        ("README.ko.md", "0.0.7"),
    ):
        assert f"{page} pins ?ref=v{pinned}, the CHANGELOG's latest release is 0.1.0" in found


def test_a_new_changelog_release_needs_the_other_places_too(release_copy: Path) -> None:
    changelog = release_copy / "CHANGELOG.md"
    changelog.write_text(
        changelog.read_text().replace(
            "## [Unreleased]\n", "## [Unreleased]\n\n## [0.2.0] - 2027-01-01\n", 1
        )
    )
    found = release_check.problems(release_copy)
    assert any("pyproject.toml says 0.1.0" in problem for problem in found)


def test_the_script_checks_the_tag_name() -> None:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, str(SCRIPT), *args], capture_output=True, text=True, check=False
        )

    released = release_check.latest_changelog_release(
        (REPO_ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    )
    good = run(f"v{released}")
    assert good.returncode == 0, good.stderr
    bad = run("v9.9.9")
    assert bad.returncode == 1
    assert f"tag v9.9.9 is not v{released}" in bad.stderr
    assert run("9.9.9").returncode == 2
