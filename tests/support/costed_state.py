"""CostedState: MemoryState that counts DynamoDB calls as DynamoStore would make them, so a
test can charge each call its latency and stop ("kill") the process at a chosen call.

moto's TransactWriteItems copies the whole table for every transaction (measured: 4 minutes
for one 1,000-record batch), so batch-sized tests use this instead; tests/test_state.py keeps
DynamoStore on moto and this store answering alike.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from state import (
    BATCH_GET_LIMIT,
    BATCH_WRITE_LIMIT,
    TRANSACT_LIMIT,
    AlarmMessage,
    DigestRecord,
    LiveDigest,
)
from support.memory_state import MemoryState


class CostedState(MemoryState):
    """Each method charges `on_call` once per DynamoDB request DynamoStore would send for it
    (DynamoDB's per-call limits: BatchGetItem 100 keys, BatchWriteItem 25 items,
    TransactWriteItems 100 actions; state.py). `on_call` may raise to kill the process
    before the request takes effect."""

    def __init__(self, clock: Callable[[], float], on_call: Callable[[], None]) -> None:
        super().__init__(clock=clock)
        self.on_call = on_call
        self._inside = 0  # MemoryState's batched methods call the single ones: charged once

    def _charge(self, requests: int) -> None:
        if self._inside:
            return
        for _ in range(max(1, requests)):
            self.on_call()

    def _free(self, call: Callable[[], object]) -> object:
        self._inside += 1
        try:
            return call()
        finally:
            self._inside -= 1

    def claim(self, event_id: str, *, lease_seconds: float) -> str:
        self._charge(1)  # a conditional PutItem
        return super().claim(event_id, lease_seconds=lease_seconds)

    def finish(self, event_id: str, *, delivered: bool) -> None:
        self._charge(1)
        super().finish(event_id, delivered=delivered)

    def get_message(self, alarm_key: str) -> AlarmMessage | None:
        self._charge(1)
        return super().get_message(alarm_key)

    def put_message(self, message: AlarmMessage) -> None:
        self._charge(1)
        super().put_message(message)

    def put_digest(self, digest: DigestRecord) -> None:
        self._charge(1)
        super().put_digest(digest)

    def resolve_in_digest(self, channel: str, ts: str, alarm_key: str) -> DigestRecord | None:
        self._charge(1)
        return super().resolve_in_digest(channel, ts, alarm_key)

    def get_digest(self, channel: str, ts: str) -> DigestRecord | None:
        self._charge(1)
        return super().get_digest(channel, ts)

    def join_digest(
        self, channel: str, ts: str, alarm_keys: list[str], counts: dict[str, int]
    ) -> DigestRecord | None:
        self._charge(1)  # one UpdateItem
        return super().join_digest(channel, ts, alarm_keys, counts)

    def get_live(self, channel: str) -> LiveDigest | None:
        self._charge(1)
        return super().get_live(channel)

    def put_live(self, live: LiveDigest) -> None:
        self._charge(1)
        super().put_live(live)

    def claim_many(self, event_ids: list[str], *, lease_seconds: float) -> dict[str, str]:
        ids = list(dict.fromkeys(event_ids))
        answers: dict[str, str] = {}
        for start in range(0, len(ids), TRANSACT_LIMIT):  # one transaction per 100 (all or none)
            self._charge(1)
            for event_id in ids[start : start + TRANSACT_LIMIT]:
                answers[event_id] = self._free(
                    lambda e=event_id: MemoryState.claim(self, e, lease_seconds=lease_seconds)
                )
        return answers

    def get_messages(self, alarm_keys: list[str]) -> dict[str, AlarmMessage]:
        self._charge(math.ceil(len(set(alarm_keys)) / BATCH_GET_LIMIT))
        return self._free(lambda: MemoryState.get_messages(self, alarm_keys))

    def write(
        self,
        *,
        messages: Sequence[AlarmMessage] = (),
        digests: Sequence[DigestRecord] = (),
        finished: dict[str, bool] | None = None,
    ) -> None:
        # Each BatchWriteItem call of 25 takes effect (or not) before the next one is sent.
        items = (
            [("m", m) for m in messages]
            + [("d", d) for d in digests]
            + [("f", f) for f in (finished or {}).items()]
        )
        for start in range(0, len(items), BATCH_WRITE_LIMIT):
            self._charge(1)
            for kind, item in items[start : start + BATCH_WRITE_LIMIT]:
                if kind == "m":
                    self._free(lambda m=item: MemoryState.put_message(self, m))
                elif kind == "d":
                    self._free(lambda d=item: MemoryState.put_digest(self, d))
                else:
                    self._free(lambda f=item: MemoryState.finish(self, f[0], delivered=f[1]))

    def record_posted(self, finished: dict[str, bool], digests: Sequence[DigestRecord]) -> None:
        if len(finished) + len(digests) > TRANSACT_LIMIT:
            self.write(digests=digests, finished=finished)
            return
        self._charge(1)  # one transaction: all of it or nothing
        self._free(lambda: MemoryState.write(self, digests=digests, finished=finished))

    def resolve_many_in_digest(
        self, channel: str, ts: str, alarm_keys: list[str]
    ) -> DigestRecord | None:
        self._charge(1)
        return self._free(lambda: MemoryState.resolve_many_in_digest(self, channel, ts, alarm_keys))
