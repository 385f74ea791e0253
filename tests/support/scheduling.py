"""How `make test` shares 2 cores: pytest-xdist's work queue with the e2e groups first, and a lower
CPU priority for the workers outside tests/e2e/ (used by tests/conftest.py).

The e2e groups deploy examples into moto and spend most of their time waiting on the aws provider
(about 25 s on every SQS queue it creates): they are the run's longest chains, so they start at
once and their CPU bursts come first; everything else fills the gaps.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from xdist.scheduler import LoadGroupScheduling

# Niceness of a pytest-xdist worker once it runs its first test outside tests/e2e/.
BACKGROUND_NICENESS = 10


def start_rank(scope: str) -> int:
    """Where a work unit of `--dist loadgroup` starts: the e2e files' groups first, then the
    other groups, then single tests (a single test's scope is its node id)."""
    if scope.startswith("test_e2e_"):
        return 0
    return 2 if "::" in scope else 1


class E2eFirst(LoadGroupScheduling):
    """LoadGroupScheduling with its work queue in start_rank order (stable within a rank).
    xdist's own order, by number of tests, handed the 3- and 4-test e2e groups to workers after
    a minute of other work, and the run ended with them."""

    _ordered = False

    def _assign_work_unit(self, node: Any) -> None:
        if not self._ordered:  # the first call: schedule() has filled the whole work queue
            self._ordered = True
            units = sorted(self.workqueue.items(), key=lambda unit: start_rank(unit[0]))
            self.workqueue.clear()
            self.workqueue.update(units)
        super()._assign_work_unit(node)


def yield_cpu_outside_e2e(test_path: Path) -> None:
    """Lower this process's CPU priority (and that of the terraform, provider and moto
    processes it starts) for good, unless `test_path` is in tests/e2e/. A process cannot raise
    its priority again; with at least as many workers as e2e groups, which E2eFirst hands out
    first, no e2e test runs on a lowered worker."""
    outside_e2e = test_path.parent.name != "e2e"  # not any "e2e" above the repository
    if outside_e2e and os.getpriority(os.PRIO_PROCESS, 0) < BACKGROUND_NICENESS:
        os.setpriority(os.PRIO_PROCESS, 0, BACKGROUND_NICENESS)
