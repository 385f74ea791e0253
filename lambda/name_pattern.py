"""Route name patterns (alarm_name_regex): the regular expressions that Terraform's RE2 (Go's
regexp) and this module read alike, matched in time linear in the alarm name; pure.

Python's `re` backtracks: `^([a-z0-9]+-?)*-db$` takes seconds on a 28-character name, four
times longer for every two characters more, and one alarm name would freeze a whole batch.
Here a pattern becomes a Thompson NFA that is run state set by state set (a Pike VM without
captures): each instruction is visited at most once per position, so a search takes at most
(len(name) + 1) x len(program) steps, whatever the pattern. Only yes or no is asked, so
leftmost-first and leftmost-longest semantics never differ.

Which patterns are accepted is one rule, written twice and compared by the tests: TOKENS and
LENGTH here, and the same two strings in variables.tf's slack_routes validation. The token rule
leaves out what RE2 and Python read differently or what they lack: flags `(?i)`, `\\z`, `\\Z`,
`\\b`, `\\A`, `\\Q...\\E`, `\\p{..}`, POSIX classes `[[:digit:]]`, backreferences, named groups,
lookaround, possessive and atomic forms, and counted repetition `{n,m}` (Python reads `x{,3}`
as a repetition, RE2 as text). What it keeps: literals, `.`, `[...]` and `[^...]` with ranges,
`\\d \\w \\s` and their negations in RE2's ASCII meaning, escaped punctuation, `^`, `$`, groups
`(...)`/`(?:...)`, `|`, and `* + ?` with their lazy forms.
"""

from __future__ import annotations

import re

# A pattern is a sequence of these tokens (fully matched: Python re.fullmatch, Terraform
# "^(?:TOKENS)$"): ^ $ |, ( or (?:, then an atom with an optional quantifier: a literal, an
# escape, a bracket class (no [ inside, only \\ \[ \] \^ \- escaped) or ).
TOKENS = (
    r"(?:[$^|]|\((?:\?:)?|(?:[^\\^$*+?()\[\]{}|]|\\[dDwWsS.^$*+?()\[\]{}|\\/-]"
    r"|\[\^?(?:[^\\\[\]]|\\[\\\[\]^-])+\]|\))(?:[*+?]\??)?)+"
)
# 1 to 255 code points (Go's regexp, like Python, counts code points): CloudWatch's longest
# alarm name, and it bounds the program, so a search is bounded too.
LENGTH = r"[\s\S]{1,255}"

_MATCH, _CHAR, _SPLIT, _BEGIN, _END = range(5)
# RE2's (Perl's) ASCII classes; Python's \d \w \s would also take non-ASCII digits and spaces.
_DIGIT = ((48, 57),)
_WORD = ((48, 57), (65, 90), (95, 95), (97, 122))
_SPACE = ((9, 10), (12, 13), (32, 32))
_CLASSES = {"d": _DIGIT, "w": _WORD, "s": _SPACE}
_NEWLINE = ((10, 10),)

# typing costs cold-start time and is only needed by type checkers.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    Node = tuple[Any, ...]


class PatternError(ValueError):
    """The pattern is outside the accepted subset or not a valid regular expression."""


def problem(pattern: str) -> str | None:
    """Why Terraform's validation refuses `pattern` (the same rule), or None."""
    if re.fullmatch(LENGTH, pattern) is None:
        return "must be 1 to 255 characters long"
    if re.fullmatch(TOKENS, pattern) is None:
        return (
            "uses syntax outside the subset that Terraform (RE2) and the function read alike: "
            "literals, ., [...], \\d \\w \\s, escaped punctuation, ^ $, (...), (?:...), |, * + ?"
        )
    return None


