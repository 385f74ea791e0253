"""Generate the README's Inputs and Outputs tables from the module's variables.tf and outputs.tf.

The tables sit between marker comments in README.md:

    <!-- BEGIN_TF_INPUTS --> ... <!-- END_TF_INPUTS -->
    <!-- BEGIN_TF_OUTPUTS --> ... <!-- END_TF_OUTPUTS -->

`--write` rewrites what lies between the markers; `--check` exits 1 (and prints a diff) when the
README differs from what the .tf files say, so a variable added without `make docs` fails the tests.
"""

from __future__ import annotations

import argparse
import difflib
import html
import json
import re
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import hcl2

REPO_ROOT = Path(__file__).resolve().parent.parent

INPUTS_BEGIN = "<!-- BEGIN_TF_INPUTS -->"
INPUTS_END = "<!-- END_TF_INPUTS -->"
OUTPUTS_BEGIN = "<!-- BEGIN_TF_OUTPUTS -->"
OUTPUTS_END = "<!-- END_TF_OUTPUTS -->"

# Keep the HCL as written: quoted strings stay quoted (so a default of "UTC" shows as "UTC"),
# expressions come back as "${...}", heredocs as ordinary strings.
_HCL_OPTIONS = hcl2.SerializationOptions(
    with_comments=False,
    explicit_blocks=False,
    preserve_heredocs=False,
    strip_string_quotes=False,
    wrap_objects=True,
    wrap_tuples=True,
)


class TablesError(Exception):
    """The README or the .tf files are not in a shape the generator can work with."""


@dataclass(frozen=True)
class Variable:
    """One `variable` block, reduced to what the Inputs table shows."""

    name: str
    description: str
    type: str
    default: str | None  # HCL text of the default; None when the variable is required
    sensitive: bool


@dataclass(frozen=True)
class Output:
    """One `output` block, reduced to what the Outputs table shows."""

    name: str
    description: str
    sensitive: bool


def _unquote(text: str) -> str:
    """Turn an HCL quoted string literal into its value (HCL escapes are JSON's plus `$${`)."""
    if len(text) >= 2 and text.startswith('"') and text.endswith('"'):
        try:
            value = json.loads(text)
        except json.JSONDecodeError:
            value = text[1:-1]
        return value.replace("$${", "${").replace("%%{", "%{")
    return text


