"""moto_server for the chaos bench: tests/support/moto_server.py's server, plus one fix.

moto 5.2.5's TransactWriteItems backs up the whole table with copy.deepcopy once for every item
of the transaction (moto/dynamodb/models/__init__.py, transact_write_items): a 100-item claim
on a table of thousands of items makes 100 full copies. Seen here: the server grew to 5 GB in
two minutes and the kernel's OOM killer ended it at 23 GB; the time went to moto, not to what
DynamoDB would spend. Here each table is copied once per transaction (the same rollback state:
the copies were identical), so the figures measure the handler.

    python bench/moto_chaos.py serve -H HOST -p PORT   (started by bench/chaos.py)
"""

from __future__ import annotations

import sys
import threading
from pathlib import Path
from typing import Any

_HERE = Path(__file__).resolve().parent


def _copy_each_table_once() -> None:
    import copy  # noqa: PLC0415

    from moto.dynamodb import models  # noqa: PLC0415

    local = threading.local()

    class _Copy:
        """`copy` as moto's DynamoDB models see it: in a transaction, one copy per object."""

        def __getattr__(self, name: str) -> Any:  # noqa: ANN401
            return getattr(copy, name)

        @staticmethod
        def deepcopy(value: Any, memo: Any = None) -> Any:  # noqa: ANN401
            cache = getattr(local, "copies", None)
            if cache is None:
                return copy.deepcopy(value, memo)
            if id(value) not in cache:
                cache[id(value)] = copy.deepcopy(value, memo)
            return cache[id(value)]

    models.copy = _Copy()  # type: ignore[assignment]
    transact = models.DynamoDBBackend.transact_write_items

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:  # noqa: ANN401
        local.copies = {}
        try:
            transact(self, transact_items)
        finally:
            local.copies = None

    models.DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]


if __name__ == "__main__":
    if sys.argv[1:2] != ["serve"]:
        sys.exit("usage: moto_chaos.py serve [moto_server options]")
    # bench/ must not shadow what moto imports; support.* comes from tests/.
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
    sys.path.append(str(_HERE.parent / "tests"))
    from support import moto_server

    _copy_each_table_once()
    moto_server._serve(sys.argv[2:])
