"""Route patterns (alarm_name_regex): the plan and the function accept the same patterns and
read each one alike, and a search is bounded whatever the pattern and the name.

Terraform's regex functions are Go's regexp (RE2 syntax); the function runs name_pattern.py.
The table goes through BOTH: the real slack_routes validation in a `terraform plan`, and the
function's check; accepted patterns are matched by Terraform's `regexall` and by the function.
"""

from __future__ import annotations

import json
import os
import re
import string
from pathlib import Path

import pytest
from hypothesis import assume, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from name_pattern import LENGTH, TOKENS, NamePattern, PatternError, problem

from support.attached_providers import plan_errors
from support.terraform import REPO_ROOT, terraform

CLOUDWATCH_MAX_NAME = 255  # AlarmName: 1 to 255 characters (PutMetricAlarm API reference)

# Accepted by both (the subset).
ACCEPTED = [
    "(latency|5xx)$",
    "^([a-z0-9]+-?)*-db$",
    "prod/.*-db",
    "^운영/",
    r"\d+\.\d+",
    r"\W\S\D",
    r"\s",
    r"\w-\w",
    "[a-]z",
    "[-a]",
    "[a-b-c]",
    "[^^]",
    "[a-a]",
    r"[\]\[\\\^\-]x",
    r"[a\-z]",
    r"\.\-\/\*\+\?\(\)\[\]\{\}\|\\\^\$",
    "a*?b+?c??",
    "(a*)*b",
    "(?:ab|cd)+e",
    "a|",
    "|",
    "()",
    "(|a)b",
    "()*x",
    "(^)*a",
    "a$b",
    "a^",
    "^$",
    "x" * 255,
    "운" * 255,
]
# Refused by both: outside the subset, or not a regular expression at all.
REFUSED = [
    r"\z",
    r"a\Z",
    "[[:digit:]]",
    r"\C",
    "(?P<n>a)(?P=n)",
    "(?P<n>a)",
    "a++",
    "(?>a)",
    r"\Qa.b\E",
    "(?i)prod",
    "(?s).",
    "(?m)^a",
    "a{2}",
    "x{,3}",
    "a}",
    r"\bprod",
    r"\Aprod",
    r"\pL",
    r"(a)\1",
    "(?=a)",
    "(?!a)",
    "(?<=a)b",
    "[^]",
    "[]a]",
    "[^]a]",
    r"[\d]",
    "(a",
    "a)",
    "(a))",
    "[a",
    "[z-a]",
    "[a--]",
    "*a",
    "a**",
    "|*",
    "^*",
    "$+",
    "(*a)",
    "",
    "x" * 256,
    "운" * 256,
]


def plain_id(pattern: str) -> str:
    """A test id mutmut can hand back to pytest: printable ASCII without backslashes."""
    return "".join(c if c.isascii() and c.isprintable() and c != "\\" else "_" for c in pattern)[
        :40
    ]


def function_accepts(pattern: str) -> bool:
    try:
        NamePattern(pattern)
    except PatternError:
        return False
    return True


def test_variables_tf_holds_the_same_rule_as_the_function() -> None:
    # Terraform's regex() matches anywhere: the rule is anchored there, fully matched here.
    text = Path(REPO_ROOT, "variables.tf").read_text()
    for rule in (TOKENS, LENGTH):
        hcl = json.dumps(f"^(?:{rule})$")  # HCL's quoted strings escape as JSON's do here
        assert text.count(f"can(regex({hcl}, route.alarm_name_regex))") == 2, rule


@pytest.mark.parametrize("pattern", ACCEPTED, ids=plain_id)
def test_the_function_accepts_the_subset(pattern: str) -> None:
    assert problem(pattern) is None
    assert function_accepts(pattern)


@pytest.mark.parametrize("pattern", REFUSED, ids=plain_id)
def test_the_function_refuses_what_is_outside_it(pattern: str) -> None:
    assert not function_accepts(pattern)


