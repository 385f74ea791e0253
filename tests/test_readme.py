"""The README's Inputs/Outputs tables match variables.tf/outputs.tf, the generator works, and what
the README and the docs/ pages show (make targets, HCL, message previews) is real."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import hcl2
import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent

# The pages a reader copies from: the landing README and every topic page, English and Korean.
DOC_PAGES = [REPO_ROOT / "README.md", *sorted((REPO_ROOT / "docs").glob("**/*.md"))]


def _load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "readme_tables", REPO_ROOT / "scripts" / "readme_tables.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while being created
    spec.loader.exec_module(module)
    return module


readme_tables = _load_generator()

FIXTURE_VARIABLES = """
variable "name" {
  description = "Prefix of every resource name."
  type        = string
}

variable "webhook" {
  description = "Webhook URL, https only | never logged."
  type        = string
  default     = null
  sensitive   = true
}

variable "mention" {
  description = "Mention such as <!here>, written as `<!here>` in code."
  type        = string
  default     = "<!here>"
}

variable "instances" {
  description = <<-EOT
    Instances to watch,
    wrapped to fit the editor.

    One alarm pair each.
  EOT
  type = map(object({
    instance_id   = string
    cpu_threshold = optional(number, 80)
  }))
  default = {}
}

variable "retries" {
  description = "How often to retry."
  type        = number
  default     = 2
}

variable "enabled" {
  description = "Say \\"yes\\"."
  type        = bool
  default     = true
}
"""

FIXTURE_OUTPUTS = """
output "topic_arn" {
  description = "ARN of the topic."
  value       = "x"
}

output "secret" {
  description = "Something sensitive."
  value       = var.webhook
  sensitive   = true
}
"""

FIXTURE_README = """# Fixture

Intro stays.

<!-- BEGIN_TF_INPUTS -->
stale inputs
<!-- END_TF_INPUTS -->

Middle stays.

<!-- BEGIN_TF_OUTPUTS -->
<!-- END_TF_OUTPUTS -->

