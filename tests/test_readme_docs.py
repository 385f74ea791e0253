"""The README is a landing page and docs/ holds the rest: nothing of the old manual is lost, every
relative link resolves, and the generated or measured blocks sit where their tools expect them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
README = REPO_ROOT / "README.md"
DOCS = REPO_ROOT / "docs"

FENCE = re.compile(r"^[ \t]*```.*?^[ \t]*```[ \t]*$", re.MULTILINE | re.DOTALL)
HEADING = re.compile(r"^(#{1,6}) (.+?)[ \t]*$", re.MULTILINE)
EXPLICIT_ANCHOR = re.compile(r'<a id="([^"]+)"></a>')
LINK = re.compile(r"\]\(([^)\s]+)\)")

# Every `##`/`###` heading of README.md as it stood before it became a landing page (taken from
# `git show main:README.md` at commit b5d6cbc), and the page and anchor that hold its text now.
# Frozen on purpose: a heading renamed or dropped later fails here, so the old links keep working.
OLD_README_HEADINGS = {
    "Quick start": "README.md#quick-start",
    "1. Add the module": "docs/quick-start.md#1-add-the-module",
    "2. Choose where the webhook URL lives": (
        "docs/quick-start.md#2-choose-where-the-webhook-url-lives"
    ),
    "3. Re-export the outputs you will use": (
        "docs/quick-start.md#3-re-export-the-outputs-you-will-use"
    ),
    "4. Apply": "docs/quick-start.md#4-apply",
    "5. See a message in Slack": "docs/quick-start.md#5-see-a-message-in-slack",
    "Examples": "README.md#examples",
    "EC2 alarms: defaults and overrides": "docs/ec2-alarms.md#ec2-alarms-defaults-and-overrides",
    "One map or one file per server": "docs/ec2-alarms.md#one-map-or-one-file-per-server",
    "Other metrics": "docs/ec2-alarms.md#other-metrics",
    "Alarm storms: the inbox queue": "docs/storms.md#alarm-storms-the-inbox-queue",
    "Alarms straight to Lambda": "docs/direct-mode.md#alarms-straight-to-lambda",
    "Alarm names": "docs/direct-mode.md#alarm-names",
    "IAM: role path, permissions boundary, an existing role": (
        "docs/security.md#iam-role-path-permissions-boundary-an-existing-role"
    ),
    "When delivery fails": "docs/delivery-failures.md#when-delivery-fails",
    "The Slack message": "docs/slack-message.md#the-slack-message",
    "Storm digests": "docs/storms.md#storm-digests",
    "Slack app mode: several channels, alerts resolved in place": (
        "docs/slack-app.md#slack-app-mode-several-channels-alerts-resolved-in-place"
    ),
    "Create the Slack app (5 steps)": "docs/slack-app.md#create-the-slack-app-5-steps",
    "Routing rules": "docs/slack-app.md#routing-rules",
    "What the table stores and what it costs": (
        "docs/slack-app.md#what-the-table-stores-and-what-it-costs"
    ),
    "When Slack says no": "docs/slack-app.md#when-slack-says-no",
    "Metric graphs (Slack app mode)": "docs/graphs.md#metric-graphs-slack-app-mode",
    "Every alarm of every account and region": (
        "docs/organization.md#every-alarm-of-every-account-and-region"
    ),
    "Cost on paper: 50 accounts \u00d7 3 regions \u00d7 200 alarms": (  # as GitHub shows it
        "docs/organization.md#cost-on-paper-50-accounts--3-regions--200-alarms"
    ),
    "Limits": "docs/organization.md#limits",
    "Limits and known gaps": "docs/limits.md#limits-and-known-gaps",
    "Cost on paper": "docs/cost.md#cost-on-paper",
    "Supported versions": "docs/upgrading.md#supported-versions",
    "Inputs": "README.md#inputs",
    "Outputs": "README.md#outputs",
    "Local development": "docs/development.md#local-development",
    "Offline Terraform: the provider mirror and the archive stand-in": (
        "docs/development.md#offline-terraform-the-provider-mirror-and-the-archive-stand-in"
    ),
    "Why the tests do not use `responses`": (
        "docs/development.md#why-the-tests-do-not-use-responses"
    ),
    "Benchmarks": "docs/benchmarks.md#benchmarks",
    "Storms, the package and plan time (this release)": (
        "docs/benchmarks.md#storms-the-package-and-plan-time-this-release"
    ),
    "Test suite time": "docs/benchmarks.md#test-suite-time",
}

README_MAX_LINES = 350
QUICK_START_WITHIN_LINES = 40


def github_anchor(heading: str) -> str:
    """The id GitHub gives a heading: lower case, punctuation dropped, spaces as hyphens."""
    text = re.sub(r"<[^>]*>", "", heading).strip().lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def prose(text: str) -> str:
    """The text without fenced code blocks, whose lines may look like headings or links."""
    return FENCE.sub("", text)


def anchors(path: Path) -> set[str]:
    """Every #fragment a link into this Markdown file may use: explicit ids and heading ids."""
    text = prose(path.read_text(encoding="utf-8"))
    found = set(EXPLICIT_ANCHOR.findall(text))
    found |= {github_anchor(match.group(2)) for match in HEADING.finditer(text)}
    return found