CATASTROPHIC = ["^([a-z0-9]+-?)*-db$", "^(a+)+$", "(a|a)*b", "(.*a)*x"]


@pytest.mark.parametrize("pattern", CATASTROPHIC)
@pytest.mark.parametrize("length", [28, 64, CLOUDWATCH_MAX_NAME])
def test_backtracking_patterns_take_at_most_one_pass_per_instruction(
    pattern: str, length: int
) -> None:
    # In Python's re each of these takes time exponential in the name's length.
    compiled = NamePattern(pattern)
    name = ("a" * length)[:-1] + "!"
    matched, steps = compiled.search_counting(name)
    assert not matched
    assert steps <= (length + 1) * len(compiled.program)


def test_a_program_is_never_longer_than_its_pattern_plus_one() -> None:
    for pattern in ACCEPTED + CATASTROPHIC:
        assert len(NamePattern(pattern).program) <= len(pattern) + 1, pattern


# Patterns built from the subset's tokens, and names from an alphabet on which Python's re
# (with re.ASCII) and RE2 agree: no \v (Python's \s takes it, RE2's does not) and no \n
# (Python's $ matches before a final newline).
ATOMS = ["a", "b", "-", "/", ".", r"\d", r"\w", r"\s", r"\W", "[a-c]", "[^b]", r"\.", "[-/]", "운"]
NAME_ALPHABET = "ab-/.c1 \tZ운_"


@st.composite
def patterns(draw: st.DrawFn, depth: int = 2) -> str:
    parts = []
    for _ in range(draw(st.integers(0, 4))):
        if depth and draw(st.booleans()):
            inner = "|".join(draw(st.lists(patterns(depth - 1), min_size=1, max_size=3)))
            atom = draw(st.sampled_from(["(", "(?:"])) + inner + ")"
        else:
            atom = draw(st.sampled_from(ATOMS))
        parts.append(atom + draw(st.sampled_from(["", "*", "+", "?", "*?", "+?"])))
    return (
        draw(st.sampled_from(["", "^"])) + "".join(parts) + draw(st.sampled_from(["", "$"]))
    ) or "a"


@hypothesis_settings(max_examples=150, deadline=None)
@given(pattern=patterns(), names=st.lists(st.text(NAME_ALPHABET, max_size=12), max_size=8))
def test_the_function_matches_what_python_re_matches_on_the_subset(
    pattern: str, names: list[str]
) -> None:
    assume(len(pattern) <= CLOUDWATCH_MAX_NAME)
    compiled = NamePattern(pattern)
    python = re.compile(pattern, re.ASCII)
    for name in names:
        matched, steps = compiled.search_counting(name)
        assert matched == (python.search(name) is not None), (pattern, name)
        assert steps <= (len(name) + 1) * len(compiled.program)


@hypothesis_settings(max_examples=150, deadline=None)
@given(pattern=st.text(string.printable, max_size=12))
def test_any_text_is_either_accepted_or_refused_with_a_pattern_error(pattern: str) -> None:
    try:
        compiled = NamePattern(pattern)
    except PatternError:
        return
    # Accepted: Python's re reads it as a regular expression too, and the search is bounded.
    re.compile(pattern)
    _, steps = compiled.search_counting("x" * 40)
    assert steps <= 41 * len(compiled.program)


# ------------------------------------------------------------------------------------------
# Through Terraform: the real validation, and regexall's matches.

PROVIDERS_TF = """\
terraform {
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.0"
    }
  }
}

provider "aws" {
  region                      = "eu-west-1"
  access_key                  = "AKIAIOSFODNN7EXAMPLE"
  secret_key                  = "fake-secret-for-offline-plans"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  skip_region_validation      = true
}
"""

