"""MemoryState: app mode's StateStore in a dict, for unit tests and `make run` scenarios."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import replace

from state import BUSY, DONE, NEW, AlarmMessage, DigestRecord, LiveDigest


class MemoryState:
    """Same answers as state.DynamoStore, kept in memory (no TTL: a test's life is short)."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.events: dict[str, tuple[str, float]] = {}
        self.messages: dict[str, AlarmMessage] = {}
        self.digests: dict[tuple[str, str], DigestRecord] = {}
        self.live: dict[str, LiveDigest] = {}
        self._clock = clock

    def claim(self, event_id: str, *, lease_seconds: float) -> str:
        now = self._clock()
        status, lease_until = self.events.get(event_id, ("", 0.0))
        if status == "done":
            return DONE
        if status == "pending" and lease_until >= now:
            return BUSY
        self.events[event_id] = ("pending", now + lease_seconds)
        return NEW

    def finish(self, event_id: str, *, delivered: bool) -> None:
        self.events[event_id] = ("done" if delivered else "failed", 0.0)

    def get_message(self, alarm_key: str) -> AlarmMessage | None:
        return self.messages.get(alarm_key)

    def put_message(self, message: AlarmMessage) -> None:
        self.messages[message.alarm_key] = message

    def put_digest(self, digest: DigestRecord) -> None:
        self.digests[(digest.channel, digest.ts)] = digest

    def resolve_in_digest(self, channel: str, ts: str, alarm_key: str) -> DigestRecord | None:
        digest = self.digests.get((channel, ts))
        if digest is None:
            return None
        digest = replace(digest, open_alarms=digest.open_alarms - {alarm_key})
        self.digests[(channel, ts)] = digest
        return digest

    def get_digest(self, channel: str, ts: str) -> DigestRecord | None:
        return self.digests.get((channel, ts))

    def join_digest(
        self, channel: str, ts: str, alarm_keys: list[str], counts: dict[str, int]
    ) -> DigestRecord | None:
        digest = self.digests.get((channel, ts))
        if digest is None:
            return None
        total = dict(digest.counts)
        for state, count in counts.items():
            total[state] = total.get(state, 0) + count
        digest = replace(
            digest, counts=total, open_alarms=digest.open_alarms | set(alarm_keys), joined=True
        )
        self.digests[(channel, ts)] = digest
        return digest

    def get_live(self, channel: str) -> LiveDigest | None:
        return self.live.get(channel)

    def put_live(self, live: LiveDigest) -> None:
        self.live[live.channel] = live

    # --- batched (one call each; DynamoStore splits them at DynamoDB's limits) ---------------

    def claim_many(self, event_ids: list[str], *, lease_seconds: float) -> dict[str, str]:
        return {e: self.claim(e, lease_seconds=lease_seconds) for e in dict.fromkeys(event_ids)}

    def get_messages(self, alarm_keys: list[str]) -> dict[str, AlarmMessage]:
        return {k: self.messages[k] for k in dict.fromkeys(alarm_keys) if k in self.messages}

    def write(
        self,
        *,
        messages: Sequence[AlarmMessage] = (),
        digests: Sequence[DigestRecord] = (),
        finished: dict[str, bool] | None = None,
    ) -> None:
        for message in messages:
            self.put_message(message)
        for digest in digests:
            self.put_digest(digest)
        for event_id, delivered in (finished or {}).items():
            self.finish(event_id, delivered=delivered)

    def record_posted(self, finished: dict[str, bool], digests: Sequence[DigestRecord]) -> None:
        self.write(digests=digests, finished=finished)

    def resolve_many_in_digest(
        self, channel: str, ts: str, alarm_keys: list[str]
    ) -> DigestRecord | None:
        digest = self.digests.get((channel, ts))
        if digest is None or not alarm_keys:
            return None
        digest = replace(digest, open_alarms=digest.open_alarms - set(alarm_keys))
        self.digests[(channel, ts)] = digest
        return digest