class _Parser:
    """Recursive descent over a pattern that passed TOKENS: builds a small syntax tree."""

    def __init__(self, pattern: str) -> None:
        self.text = pattern
        self.pos = 0

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def take(self) -> str:
        char = self.text[self.pos]
        self.pos += 1
        return char

    def alternation(self) -> Node:
        branches = [self.sequence()]
        while self.peek() == "|":
            self.pos += 1
            branches.append(self.sequence())
        return ("alt", branches) if len(branches) > 1 else branches[0]

    def sequence(self) -> Node:
        items = []
        while self.peek() not in ("", "|", ")"):
            items.append(self.quantified())
        return ("cat", items)

    def quantified(self) -> Node:
        atom = self.atom()
        if self.peek() in ("*", "+", "?"):
            atom = (self.take(), atom)
            if self.peek() == "?":  # lazy: the same yes or no
                self.pos += 1
        return atom

    def atom(self) -> Node:
        char = self.take()
        if char == "(":
            if self.text.startswith("?:", self.pos):
                self.pos += 2
            inner = self.alternation()
            if self.peek() != ")":
                raise PatternError(f"missing ) for the ( at {self.pos}")
            self.pos += 1
            return inner
        if char in ("^", "$"):
            return ("begin" if char == "^" else "end",)
        if char == ".":
            return ("char", True, _NEWLINE)
        if char == "[":
            return self.bracket()
        if char == "\\":
            escaped = self.take()
            if escaped.lower() in _CLASSES:
                return ("char", escaped.isupper(), _CLASSES[escaped.lower()])
            char = escaped
        return ("char", False, ((ord(char), ord(char)),))

    def bracket(self) -> Node:
        negated = self.peek() == "^"
        if negated:
            self.pos += 1
        if self.peek() == "]":
            # Go's regexp and Python read a ] right after [ or [^ as a literal, which leaves
            # the class unclosed.
            raise PatternError(f"missing ] for the [ before {self.pos}")
        ranges = []
        while self.peek() != "]":
            low = self.class_char()
            high = low
            if self.text.startswith("-", self.pos) and self.text[self.pos + 1] != "]":
                self.pos += 1
                high = self.class_char()
                if high < low:
                    raise PatternError(f"invalid range {chr(low)}-{chr(high)} in [...]")
            ranges.append((low, high))
        self.pos += 1
        return ("char", negated, tuple(ranges))

    def class_char(self) -> int:
        char = self.take()
        return ord(self.take() if char == "\\" else char)


def parse(pattern: str) -> Node:
    """The syntax tree of an accepted pattern; PatternError for anything Terraform refuses."""
    reason = problem(pattern)
    if reason is not None:
        raise PatternError(reason)
    parser = _Parser(pattern)
    tree = parser.alternation()
    if parser.pos != len(pattern):
        raise PatternError(f"unmatched ) at {parser.pos}")
    return tree


def _compile(node: Node, after: int, program: list[Any]) -> int:
    """Emit `node` so that it continues at `after`; return where it starts."""
    kind = node[0]
    if kind == "char":
        program.append((_CHAR, node[1], node[2], after))
    elif kind == "cat":
        for item in reversed(node[1]):
            after = _compile(item, after, program)
        return after
    elif kind == "alt":
        starts = [_compile(branch, after, program) for branch in node[1]]
        start = starts[-1]
        for other in reversed(starts[:-1]):
            program.append((_SPLIT, other, start))
            start = len(program) - 1
        return start
    elif kind == "?":
        program.append((_SPLIT, _compile(node[1], after, program), after))
    elif kind in ("*", "+"):
        loop = len(program)
        program.append(None)  # the loop's split, once the body's start is known
        body = _compile(node[1], loop, program)
        program[loop] = (_SPLIT, body, after)
        return loop if kind == "*" else body
    else:
        program.append((_BEGIN if kind == "begin" else _END, after))
    return len(program) - 1


class NamePattern:
    """A compiled route pattern: search() is re.search(...) is not None, in linear time."""

    __slots__ = ("program", "source", "start")

    def __init__(self, source: str) -> None:
        self.source = source
        self.program: list[Any] = [(_MATCH,)]
        self.start = _compile(parse(source), 0, self.program)

    def __repr__(self) -> str:
        return f"NamePattern({self.source!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, NamePattern) and other.source == self.source

    def __hash__(self) -> int:
        return hash(self.source)

    def search(self, text: str) -> bool:
        """Whether the pattern matches anywhere in `text`."""
        return self.search_counting(text)[0]

    def search_counting(self, text: str) -> tuple[bool, int]:
        """search(), and how many instructions it visited: at most
        (len(text) + 1) x len(self.program), the bound the tests check."""
        program = self.program
        steps = 0
        threads: set[int] = set()
        for position in range(len(text) + 1):
            # Unanchored: a new thread starts at every position.
            stack = [*threads, self.start]
            seen: set[int] = set()
            waiting = []
            while stack:
                pc = stack.pop()
                if pc in seen:
                    continue
                seen.add(pc)
                steps += 1
                op = program[pc]
                kind = op[0]
                if kind == _MATCH:
                    return True, steps
                if kind == _SPLIT:
                    stack += (op[1], op[2])
                elif kind == _BEGIN:
                    if position == 0:
                        stack.append(op[1])
                elif kind == _END:
                    if position == len(text):
                        stack.append(op[1])
                else:
                    waiting.append(op)
            if position == len(text):
                break
            code = ord(text[position])
            threads = {
                op[3] for op in waiting if any(low <= code <= high for low, high in op[2]) != op[1]
            }
        return False, steps