TABLE = ACCEPTED + REFUSED
NAMES = [
    "prod/db-1-db",
    "api-latency",
    "api-5xx",
    "운영/web",
    "1.5",
    "\u0661.\u0665",  # Arabic-Indic digits: \d is ASCII in RE2 (Python's str \d would take them)
    "a\u00a0b",  # no-break space: \s is ASCII in RE2
    "a\vb",  # vertical tab: not in RE2's \s (Python's \s has it)
    "a\n",  # Python's $ matches before a final newline, RE2's only at the end
    "x-y",
    "-z",
    "Az",
    "",
    "ab",
    "x" * 255,
]


@pytest.mark.terraform
def test_terraform_and_the_function_give_every_pattern_the_same_verdict(
    tf_env: dict[str, str], tmp_path: Path
) -> None:
    routes = ",\n".join(
        f'    {{ channel_id = "C0ROUTE{index:04d}", alarm_name_regex = {json.dumps(pattern)} }}'
        for index, pattern in enumerate(TABLE)
    )
    source = os.path.relpath(REPO_ROOT, tmp_path)
    (tmp_path / "main.tf").write_text(
        PROVIDERS_TF
        + f'module "routes" {{\n  source = {json.dumps(source)}\n  name = "routes"\n'
        + '  slack_bot_token_ssm_parameter_name = "/alerts/slack-bot-token"\n'
        + '  slack_channel_id = "C0DEFAULT01"\n'
        + f"  slack_routes = [\n{routes}\n  ]\n}}\n"
    )
    _, errors = plan_errors(tmp_path, tf_env)
    (detail,) = [
        e.get("detail", "")
        for e in errors
        if e.get("detail", "").startswith("slack_routes alarm_name_regex must be")
    ]
    refused_by_terraform = {int(i) for i in re.findall(r"route (\d+) ", detail)}
    refused_by_function = {i for i, p in enumerate(TABLE) if not function_accepts(p)}
    assert refused_by_terraform == refused_by_function == set(range(len(ACCEPTED), len(TABLE))), {
        TABLE[i] for i in refused_by_terraform ^ refused_by_function
    }
    # The message names each offending route with its pattern, and no accepted one.
    assert f"route {len(ACCEPTED)} {json.dumps(REFUSED[0])}" in detail
    assert json.dumps(ACCEPTED[0]) not in detail


@pytest.mark.terraform
def test_terraform_regexall_and_the_function_match_the_same_names(
    tf_env: dict[str, str], tmp_path: Path
) -> None:
    (tmp_path / "cases.json").write_text(json.dumps({"patterns": ACCEPTED, "names": NAMES}))
    (tmp_path / "main.tf").write_text(
        'locals {\n  cases = jsondecode(file("${path.module}/cases.json"))\n}\n\n'
        'output "matches" {\n'
        "  value = [for p in local.cases.patterns : "
        "[for n in local.cases.names : length(regexall(p, n)) > 0]]\n}\n"
    )
    terraform(["init", "-backend=false", "-no-color"], tmp_path, env=tf_env)
    terraform(["apply", "-auto-approve", "-input=false", "-no-color"], tmp_path, env=tf_env)
    output = terraform(["output", "-json", "matches"], tmp_path, env=tf_env)
    by_terraform = json.loads(output.stdout)
    by_function = [[NamePattern(p).search(n) for n in NAMES] for p in ACCEPTED]
    differences = [
        (p, n, t)
        for p, t_row, f_row in zip(ACCEPTED, by_terraform, by_function, strict=True)
        for n, t, f in zip(NAMES, t_row, f_row, strict=True)
        if t != f
    ]
    assert differences == []
    assert any(any(row) for row in by_terraform)
    assert not all(all(row) for row in by_terraform)