def _expression(value: object) -> str:
    """Render a parsed attribute value back as HCL text."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return json.dumps(value)
    if isinstance(value, str):
        if value.startswith("${") and value.endswith("}"):
            return value[2:-1]
        return value
    # Only reached if the parser hands back structures despite wrap_objects/wrap_tuples.
    return json.dumps(value, ensure_ascii=False)


def _blocks(parsed: Mapping[str, Any], kind: str) -> Iterable[tuple[str, Mapping[str, Any]]]:
    for block in parsed.get(kind, []):
        for raw_name, body in block.items():
            yield _unquote(raw_name), body


def load_variables(path: Path) -> list[Variable]:
    """Read every `variable` block of one .tf file, in file order."""
    with path.open(encoding="utf-8") as handle:
        parsed = hcl2.load(handle, serialization_options=_HCL_OPTIONS)
    variables = []
    for name, body in _blocks(parsed, "variable"):
        variables.append(
            Variable(
                name=name,
                description=_unquote(str(body.get("description", '""'))),
                type=_expression(body["type"]) if "type" in body else "any",
                default=_expression(body["default"]) if "default" in body else None,
                sensitive=body.get("sensitive") is True,
            )
        )
    return variables


def load_outputs(path: Path) -> list[Output]:
    """Read every `output` block of one .tf file, in file order."""
    with path.open(encoding="utf-8") as handle:
        parsed = hcl2.load(handle, serialization_options=_HCL_OPTIONS)
    return [
        Output(
            name=name,
            description=_unquote(str(body.get("description", '""'))),
            sensitive=body.get("sensitive") is True,
        )
        for name, body in _blocks(parsed, "output")
    ]


def _cell(text: str) -> str:
    """Make text safe inside one Markdown table cell."""
    return text.strip().replace("|", "\\|").replace("\n", "<br>")


def _prose(text: str) -> str:
    """A description cell, read like Markdown: a single newline (a heredoc wrapped to fit the
    editor) is a space, a blank line a paragraph break; `<!here>` or `<name>` outside code spans
    must not vanish as HTML tags."""
    paragraphs = [" ".join(p.split()) for p in re.split(r"\n\s*\n", text.strip())]
    parts = "\n\n".join(p for p in paragraphs if p).split("`")
    for index in range(0, len(parts), 2):  # even parts lie outside backtick code spans
        parts[index] = html.escape(parts[index], quote=False)
    return _cell("`".join(parts))


def _code(text: str) -> str:
    # A code span cannot hold a newline inside a table row; HCL expressions read fine on one line.
    flat = " ".join(text.split())
    fence = "``" if "`" in flat else "`"
    return f"{fence}{_cell(flat)}{fence}"


def inputs_table(variables: Iterable[Variable]) -> str:
    """The Inputs table: required variables first, then the rest, each group in file order."""
    ordered = sorted(variables, key=lambda v: v.default is not None)
    lines = [
        "| Name | Description | Type | Default | Required |",
        "|------|-------------|------|---------|:--------:|",
    ]
    for var in ordered:
        description = _prose(var.description)
        if var.sensitive:
            description += " (sensitive)"
        default = "n/a" if var.default is None else _code(var.default)
        required = "yes" if var.default is None else "no"
        lines.append(
            f"| `{var.name}` | {description} | {_code(var.type)} | {default} | {required} |"
        )
    return "\n".join(lines)


def outputs_table(outputs: Iterable[Output]) -> str:
    """The Outputs table, in file order."""
    lines = ["| Name | Description |", "|------|-------------|"]
    for out in outputs:
        description = _prose(out.description)
        if out.sensitive:
            description += " (sensitive)"
        lines.append(f"| `{out.name}` | {description} |")
    return "\n".join(lines)


def _replace_between(text: str, begin: str, end: str, body: str) -> str:
    start = text.find(begin)
    stop = text.find(end)
    if start == -1 or stop == -1 or stop < start:
        raise TablesError(f"README needs the markers {begin} and {end}, in that order")
    return text[: start + len(begin)] + "\n" + body + "\n" + text[stop:]


def render(readme: str, module_dir: Path) -> str:
    """Return the README text with both tables regenerated from module_dir's .tf files."""
    variables: list[Variable] = []
    outputs: list[Output] = []
    variables_tf = module_dir / "variables.tf"
    outputs_tf = module_dir / "outputs.tf"
    if variables_tf.exists():
        variables = load_variables(variables_tf)
    if outputs_tf.exists():
        outputs = load_outputs(outputs_tf)
    text = _replace_between(readme, INPUTS_BEGIN, INPUTS_END, inputs_table(variables))
    return _replace_between(text, OUTPUTS_BEGIN, OUTPUTS_END, outputs_table(outputs))


def default_targets(repo_root: Path = REPO_ROOT) -> list[tuple[Path, Path]]:
    """(README, module dir) pairs: the root module, and each submodule or example (nested ones
    too, e.g. examples/organization/member) whose README has markers."""
    targets = [(repo_root / "README.md", repo_root)]
    readmes = [*repo_root.glob("modules/*/README.md"), *repo_root.glob("examples/**/README.md")]
    for readme in sorted(readmes):
        if INPUTS_BEGIN in readme.read_text(encoding="utf-8"):
            targets.append((readme, readme.parent))
    return targets


def _diff(path: Path, current: str, wanted: str) -> str:
    return "".join(
        difflib.unified_diff(
            current.splitlines(keepends=True),
            wanted.splitlines(keepends=True),
            fromfile=f"{path} (current)",
            tofile=f"{path} (from variables.tf/outputs.tf)",
        )
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--write", action="store_true", help="rewrite the tables in the README(s)")
    mode.add_argument("--check", action="store_true", help="exit 1 when a table has drifted")
    parser.add_argument(
        "--readme",
        type=Path,
        help="one README to process (default: README.md, examples/*/ and modules/*/README.md)",
    )
    parser.add_argument(
        "--module-dir", type=Path, help="directory of variables.tf/outputs.tf for --readme"
    )
    args = parser.parse_args(argv)

    if args.readme is not None:
        targets = [(args.readme, args.module_dir or args.readme.parent)]
    else:
        targets = default_targets()

    drifted = False
    for readme, module_dir in targets:
        current = readme.read_text(encoding="utf-8")
        try:
            wanted = render(current, module_dir)
        except TablesError as exc:
            print(f"error: {readme}: {exc}", file=sys.stderr)
            return 2
        if wanted == current:
            continue
        if args.write:
            readme.write_text(wanted, encoding="utf-8")
            print(f"updated {readme}")
        else:
            sys.stdout.write(_diff(readme, current, wanted))
            print(f"{readme}: tables are out of date: run `make docs`.", file=sys.stderr)
            drifted = True
    return 1 if drifted else 0


if __name__ == "__main__":
    sys.exit(main())
