"""The Korean pages keep up with the English ones: README.ko.md has README.md's sections, every
input and output, working links; each docs/ko page has its English page's sections and commands."""

from __future__ import annotations

import re
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
ENGLISH = REPO_ROOT / "README.md"
KOREAN = REPO_ROOT / "README.ko.md"
DOCS = REPO_ROOT / "docs"
# The pages a Korean reader needs first; the others are translated too, but these may never lapse.
REQUIRED_KOREAN_PAGES = ("quick-start.md", "slack-app.md", "delivery-failures.md")

# A Korean `##` heading names the English section it translates by that section's GitHub anchor:
#   ## <a id="quick-start"></a>빠른 시작
# so README.md#quick-start and README.ko.md#quick-start are the same section.
ANCHORED_HEADING = re.compile(r'<a id="([a-z0-9_-]+)"></a>\s*(\S.*)')
FENCE = re.compile(r"^[ \t]*```.*?^[ \t]*```[ \t]*$", re.MULTILINE | re.DOTALL)
LINK = re.compile(r"\]\(([^)\s]+)\)")


def _prose(text: str) -> str:
    """The text without fenced code blocks, whose lines may look like headings."""
    return FENCE.sub("", text)


def _headings(text: str, level: int) -> list[str]:
    marks = "#" * level
    return re.findall(rf"^{marks} (.+?)[ \t]*$", _prose(text), flags=re.MULTILINE)


def github_anchor(heading: str) -> str:
    """The id GitHub gives a heading: lower case, punctuation dropped, spaces as hyphens."""
    text = re.sub(r"<[^>]*>", "", heading).strip().lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def _english_section_anchors() -> list[str]:
    return [github_anchor(heading) for heading in _headings(_read(ENGLISH), 2)]


def _korean_section_anchors() -> list[str]:
    anchors = []
    for heading in _headings(_read(KOREAN), 2):
        match = ANCHORED_HEADING.fullmatch(heading)
        assert match, (
            f"README.ko.md heading '## {heading}' does not name its English section: write"
            ' `## <a id="<anchor of the README.md section>"></a>제목`'
        )
        anchors.append(match.group(1))
    return anchors


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def _section(text: str, anchor: str) -> str:
    """The body of the `##` section whose heading carries <a id="anchor">, up to the next `##`."""
    start = text.index(f'## <a id="{anchor}"></a>')
    following = re.search(r"^## ", text[start + 3 :], flags=re.MULTILINE)
    return text[start : start + 3 + following.start()] if following else text[start:]


def _variable_names() -> set[str]:
    declared = set(re.findall(r'^variable\s+"([^"]+)"', _read(REPO_ROOT / "variables.tf"), re.M))
    english = _read(ENGLISH)
    table = english[english.index("<!-- BEGIN_TF_INPUTS -->") : english.index("<!-- END_TF_INPUTS")]
    listed = set(re.findall(r"^\| `([^`]+)` \|", table, flags=re.MULTILINE))
    return declared | listed


def test_github_anchor_matches_the_links_of_the_english_table_of_contents() -> None:
    # README.md's own contents list links each section by its anchor: the rule reproduces them.
    english = _read(ENGLISH)
    contents = re.findall(r"\]\(#([^)]+)\)", english.split("\n## ", 1)[0])
    anchors = {github_anchor(heading) for level in (2, 3) for heading in _headings(english, level)}

    assert contents, "README.md lost its contents list"
    assert set(contents) <= anchors


def test_korean_sections_are_the_english_sections_in_the_same_order() -> None:
    english = _english_section_anchors()
    korean = _korean_section_anchors()

    missing = [anchor for anchor in english if anchor not in korean]
    extra = [anchor for anchor in korean if anchor not in english]
    assert not missing, f"README.ko.md lacks the README.md sections {missing}: translate them"
    assert not extra, f"README.ko.md has sections README.md no longer has: {extra}"
    assert korean == english, f"README.ko.md's sections are out of order: {korean} != {english}"


def test_korean_headings_are_written_in_korean() -> None:
    for heading in _headings(_read(KOREAN), 2):
        match = ANCHORED_HEADING.fullmatch(heading)
        assert match
        assert re.search(r"[가-힣]", match.group(2)), f"untranslated heading: {heading}"


def test_every_module_input_is_listed_in_the_korean_inputs_section() -> None:
    names = _variable_names()
    section = _section(_read(KOREAN), "inputs")
    listed = set(re.findall(r"^\| `([^`]+)` \|", section, flags=re.MULTILINE))

    assert len(names) > 10, "variables.tf parsed to almost nothing"
    assert not names - listed, f"README.ko.md's inputs lack {sorted(names - listed)}"
    assert not listed - names, f"README.ko.md lists inputs that do not exist: {listed - names}"


def test_every_module_output_is_listed_in_the_korean_outputs_section() -> None:
    declared = set(re.findall(r'^output\s+"([^"]+)"', _read(REPO_ROOT / "outputs.tf"), re.M))
    listed = set(re.findall(r"^\| `([^`]+)` \|", _section(_read(KOREAN), "outputs"), re.M))

    assert declared, "outputs.tf parsed to nothing"
    assert listed == declared, f"missing {declared - listed}, unknown {listed - declared}"


