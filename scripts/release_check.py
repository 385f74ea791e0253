"""Check that a release's version agrees everywhere: CHANGELOG.md, pyproject.toml, README/docs refs.

    python3 scripts/release_check.py           # the three agree with each other
    python3 scripts/release_check.py v0.2.0    # ... and with the tag about to be created

Stdlib only, so it runs before any virtualenv exists. Exit 0 when everything agrees, 1 with one
line per disagreement otherwise (see CONTRIBUTING.md, "Release checklist").
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
SEMVER = r"\d+\.\d+\.\d+"
RELEASE_HEADING = re.compile(rf"^## \[({SEMVER})\] - \d{{4}}-\d{{2}}-\d{{2}}\s*$", re.MULTILINE)
GIT_REF = re.compile(rf"\?ref=v({SEMVER})\b")


def latest_changelog_release(changelog: str) -> str | None:
    """The version of the first (newest) released section, or None when there is none."""
    match = RELEASE_HEADING.search(changelog)
    return match.group(1) if match else None


def pyproject_version(pyproject: str) -> str:
    return str(tomllib.loads(pyproject)["project"]["version"])


def readme_refs(repo_root: Path) -> dict[str, set[str]]:
    """Versions in `?ref=vX.Y.Z` Git sources, by README or docs page (relative path)."""
    readmes = [
        repo_root / "README.md",
        repo_root / "README.ko.md",
        *sorted(repo_root.glob("docs/**/*.md")),
        *sorted(repo_root.glob("examples/*/README.md")),
        *sorted(repo_root.glob("modules/*/README.md")),
    ]
    refs = {}
    for readme in readmes:
        if not readme.is_file():  # a copy of the repository may hold only some of them
            continue
        found = set(GIT_REF.findall(readme.read_text(encoding="utf-8")))
        if found:
            refs[readme.relative_to(repo_root).as_posix()] = found
    return refs


def problems(repo_root: Path, tag: str | None = None) -> list[str]:
    """Every disagreement between the CHANGELOG, pyproject.toml, the READMEs and the tag."""
    changelog = (repo_root / "CHANGELOG.md").read_text(encoding="utf-8")
    found: list[str] = []
    if "## [Unreleased]" not in changelog:
        found.append("CHANGELOG.md has no `## [Unreleased]` section")
    released = latest_changelog_release(changelog)
    if released is None:
        found.append("CHANGELOG.md has no `## [X.Y.Z] - YYYY-MM-DD` release heading")
        return found
    version = pyproject_version((repo_root / "pyproject.toml").read_text(encoding="utf-8"))
    if version != released:
        found.append(f"pyproject.toml says {version}, the CHANGELOG's latest release is {released}")
    refs = readme_refs(repo_root)
    if "README.md" not in refs:
        found.append("README.md pins no `?ref=vX.Y.Z` Git source")
    for readme, versions in refs.items():
        for other in sorted(versions - {released}):
            found.append(
                f"{readme} pins ?ref=v{other}, the CHANGELOG's latest release is {released}"
            )
    if tag is not None and tag != f"v{released}":
        found.append(f"tag {tag} is not v{released}, the CHANGELOG's latest release")
    return found


def main(argv: list[str]) -> int:
    if len(argv) > 1 or (argv and not re.fullmatch(rf"v{SEMVER}", argv[0])):
        print("usage: release_check.py [vX.Y.Z]", file=sys.stderr)
        return 2
    found = problems(REPO_ROOT, argv[0] if argv else None)
    for problem in found:
        print(f"release: {problem}", file=sys.stderr)
    if not found:
        version = latest_changelog_release((REPO_ROOT / "CHANGELOG.md").read_text("utf-8"))
        print(f"release v{version}: CHANGELOG.md, pyproject.toml and the READMEs agree")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