def markdown_files() -> list[Path]:
    """Every Markdown file a reader follows links through."""
    return sorted(
        {
            README,
            REPO_ROOT / "README.ko.md",
            REPO_ROOT / "CONTRIBUTING.md",
            *DOCS.glob("**/*.md"),
            *REPO_ROOT.glob("examples/**/README.md"),
            *REPO_ROOT.glob("modules/*/README.md"),
        }
    )


def broken_links(path: Path) -> list[str]:
    """The relative links of one Markdown file whose file or #anchor does not exist."""
    broken = []
    for target in LINK.findall(prose(path.read_text(encoding="utf-8"))):
        if re.match(r"^[a-z]+:", target):
            continue
        file_part, _, fragment = target.partition("#")
        destination = (path.parent / file_part).resolve() if file_part else path
        if not destination.exists():
            broken.append(f"{target} (no such file)")
        elif fragment and destination.suffix == ".md" and fragment not in anchors(destination):
            broken.append(f"{target} (no #{fragment} in {destination.name})")
    return broken


def test_every_old_readme_heading_has_a_place_that_exists() -> None:
    for heading, place in OLD_README_HEADINGS.items():
        file_part, _, fragment = place.partition("#")
        # The heading keeps its words, so a link to the old README anchor names the same thing.
        assert fragment == github_anchor(heading), f"{heading!r} moved under another name: {place}"
        assert (REPO_ROOT / file_part).is_file(), f"{heading!r}: {file_part} does not exist"
        found = anchors(REPO_ROOT / file_part)
        assert fragment in found, f"{heading!r}: no #{fragment} in {file_part}"


def test_the_anchor_rule_reads_headings_and_explicit_ids(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        '# Cost on paper: 50 accounts \u00d7 3 regions\n\n## <a id="quick-start"></a>빠른 시작\n\n'
        "```sh\n# not a heading\n```\n"
        "[ok](#quick-start) [bad](#not-a-heading) [gone](missing.md)\n",
        encoding="utf-8",
    )

    assert anchors(page) == {"cost-on-paper-50-accounts--3-regions", "quick-start", "빠른-시작"}
    assert broken_links(page) == [
        "#not-a-heading (no #not-a-heading in page.md)",
        "missing.md (no such file)",
    ]


@pytest.mark.parametrize(
    "path", markdown_files(), ids=lambda path: path.relative_to(REPO_ROOT).as_posix()
)
def test_relative_links_resolve_to_a_file_and_anchor(path: Path) -> None:
    assert not broken_links(path), f"{path.relative_to(REPO_ROOT)}: {broken_links(path)}"


def test_readme_is_a_landing_page_with_the_quick_start_near_the_top() -> None:
    lines = README.read_text(encoding="utf-8").splitlines()

    assert len(lines) < README_MAX_LINES, f"README.md has {len(lines)} lines: move text to docs/"
    assert "## Quick start" in lines[:QUICK_START_WITHIN_LINES], "the quick start is not at the top"


def test_readme_links_every_docs_page() -> None:
    readme = README.read_text(encoding="utf-8")
    pages = sorted(path.name for path in DOCS.glob("*.md"))

    assert len(pages) >= 13, f"docs/ holds only {pages}"
    for page in pages:
        assert f"](docs/{page})" in readme, f"README.md does not link docs/{page}"


def test_every_docs_page_leads_back_to_the_readme() -> None:
    for page in sorted(DOCS.glob("**/*.md")):
        top = "\n".join(page.read_text(encoding="utf-8").splitlines()[:5])
        back = re.search(r"\]\((\.\./)+README(\.ko)?\.md", top)
        assert back, f"{page.relative_to(REPO_ROOT)}: no way back to the README at the top"


def test_bench_block_lives_in_the_benchmarks_page() -> None:
    page = (DOCS / "benchmarks.md").read_text(encoding="utf-8")
    bench_doc = (REPO_ROOT / "bench" / "run.py").read_text(encoding="utf-8").split('"""')[1]

    begin, end = page.find("<!-- BEGIN_BENCH -->"), page.find("<!-- END_BENCH -->")
    assert -1 < begin < end, "docs/benchmarks.md lost its BEGIN_BENCH/END_BENCH block"
    assert "BEGIN_BENCH" not in README.read_text(encoding="utf-8")
    assert "docs/benchmarks.md" in bench_doc, "bench/run.py does not say where its table goes"