def test_korean_relative_links_point_at_existing_files_and_anchors() -> None:
    korean = _read(KOREAN)
    own_anchors = set(re.findall(r'<a id="([^"]+)"></a>', korean))
    own_anchors |= {github_anchor(h) for level in (2, 3, 4) for h in _headings(korean, level)}
    english_anchors = {
        github_anchor(h) for level in (1, 2, 3, 4) for h in _headings(_read(ENGLISH), level)
    }

    targets = LINK.findall(_prose(korean))
    assert targets, "README.ko.md has no links"
    for target in targets:
        if re.match(r"^[a-z]+:", target):
            continue
        path, _, anchor = target.partition("#")
        assert not path or (KOREAN.parent / path).exists(), f"README.ko.md: broken link {target}"
        if path == "":
            assert anchor in own_anchors, f"README.ko.md: no section #{anchor}"
        elif path == "README.md" and anchor:
            assert anchor in english_anchors, f"README.ko.md: README.md has no #{anchor}"


def test_the_readmes_link_each_other_at_the_top() -> None:
    english_top = "\n".join(_read(ENGLISH).splitlines()[:5])
    korean_top = "\n".join(_read(KOREAN).splitlines()[:5])

    assert "[README.ko.md](README.ko.md)" in english_top
    assert "](README.md)" in korean_top


def test_korean_previews_are_the_english_ones_that_make_run_prints() -> None:
    # tests/test_readme.py checks the English pages' previews against `make run`; the Korean
    # pages must show them unchanged.
    found = 0
    for english, korean in _page_pairs():
        for preview in re.findall(r"```text\n.*?```", _read(english), flags=re.DOTALL):
            found += 1
            assert preview in _read(korean), f"docs/ko/{korean.name} lacks the preview:\n{preview}"

    assert found >= 2, "the translated pages lost the message or digest preview"


def test_korean_release_refs_are_ones_the_english_readme_pins() -> None:
    # scripts/release_check.py checks README.md's ?ref= against the CHANGELOG; the Korean copy
    # must not pin a version the English one no longer shows.
    ref = re.compile(r"\?ref=(v\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?)")
    pinned = set(ref.findall(_read(ENGLISH)))
    for english, _ in _page_pairs():
        pinned |= set(ref.findall(_read(english)))
    korean = set(ref.findall(_read(KOREAN)))
    for _, korean_page in _page_pairs():
        korean |= set(ref.findall(_read(korean_page)))

    assert korean, "README.ko.md and docs/ko pin no release"
    assert korean <= pinned, f"the Korean pages pin {sorted(korean - pinned)}, the English do not"


def _page_pairs() -> list[tuple[Path, Path]]:
    """(English page, Korean page) for every docs/ko page."""
    return [(DOCS / korean.name, korean) for korean in sorted((DOCS / "ko").glob("*.md"))]


def _heading_anchors(text: str) -> list[tuple[int, str]]:
    """(level, anchor) of every heading; a Korean heading names its English anchor with <a id>."""
    found = []
    for marks, heading in re.findall(r"^(#{1,6}) (.+?)[ \t]*$", _prose(text), flags=re.MULTILINE):
        explicit = ANCHORED_HEADING.fullmatch(heading)
        found.append((len(marks), explicit.group(1) if explicit else github_anchor(heading)))
    return found


def _commands(text: str) -> list[list[str]]:
    """Each fenced block's lines without comments: comments may be translated, code may not."""
    blocks = re.findall(r"^[ \t]*```[^\n]*\n(.*?)^[ \t]*```[ \t]*$", text, flags=re.M | re.S)
    commands = []
    for block in blocks:
        lines = [re.sub(r"(^|\s)#(?![{!]).*$", "", line).strip() for line in block.splitlines()]
        commands.append([line for line in lines if line])
    return commands


def test_the_pages_a_korean_reader_needs_first_are_translated() -> None:
    translated = {korean.name for _, korean in _page_pairs()}

    missing = sorted(set(REQUIRED_KOREAN_PAGES) - translated)
    assert not missing, f"docs/ko lacks {missing}"


def test_every_korean_page_translates_an_english_page() -> None:
    for english, korean in _page_pairs():
        assert english.is_file(), f"docs/ko/{korean.name} has no English page docs/{english.name}"


def test_korean_pages_have_the_english_sections_in_the_same_order() -> None:
    for english, korean in _page_pairs():
        wanted = _heading_anchors(_read(english))
        found = _heading_anchors(_read(korean))
        assert found == wanted, (
            f"docs/ko/{korean.name}: sections {found} != docs/{english.name}: {wanted};"
            ' write `## <a id="<English anchor>"></a>제목`'
        )


def test_korean_pages_have_the_english_commands() -> None:
    for english, korean in _page_pairs():
        assert _commands(_read(korean)) == _commands(_read(english)), (
            f"docs/ko/{korean.name}: its code blocks differ from docs/{english.name}"
            " (only comments may be translated)"
        )


def test_the_command_comparison_ignores_comments_only(tmp_path: Path) -> None:
    english = "```sh\n# look\naws sqs list-queues  # all\n```\n"
    translated = "```sh\n# 확인\naws sqs list-queues  # 전부\n```\n"
    changed = "```sh\n# 확인\naws sqs list-queues --max-results 1\n```\n"

    assert _commands(translated) == _commands(english) == [["aws sqs list-queues"]]
    assert _commands(changed) != _commands(english)


def test_translated_pages_link_each_other_at_the_top() -> None:
    for english, korean in _page_pairs():
        english_top = "\n".join(_read(english).splitlines()[:5])
        korean_top = "\n".join(_read(korean).splitlines()[:5])
        assert f"](ko/{korean.name})" in english_top, f"docs/{english.name} hides its translation"
        assert f"](../{english.name})" in korean_top, f"docs/ko/{korean.name} hides the original"