Tail stays.
"""


@pytest.fixture
def fixture_module(tmp_path: Path) -> Path:
    (tmp_path / "variables.tf").write_text(FIXTURE_VARIABLES)
    (tmp_path / "outputs.tf").write_text(FIXTURE_OUTPUTS)
    (tmp_path / "README.md").write_text(FIXTURE_README)
    return tmp_path


def _rows(text: str, begin: str, end: str) -> dict[str, list[str]]:
    block = text[text.index(begin) + len(begin) : text.index(end)]
    rows = {}
    for line in block.strip().splitlines()[2:]:
        cells = [cell.strip() for cell in re.split(r"(?<!\\)\|", line)[1:-1]]
        rows[cells[0].strip("`")] = cells
    return rows


def test_module_readme_tables_match_variables_and_outputs() -> None:
    readme = REPO_ROOT / "README.md"
    current = readme.read_text(encoding="utf-8")
    wanted = readme_tables.render(current, REPO_ROOT)
    assert current == wanted, "README.md tables drifted from variables.tf/outputs.tf: `make docs`"


@pytest.mark.parametrize(
    "example",
    [
        "examples/ec2-cpu-alarm",
        "examples/new-ec2-instance",
        "examples/direct-to-lambda",
        "examples/slack-app-routing",
        "modules/ec2-alarms",
        "modules/forwarder",
        "examples/organization",
        "examples/organization/member",
    ],
    ids=str,
)
def test_example_readme_tables_match_the_example(example: str) -> None:
    readme = REPO_ROOT / example / "README.md"
    current = readme.read_text(encoding="utf-8")
    wanted = readme_tables.render(current, readme.parent)
    assert current == wanted, f"{readme} tables drifted from the example's .tf files: `make docs`"


def test_check_mode_passes_on_the_committed_readmes() -> None:
    assert readme_tables.main(["--check"]) == 0


def test_inputs_table_lists_required_first_with_types_and_hcl_defaults(
    fixture_module: Path,
) -> None:
    text = readme_tables.render((fixture_module / "README.md").read_text(), fixture_module)
    rows = _rows(text, readme_tables.INPUTS_BEGIN, readme_tables.INPUTS_END)

    assert list(rows) == ["name", "webhook", "mention", "instances", "retries", "enabled"]
    assert rows["name"][2:] == ["`string`", "n/a", "yes"]
    assert rows["retries"][2:] == ["`number`", "`2`", "no"]
    assert rows["enabled"][1] == 'Say "yes".'
    assert rows["enabled"][3] == "`true`"
    assert rows["webhook"][3] == "`null`"
    assert rows["mention"][3] == '`"<!here>"`'
    assert rows["instances"][2] == (
        "`map(object({instance_id = string, cpu_threshold = optional(number, 80)}))`"
    )
    assert rows["instances"][3] == "`{}`"


def test_descriptions_are_escaped_for_markdown_tables(fixture_module: Path) -> None:
    text = readme_tables.render((fixture_module / "README.md").read_text(), fixture_module)
    rows = _rows(text, readme_tables.INPUTS_BEGIN, readme_tables.INPUTS_END)

    assert rows["webhook"][1] == "Webhook URL, https only \\| never logged. (sensitive)"
    # Outside code spans a Slack mention must survive as text, inside them it stays verbatim.
    assert rows["mention"][1] == "Mention such as &lt;!here&gt;, written as `<!here>` in code."
    assert rows["instances"][1] == (
        "Instances to watch, wrapped to fit the editor.<br><br>One alarm pair each."
    )


def test_outputs_table_in_file_order_with_sensitive_flag(fixture_module: Path) -> None:
    text = readme_tables.render((fixture_module / "README.md").read_text(), fixture_module)
    rows = _rows(text, readme_tables.OUTPUTS_BEGIN, readme_tables.OUTPUTS_END)

    assert rows == {
        "topic_arn": ["`topic_arn`", "ARN of the topic."],
        "secret": ["`secret`", "Something sensitive. (sensitive)"],
    }


def test_text_outside_the_markers_is_kept(fixture_module: Path) -> None:
    text = readme_tables.render((fixture_module / "README.md").read_text(), fixture_module)

    assert "stale inputs" not in text
    for kept in ("# Fixture\n\nIntro stays.\n\n", "\n\nMiddle stays.\n\n", "\n\nTail stays.\n"):
        assert kept in text


def test_write_then_check_round_trips(fixture_module: Path, capsys: pytest.CaptureFixture) -> None:
    readme = fixture_module / "README.md"
    args = ["--readme", str(readme), "--module-dir", str(fixture_module)]

    assert readme_tables.main(["--check", *args]) == 1
    assert "stale inputs" in capsys.readouterr().out  # the diff shows what would change
    assert readme_tables.main(["--write", *args]) == 0
    written = readme.read_text()
    assert readme_tables.main(["--check", *args]) == 0
    assert readme_tables.main(["--write", *args]) == 0
    assert readme.read_text() == written


def test_check_fails_when_a_variable_is_added_without_regenerating(
    fixture_module: Path, capsys: pytest.CaptureFixture
) -> None:
    readme = fixture_module / "README.md"
    args = ["--readme", str(readme), "--module-dir", str(fixture_module)]
    assert readme_tables.main(["--write", *args]) == 0

    with (fixture_module / "variables.tf").open("a") as handle:
        handle.write('\nvariable "added" {\n  description = "New."\n  type = string\n}\n')

    assert readme_tables.main(["--check", *args]) == 1
    assert "+| `added` | New. | `string` | n/a | yes |" in capsys.readouterr().out


def test_missing_markers_are_an_error(fixture_module: Path) -> None:
    readme = fixture_module / "README.md"
    readme.write_text("# No markers here\n")

    with pytest.raises(readme_tables.TablesError, match="BEGIN_TF_INPUTS"):
        readme_tables.render(readme.read_text(), fixture_module)
    assert readme_tables.main(["--check", "--readme", str(readme)]) == 2


def test_every_make_target_the_readme_names_exists() -> None:
    makefile = (REPO_ROOT / "Makefile").read_text(encoding="utf-8")
    targets = set(re.findall(r"^([a-z][a-z0-9-]*):", makefile, flags=re.MULTILINE))
    for page in DOC_PAGES:
        named = set(re.findall(r"\bmake ([a-z][a-z0-9-]*)", page.read_text(encoding="utf-8")))
        unknown = named - targets
        assert not unknown, f"{page.name} names make targets the Makefile lacks: {unknown}"
    development = (REPO_ROOT / "docs" / "development.md").read_text(encoding="utf-8")
    assert {"run", "test"} <= set(re.findall(r"\bmake ([a-z][a-z0-9-]*)", development))


def test_readme_lists_every_example() -> None:
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    examples = {path.parent.name for path in (REPO_ROOT / "examples").glob("*/versions.tf")}

    assert examples, "no examples found"
    for example in sorted(examples):
        assert f"](examples/{example})" in readme, f"README does not link examples/{example}"


META_ARGUMENTS = {"source", "version", "providers", "count", "for_each", "depends_on"}


def _module_variable_types(module_dir: Path = REPO_ROOT) -> dict[str, str]:
    return {var.name: var.type for var in readme_tables.load_variables(module_dir / "variables.tf")}


def _object_attributes(type_expression: str) -> set[str]:
    """Attribute names of the object in a type such as map(object({a = string, b = ...}))."""
    return set(re.findall(r"([a-z_][a-z0-9_]*)\s*=", type_expression))


def _check_arguments(arguments: dict[str, object], types: dict[str, str], where: str) -> None:
    unknown = set(arguments) - set(types) - META_ARGUMENTS
    assert not unknown, f"{where}: not inputs of the module: {sorted(unknown)}"
    for name in ("ec2_instances", "alarms"):
        entries = arguments.get(name)
        if isinstance(entries, dict):
            allowed = _object_attributes(types[name])
            for key, entry in entries.items():
                extra = set(entry) - allowed
                assert not extra, f"{where}: {name}.{key} sets unknown attributes {sorted(extra)}"


def test_readme_hcl_snippets_use_real_module_inputs() -> None:
    types = _module_variable_types()
    submodule_types = _module_variable_types(REPO_ROOT / "modules" / "ec2-alarms")
    options = hcl2.SerializationOptions(
        with_comments=False, explicit_blocks=False, strip_string_quotes=True
    )
    snippets = [
        (f"{page.relative_to(REPO_ROOT)} hcl snippet {number}", snippet)
        for page in DOC_PAGES
        for number, snippet in enumerate(
            re.findall(r"```hcl\n(.*?)```", page.read_text(encoding="utf-8"), re.S), start=1
        )
    ]

    assert len(snippets) > 10, f"the README and docs/ have only {len(snippets)} hcl snippets"
    for where, snippet in snippets:
        parsed = hcl2.loads(snippet, serialization_options=options)
        module_outputs = {
            output.name for output in readme_tables.load_outputs(REPO_ROOT / "outputs.tf")
        }
        for block in parsed.pop("output", []):
            for name, body in block.items():
                value = str(body["value"])
                match = re.fullmatch(r"\$\{module\.[a-z_]+\.([a-z_]+)\}", value)
                assert match, f"{where}: output {name} re-exports {value}, not a module output"
                assert match.group(1) in module_outputs, f"{where}: no module output {value}"
        # Resources a snippet declares beside the module call (an SNS topic for the health
        # alarm's e-mail) are the user's own, not module inputs.
        for kind in ("resource", "data"):
            parsed.pop(kind, None)
        modules = parsed.pop("module", [])
        for block in modules:
            for body in block.values():
                is_submodule = "modules/ec2-alarms" in str(body.get("source", ""))
                _check_arguments(body, submodule_types if is_submodule else types, where)
        _check_arguments(parsed, types, where)


def _make_run_preview(*args: str) -> list[str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("SLACK_", "ALARM_", "TIMEZONE", "MESSAGE_", "LOG_LEVEL"))
    }
    env.update(TIMEZONE="Asia/Seoul", MESSAGE_LANGUAGE="ko", NO_COLOR="1")

    result = subprocess.run(
        [sys.executable, str(REPO_ROOT / "scripts" / "run_local.py"), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return result.stdout.splitlines()


def test_readme_message_preview_is_what_make_run_prints() -> None:
    page = (REPO_ROOT / "docs" / "slack-message.md").read_text(encoding="utf-8")
    documented = re.search(r"```text\n(.*?)```", page, re.S)
    assert documented is not None, "docs/slack-message.md lost its message preview"
    lines = _make_run_preview()
    start = next(i for i, line in enumerate(lines) if "Slack would show" in line) + 2
    end = next(i for i, line in enumerate(lines) if "CloudWatch" in line and i >= start)
    assert "\n".join(lines[start : end + 1]) + "\n" == documented.group(1), (
        "docs/slack-message.md's preview differs from `TIMEZONE=Asia/Seoul MESSAGE_LANGUAGE=ko"
        " make run`: update the page"
    )


def test_readme_digest_preview_is_what_make_run_prints_for_the_storm_batch() -> None:
    page = (REPO_ROOT / "docs" / "storms.md").read_text(encoding="utf-8")
    documented = re.search(r"```text\n(┃ 🚨 알람 5건.*?)```", page, re.S)
    assert documented is not None, "docs/storms.md lost its digest preview"
    lines = _make_run_preview("--event", "examples/events/sqs-storm-batch.json")
    start = next(i for i, line in enumerate(lines) if "Slack would show" in line) + 2
    end = next(i for i, line in enumerate(lines) if "JSON payload" in line) - 1
    shown = "\n".join(line for line in lines[start:end] if line.strip())
    assert (
        shown + "\n"
        == "\n".join(line for line in documented.group(1).splitlines() if line.strip()) + "\n"
    ), "docs/storms.md's digest preview differs from make run: update the page"
