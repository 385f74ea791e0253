"""Mutation scores per module from `mutmut results --all true` (read on stdin); `make mutation`.

A mutant counts as caught when a test failed on it (killed) or it hung past mutmut's timeout;
survivors and mutants no test reaches ("no tests") count against the score. Mutants mutmut did
not get to ("not checked", "skipped") are left out and reported.
"""

from __future__ import annotations

import re
import sys
from collections import Counter, defaultdict

CAUGHT = {"killed", "timeout", "caught by type check"}
NOT_RUN = {"not checked", "skipped", "check was interrupted by user"}
_LINE = re.compile(r"^\s*(?P<module>[A-Za-z_][A-Za-z0-9_]*)\.(?P<mutant>\S+): (?P<status>.+)$")


def scores(lines: list[str]) -> dict[str, Counter[str]]:
    """Status counts per module."""
    by_module: dict[str, Counter[str]] = defaultdict(Counter)
    for line in lines:
        match = _LINE.match(line)
        if match:
            by_module[match["module"]][match["status"].strip()] += 1
    return by_module


def report(by_module: dict[str, Counter[str]], modules: list[str]) -> tuple[str, float | None]:
    """A table of scores and the overall score (None when nothing ran)."""
    rows = ["module            caught / counted   score   not run"]
    caught_total = counted_total = 0
    for module in modules or sorted(by_module):
        counts = by_module.get(module, Counter())
        caught = sum(n for status, n in counts.items() if status in CAUGHT)
        counted = sum(n for status, n in counts.items() if status not in NOT_RUN)
        not_run = sum(n for status, n in counts.items() if status in NOT_RUN)
        caught_total += caught
        counted_total += counted
        score = f"{100 * caught / counted:5.1f} %" if counted else "    -  "
        rows.append(f"{module:<17} {caught:>6} / {counted:<7}  {score}  {not_run:>7}")
    overall = caught_total / counted_total if counted_total else None
    shown = f"{100 * overall:5.1f} %" if overall is not None else "    -  "
    rows.append(f"{'all':<17} {caught_total:>6} / {counted_total:<7}  {shown}")
    return "\n".join(rows), overall


def main(argv: list[str]) -> int:
    by_module = scores(sys.stdin.read().splitlines())
    table, _ = report(by_module, argv[1:])
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