# RE2's syntax page: \d digits (== [0-9]), \s whitespace (== [\t\n\f\r ]), \w word characters
# (== [0-9A-Za-z_]); . any character but a newline. Every code point of the BMP's first part.
CODE_POINTS = range(0x3100)


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        (r"\d", set(range(48, 58))),
        (r"\s", {9, 10, 12, 13, 32}),
        (r"\w", {*range(48, 58), *range(65, 91), 95, *range(97, 123)}),
        (r"\D", set(CODE_POINTS) - set(range(48, 58))),
        (r"\S", set(CODE_POINTS) - {9, 10, 12, 13, 32}),
        (".", set(CODE_POINTS) - {10}),
        ("[^a-c]", set(CODE_POINTS) - {97, 98, 99}),
        (r"[\]\-]", {45, 93}),
    ],
    ids=lambda value: plain_id(value) if isinstance(value, str) else "",
)
def test_classes_take_exactly_what_re2_takes(pattern: str, expected: set[int]) -> None:
    compiled = NamePattern(f"^{pattern}$")
    assert {c for c in CODE_POINTS if compiled.search(chr(c))} == expected


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [
        ("(a", "missing ) for the ( at 2"),
        ("a)", "unmatched ) at 1"),
        ("[^]", "missing ] for the [ before 2"),
        ("[z-a]", "invalid range z-a in [...]"),
        ("x" * 256, "must be 1 to 255 characters long"),
        ("", "must be 1 to 255 characters long"),
        ("(?i)a", "uses syntax outside the subset that Terraform (RE2) and the function read"),
    ],
    ids=lambda value: plain_id(value)[:12],
)
def test_a_refusal_says_why(pattern: str, reason: str) -> None:
    with pytest.raises(PatternError) as raised:
        NamePattern(pattern)
    assert str(raised.value).startswith(reason)
    # Length and tokens are what Terraform checks by regex; the rest RE2 refuses as well.
    parsed_only = reason.startswith(("missing", "unmatched", "invalid range"))
    assert problem(pattern) == (None if parsed_only else str(raised.value))


@pytest.mark.parametrize(
    ("pattern", "name", "steps"),
    [
        ("ab", "xx", 3),  # one look at the "a" at each of three positions
        ("a|b", "c", 6),  # the split and both letters, at two positions
        ("^x", "yyyy", 6),  # ^ and x at the start, then ^ alone (failing) at four positions
        ("b", "ab", 4),  # b, b, then the match is seen at the third position (with b again)
    ],
    ids=lambda value: plain_id(str(value)),
)
def test_steps_count_every_instruction_visited(pattern: str, name: str, steps: int) -> None:
    compiled = NamePattern(pattern)
    assert compiled.search_counting(name)[1] == steps


@pytest.mark.parametrize(
    ("pattern", "matching", "not_matching"),
    [
        ("^(a|b|c|d)$", ["a", "b", "c", "d"], ["e", "ab", ""]),
        # Two ways into one instruction: the second visit is skipped, the rest still run.
        ("(a*)*b$", ["b", "aab"], ["a", "ba"]),
        ("(a|b)*b$", ["b", "ab"], ["a", "ba"]),
        ("[a-a]", ["a"], ["b"]),
    ],
)
def test_patterns_match_what_re2_matches(
    pattern: str, matching: list[str], not_matching: list[str]
) -> None:
    compiled = NamePattern(pattern)
    assert [n for n in matching + not_matching if compiled.search(n)] == matching


def test_an_unsupported_pattern_is_refused_with_the_whole_list_of_what_is_supported() -> None:
    assert problem("a{2}") == (
        "uses syntax outside the subset that Terraform (RE2) and the function read alike: "
        "literals, ., [...], \\d \\w \\s, escaped punctuation, ^ $, (...), (?:...), |, * + ?"
    )


def test_a_pattern_is_its_source() -> None:
    assert NamePattern("a+") == NamePattern("a+")
    assert NamePattern("a+") != NamePattern("a*")
    assert NamePattern("a+") != "a+"
    assert len({NamePattern("a+"), NamePattern("a+"), NamePattern("b")}) == 2
    assert repr(NamePattern("a+")) == "NamePattern('a+')"
