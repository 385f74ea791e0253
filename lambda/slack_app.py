"""Slack app mode: one alert, one place. Post on ALARM, update in place and reply on OK.

The state (which message belongs to which alarm) is a StateStore (state.py); the Web API is a
SlackApi (slack_api.py). The payload rendering here is pure; SlackApp does the I/O.
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

import lifecycle
import records
from alarm import Alarm, Received, parse_timestamp
from delivery import Pacer, Sent
from formatting import HEADER_LIMIT, STATE_STYLES, MessagePart, escape, truncate
from grouping import Entry, Notification
from lifecycle import alarm_key
from render import render_notification
from settings import Settings
from slack import Delivery
from slack_api import TOKEN_ERRORS, ApiResult, SlackApi
from state import BUSY, DONE, NEW, AlarmMessage, DigestRecord, LiveDigest, StateStore

# typing costs cold-start time and is only needed by type checkers.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

logger = logging.getLogger("alarm_to_slack")

OK_EMOJI, OK_COLOR = STATE_STYLES["OK"]
# chat.postMessage takes these from a webhook payload; username/icon_emoji would need the
# chat:write.customize scope, so app mode leaves them out.
MESSAGE_KEYS = ("text", "blocks", "attachments")
# chat.update is Tier 3, "50+ per minute" per workspace (Slack's rate limits page, and
# tests/support/fake_slack_api.py): 1.2 s apart stays inside it with no burst.
UPDATE_INTERVAL = 1.2
WORKSPACE = "workspace"
# conversations.history: the newest messages searched for an unsure post (at most 999 a call;
# Tier 3 for internal apps). A redelivery comes minutes later: at about one message a second
# per channel, 200 covers the visibility timeout.
HISTORY_LIMIT = 200
# chat.postMessage refuses the content itself with these (its method page, "Errors"; the
# webhook path's delivery.REFUSED_CONTENT is the first three): the same alarms are posted again
# in plain text (render.plain_fallback) instead of dropped.
REFUSED_CONTENT_ERRORS = frozenset(
    {"invalid_blocks", "invalid_blocks_format", "msg_blocks_too_long", "invalid_attachments",
     "too_many_attachments", "msg_too_long"}
)  # fmt: skip
# Slack: at most 50 blocks per message (Block Kit reference, "Blocks").
BLOCKS_LIMIT = 50

APP_LABELS = {
    "en": {
        "resolved_after": "Resolved after {duration}",
        "resolved": "Resolved",
        "still_open": "{open} still open",
        "all_resolved": "all resolved",
        "late": "Arrived late: this change happened before the state shown; it changes nothing.",
        "units": ("d", "h", "min", "s"),
        "joiner": " ",
    },
    "ko": {
        "resolved_after": "{duration} 만에 해결됨",
        "resolved": "해결됨",
        "still_open": "{open}개 미해결",
        "all_resolved": "모두 해결됨",
        "late": "늦게 도착함: 지금 표시된 상태보다 이전의 변경이라 아무것도 바꾸지 않습니다.",
        "units": ("일", "시간", "분", "초"),
        "joiner": "",
    },
}


# --- pure rendering -----------------------------------------------------------------------


def format_duration(seconds: float, language: str = "en") -> str:
    """A short human duration: 45 s, 8 min, 1 h 5 min, 2 d 3 h (Korean: 45초, 8분, 1시간 5분)."""
    labels = APP_LABELS.get(language, APP_LABELS["en"])
    day, hour, minute, second = labels["units"]
    space = labels["joiner"]
    total = max(0, round(seconds))
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        parts = [(days, day), (hours, hour)]
    elif hours:
        parts = [(hours, hour), (minutes, minute)]
    elif minutes:
        parts = [(minutes, minute)]
    else:
        parts = [(secs, second)]
    return " ".join(f"{value}{space}{unit}" for value, unit in parts if value or len(parts) == 1)


def resolved_label(since: str | None, resolved_at: str | None, language: str = "en") -> str:
    """ "Resolved after 8 min" when both times are known, else "Resolved"."""
    labels = APP_LABELS.get(language, APP_LABELS["en"])
    start = parse_timestamp(since) if since else None
    end = parse_timestamp(resolved_at) if resolved_at else None
    if start is None or end is None or end < start:
        return labels["resolved"]
    duration = format_duration((end - start).total_seconds(), language)
    return labels["resolved_after"].replace("{duration}", duration)


def _header_blocks(payload: dict[str, Any]) -> list[dict[str, Any]]:
    blocks = list(payload.get("blocks") or [])
    for attachment in payload.get("attachments") or []:
        blocks += attachment.get("blocks") or []
    return [b for b in blocks if b.get("type") == "header"]


def resolved_payload(
    original: dict[str, Any], ok: Alarm, since: str | None, settings: Settings
) -> dict[str, Any]:
    """The original ALARM message turned green and marked resolved; its details are kept."""
    label = resolved_label(since, ok.timestamp, settings.language)
    payload = json.loads(json.dumps(original))  # a deep copy: the original stays as stored
    name = escape(ok.name or "")
    payload["text"] = truncate(f"{OK_EMOJI} *{label}*: {name}", 3000)
    for attachment in payload.get("attachments") or []:
        attachment["color"] = OK_COLOR
    for header in _header_blocks(payload)[:1]:
        header["text"]["text"] = truncate(f"{OK_EMOJI} {label}: {ok.name or ''}", HEADER_LIMIT)
    return payload


def _count_states(alarms: list[Alarm]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for alarm in alarms:
        state = alarm.state or "other"
        counts[state] = counts.get(state, 0) + 1
    return counts


def live_header_payload(
    payload: dict[str, Any], counts: dict[str, int], language: str = "en"
) -> dict[str, Any]:
    """A live storm digest's first message with its header counting everything it lists now
    (its first batch and every batch that joined its thread)."""
    from digest import DIGEST_LABELS, STATE_ORDER  # noqa: PLC0415 - digests only

    labels = DIGEST_LABELS.get(language, DIGEST_LABELS["en"])
    total = sum(counts.values())
    title = labels["title_one"] if total == 1 else labels["title"].replace("{count}", str(total))
    ordered = sorted(counts.items(), key=lambda kv: (STATE_ORDER.get(kv[0], 2), kv[0]))
    summary = f"{title}: " + ", ".join(f"{n} {state}" for state, n in ordered)
    state = next((s for s in ("ALARM", "INSUFFICIENT_DATA") if counts.get(s)), "OK")
    emoji, color = STATE_STYLES[state]
    live = json.loads(json.dumps(payload))
    for header in _header_blocks(live)[:1]:
        header["text"]["text"] = truncate(f"{emoji} {summary}", HEADER_LIMIT)
    live["text"] = truncate(f"{emoji} *{escape(summary)}*", 3000)
    for attachment in live.get("attachments") or []:
        attachment["color"] = color
    return live


def late_payload(payload: dict[str, Any], language: str = "en") -> dict[str, Any]:
    """An event older than the state shown, for the thread: the message with a note on top."""
    labels = APP_LABELS.get(language, APP_LABELS["en"])
    note = labels["late"]
    late = json.loads(json.dumps(payload))
    late["text"] = truncate(f"_{note}_ {late.get('text') or ''}", 3000)
    attachments = late.get("attachments") or []
    if attachments and len(attachments[0].get("blocks") or []) < BLOCKS_LIMIT:
        context = {"type": "context", "elements": [{"type": "mrkdwn", "text": f"_{note}_"}]}
        attachments[0]["blocks"] = [context, *attachments[0]["blocks"]]
    return late


def digest_progress_payload(digest: DigestRecord, language: str = "en") -> dict[str, Any]:
    """The digest's first message with "→ 12 still open" (or "→ all resolved") added."""
    labels = APP_LABELS.get(language, APP_LABELS["en"])
    remaining = len(digest.open_alarms)
    progress = (
        labels["still_open"].replace("{open}", str(remaining))
        if remaining
        else labels["all_resolved"]
    )
    payload = json.loads(json.dumps(digest.payload))
    headers = _header_blocks(payload)
    if headers:
        text = headers[0]["text"]["text"]
        headers[0]["text"]["text"] = truncate(f"{text} → {progress}", HEADER_LIMIT)
    payload["text"] = truncate(f"{payload.get('text') or ''} → {progress}", 3000)
    if not remaining:
        for attachment in payload.get("attachments") or []:
            attachment["color"] = OK_COLOR
    return payload


# --- I/O ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Posted:
    """The outcome of delivering one notification in app mode: safe to log."""

    delivered: bool
    outcome: str
    channel: str | None = None
    ts: str | None = None
    thread_ts: str | None = None
    error: str | None = None
    attempts: int = 0
    status: int | None = None

    @staticmethod
    def of(result: ApiResult, outcome: str, channel: str, **extra: str | None) -> Posted:
        """The outcome of a notification whose main Web API call was `result`."""
        return Posted(
            delivered=result.ok,
            outcome=outcome if result.ok else result.delivery.outcome,
            channel=result.channel or channel,
            ts=result.ts if result.ok else None,
            error=result.error,
            attempts=result.delivery.attempts,
            status=result.delivery.status,
            **extra,
        )

    def as_delivery(self) -> Delivery:
        return Delivery(self.delivered, self.outcome, self.attempts, self.status, self.error)


def _log(level: int, **fields: object) -> None:
    logger.log(level, json.dumps(fields, ensure_ascii=False, default=str))


class SlackApp:
    """Delivers alarm messages and digests through the Web API, keeping one place per alarm."""

    def __init__(
        self,
        api: SlackApi,
        store: StateStore,
        settings: Settings,
        *,
        pacer: Pacer | None = None,
        on_token_error: Callable[[], None] | None = None,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.api = api
        self.store = store
        self.settings = settings
        self.pacer = pacer or Pacer(settings.message_interval, sleep=api.sleep, clock=api.clock)
        self.on_token_error = on_token_error
        # chat.update is Tier 3 (about 50 a minute per workspace): one every UPDATE_INTERVAL.
        self.update_pacer = Pacer(UPDATE_INTERVAL, sleep=api.sleep, clock=api.clock)
        self.resolutions: dict[
            tuple[str, str, bool], list[tuple[AlarmMessage, Alarm, Entry | None]]
        ] = {}
        # Event ids already recorded as delivered (right after their message was posted).
        self.recorded: set[str] = set()
        self._entry: Entry | None = None
        self.wall_clock = wall_clock
        # Live storm digests whose header counts changed: one chat.update each, in flush().
        self.live_updates: dict[tuple[str, str], DigestRecord] = {}
        self._live: dict[str, DigestRecord | None] = {}
        self._pending_live: LiveDigest | None = None

    # --- Web API calls with logging -------------------------------------------------------

    def _post(
        self,
        channel: str,
        payload: dict[str, Any],
        *,
        deadline: float | None,
        thread_ts: str | None = None,
        broadcast: bool = False,
        metadata: dict[str, Any] | None = None,
    ) -> ApiResult:
        arguments = {key: payload[key] for key in MESSAGE_KEYS if key in payload}
        arguments["channel"] = channel
        if metadata:
            arguments["metadata"] = metadata
        if thread_ts:
            arguments["thread_ts"] = thread_ts
            if broadcast:
                arguments["reply_broadcast"] = True
        if not self.pacer.wait_turn(channel, math.inf if deadline is None else deadline):
            late = Delivery(False, "out_of_time", 0, error="no time left to try")
            return ApiResult(late)
        result = self._checked("chat.postMessage", channel, arguments, deadline)
        self.pacer.sent(channel, result.delivery)
        return result

    def _update(
        self, channel: str, ts: str, payload: dict[str, Any], *, deadline: float | None
    ) -> ApiResult:
        arguments = {key: payload[key] for key in MESSAGE_KEYS if key in payload}
        arguments.update(channel=channel, ts=ts)
        if not self.update_pacer.wait_turn(WORKSPACE, math.inf if deadline is None else deadline):
            return ApiResult(Delivery(False, "out_of_time", 0, error="no time left to try"))
        result = self._checked("chat.update", channel, arguments, deadline)
        self.update_pacer.sent(WORKSPACE, result.delivery)
        return result

    def _checked(
        self, method: str, channel: str, arguments: dict[str, Any], deadline: float | None
    ) -> ApiResult:
        result = self.api.call(method, arguments, deadline=deadline)
        if result.ok:
            return result
        fields: dict[str, object] = {
            "message": "slack api error",
            "method": method,
            "channel": channel,
            "error": result.error,
            "outcome": result.delivery.outcome,
            "attempts": result.delivery.attempts,
            "http_status": result.delivery.status,
        }
        if result.hint:
            fields["what_to_do"] = result.hint
        for key in ("needed", "provided"):
            if isinstance((result.response or {}).get(key), str):
                fields[key] = result.response[key]
        _log(logging.WARNING if result.message_gone else logging.ERROR, **fields)
        if result.error in TOKEN_ERRORS and self.on_token_error is not None:
            self.on_token_error()
        return result

    # --- state, never fatal ---------------------------------------------------------------

    def _state(self, action: str, call: Callable[[], Any]) -> Any:  # noqa: ANN401
        """A state read or write; a failure is logged and degrades to "no state" (never drops
        the alert: at worst a message is not threaded)."""
        try:
            return call()
        except Exception as exc:
            _log(
                logging.ERROR,
                message="state store error",
                action=action,
                error=f"{type(exc).__name__}: {exc}",
            )
            return None

    # --- delivery -------------------------------------------------------------------------

    def deliver_alarm(
        self,
        alarm: Alarm,
        payload: dict[str, Any],
        channel: str,
        *,
        deadline: float | None,
        known: dict[str, AlarmMessage] | None = None,
        entry: Entry | None = None,
    ) -> Posted:
        """One alarm's message: what lifecycle.plan decides, given the alarm's stored record
        (from `known` when the caller read the records of a whole batch at once)."""
        key = alarm_key(alarm)
        if key is None:
            record = None
        elif known is not None:
            record = known.get(key)
        else:
            record = self._state("get", lambda: self.store.get_message(key))
        self._entry = entry
        return self.apply(lifecycle.plan(record, alarm, channel), alarm, key, payload, record,
                          deadline=deadline)  # fmt: skip

    def apply(  # noqa: PLR0911 - one return per lifecycle action
        self,
        step: lifecycle.Plan,
        alarm: Alarm,
        key: str | None,
        payload: dict[str, Any],
        record: AlarmMessage | None,
        *,
        deadline: float | None,
    ) -> Posted:
        """Make the Slack calls of one lifecycle step and store the record it leads to."""
        if step.action == lifecycle.NOTHING:
            return Posted(True, "duplicate", step.channel, thread_ts=step.ts)
        if step.action == lifecycle.FIND and record is not None and key is not None:
            found = self._find(alarm, key, record, deadline=deadline)
            if found is None or not found.ts:
                # Not there (the earlier post did not land), or the history could not be read:
                # posting again then risks a repeat, never a loss.
                return self._post_new(alarm, key, payload, step.channel, deadline=deadline)
            self._state("put", lambda: self.store.put_message(found))
            return self.apply(lifecycle.plan(found, alarm, step.channel), alarm, key, payload,
                              found, deadline=deadline)  # fmt: skip
        if record is None or key is None or step.action == lifecycle.POST:
            return self._post_new(alarm, key, payload, step.channel, deadline=deadline)
        if step.action == lifecycle.LATE:
            late = late_payload(payload, self.settings.language)
            result = self._post(record.channel, late, deadline=deadline, thread_ts=record.ts)
            return Posted.of(result, "late", record.channel, thread_ts=record.ts)
        if step.action == lifecycle.FINISH_RESOLVE:
            return self._finish_resolve(alarm, key, payload, record, deadline=deadline)
        if step.action == lifecycle.RESOLVE:
            return self._resolve(alarm, key, payload, record, deadline=deadline)
        return self._reply_while_open(alarm, key, payload, record, deadline=deadline)

    def _post_new(
        self,
        alarm: Alarm,
        key: str | None,
        payload: dict[str, Any],
        channel: str,
        *,
        deadline: float | None,
    ) -> Posted:
        meta = lifecycle.metadata(alarm, key) if key is not None else None
        result = self._post(channel, payload, deadline=deadline, metadata=meta)
        if result.error in REFUSED_CONTENT_ERRORS:
            # Slack refused the blocks (a limit we did not foresee): the plain form, still posted.
            from render import plain_fallback  # noqa: PLC0415 - only after a refusal

            payload = plain_fallback((Entry(alarm),), self.settings)[0].payload
            result = self._post(channel, payload, deadline=deadline, metadata=meta)
        if result.ambiguous and key is not None:
            # It may be in the channel: remember that, so the next attempt looks before posting.
            doubt = lifecycle.unsure(alarm, key, channel, payload)
            self._state("put", lambda: self.store.put_message(doubt))
        if not result.ok:
            return Posted.of(result, "posted", channel)
        if key is not None and result.ts:
            message = lifecycle.posted(alarm, key, result.channel or channel, result.ts, payload)
            self._state("put", lambda: self.store.put_message(message))
        return Posted.of(result, "posted", channel)

    def _find(
        self, alarm: Alarm, key: str, record: AlarmMessage, *, deadline: float | None
    ) -> AlarmMessage | None:
        """After an ambiguous post: the alarm's message if the channel shows it (record with its
        ts), a record without ts if it does not, None if the history could not be read."""
        result = self._checked(
            "conversations.history",
            record.channel,
            {"channel": record.channel, "limit": HISTORY_LIMIT, "include_all_metadata": True},
            deadline,
        )
        if not result.ok:
            return None
        for message in (result.response or {}).get("messages") or []:
            if isinstance(message, dict) and lifecycle.is_message_of(message, alarm, key):
                _log(logging.INFO, message="found the message of an unsure post",
                     alarm_name=alarm.name, outcome="reconciled")  # fmt: skip
                return replace(record, ts=str(message.get("ts") or ""), unsure=False)
        return replace(record, ts="", unsure=False)

    def _reply_while_open(
        self,
        alarm: Alarm,
        key: str,
        payload: dict[str, Any],
        record: AlarmMessage,
        *,
        deadline: float | None,
    ) -> Posted:
        """ALARM (or INSUFFICIENT_DATA) again while the message is open: into its thread."""
        result = self._post(record.channel, payload, deadline=deadline, thread_ts=record.ts)
        if result.message_gone:
            return self._post_new(alarm, key, payload, record.channel, deadline=deadline)
        if result.ok:
            updated = lifecycle.replied(record, alarm)
            if updated != record:
                self._state("put", lambda: self.store.put_message(updated))
        return Posted.of(result, "replied", record.channel, thread_ts=record.ts)

    def _resolve(
        self,
        alarm: Alarm,
        key: str,
        payload: dict[str, Any],
        record: AlarmMessage,
        *,
        deadline: float | None,
    ) -> Posted:
        """OK for an open message: the OK goes into its thread, the message turns resolved.

        The record is closed only after the reply landed, and stays "update pending" until the
        message itself turned green: a failed update is tried again (update only) when the
        record comes back, never left red and never replied twice.
        """
        broadcast = self.settings.reply_broadcast
        reply = self._post(
            record.channel, payload, deadline=deadline, thread_ts=record.ts, broadcast=broadcast
        )
        if reply.message_gone:
            # The message (or the digest) was deleted: the OK still reaches the channel.
            posted = self._post_new(alarm, key, payload, record.channel, deadline=deadline)
            return replace(posted, outcome="posted_after_message_gone")
        if not reply.ok:
            return Posted.of(reply, "resolved", record.channel)
        pending = lifecycle.resolved(record, alarm, updated=False)
        self._state("put", lambda: self.store.put_message(pending))
        finished = self._finish_resolve(alarm, key, payload, pending, deadline=deadline)
        if finished.outcome != "resolved":
            return finished
        return Posted.of(reply, "resolved", record.channel, thread_ts=record.ts)

    def _finish_resolve(
        self,
        alarm: Alarm,
        key: str,
        payload: dict[str, Any],
        record: AlarmMessage,
        *,
        deadline: float | None,
    ) -> Posted:
        """Turn a resolved alarm's message green (its OK reply is already in the thread)."""
        del key
        if record.digest:
            # Once per digest message per invocation (flush): a resolving storm must not send
            # one chat.update of the same digest per OK (Tier 3, about 50 a minute).
            self.queue_resolution(record, alarm, self._entry)
            return Posted(True, "resolved", record.channel, thread_ts=record.ts)
        original = record.payload or payload
        update = self._update(
            record.channel,
            record.ts,
            resolved_payload(original, alarm, record.since, self.settings),
            deadline=deadline,
        )
        if update.message_gone:
            # Cannot mark it resolved (too old, or not ours to edit): nothing to retry.
            done = replace(record, pending_update=False)
            self._state("put", lambda: self.store.put_message(done))
            if not self.settings.reply_broadcast:
                # Say it in the channel instead.
                fallback = self._post(record.channel, payload, deadline=deadline)
                if fallback.ok:
                    return Posted.of(fallback, "posted_after_update_failed", record.channel)
            return Posted(True, "resolved", record.channel, thread_ts=record.ts)
        if not update.ok:
            _log(
                logging.WARNING,
                message="resolve update pending; the record comes back to try it again",
                alarm_name=alarm.name,
                error=update.error,
            )
            return Posted(
                False,
                "update_pending",
                record.channel,
                thread_ts=record.ts,
                error=update.error,
                attempts=update.delivery.attempts,
                status=update.delivery.status,
            )
        if record.pending_update:
            done = replace(record, pending_update=False)
            self._state("put", lambda: self.store.put_message(done))
        return Posted(True, "resolved", record.channel, thread_ts=record.ts)

    def _post_part(
        self,
        channel: str,
        payload: dict[str, Any],
        entries: list[Entry] | None,
        join: DigestRecord | None,
        *,
        deadline: float | None,
    ) -> tuple[dict[str, Any], ApiResult, DigestRecord | None]:
        """Post one digest part (in the live digest's thread when joining): the payload that
        went out, Slack's answer, and the live digest still joined (None once it is gone)."""
        thread = join.ts if join else None
        result = self._post(channel, payload, deadline=deadline, thread_ts=thread)
        if join is not None and result.message_gone:
            # The live digest was deleted: this and the next parts start a new one.
            join, thread = None, None
            self._live[channel] = None
            result = self._post(channel, payload, deadline=deadline)
        if result.error in REFUSED_CONTENT_ERRORS and entries:
            # Slack refused the blocks: the same alarms in plain text, as its own message.
            payload, result = self._post_plain(
                channel, entries, deadline=deadline, thread_ts=thread
            )
        return payload, result, join

    def _post_plain(
        self,
        channel: str,
        entries: list[Entry],
        *,
        deadline: float | None,
        thread_ts: str | None = None,
    ) -> tuple[dict[str, Any], ApiResult]:
        """A refused digest part again in render.plain_fallback's text-only form (its first
        message holds the part's records; a longer list goes on in further messages)."""
        from render import plain_fallback  # noqa: PLC0415 - only after a refusal

        first: tuple[dict[str, Any], ApiResult] | None = None
        for part in plain_fallback(tuple(entries), self.settings):
            result = self._post(channel, part.payload, deadline=deadline, thread_ts=thread_ts)
            if first is None or (result.ok and not first[1].ok):
                first = (part.payload, result)
        assert first is not None  # noqa: S101 - plain_digest returns at least one part
        return first

    # --- resolutions collected during an invocation, sent once per message (flush) --------

    def queue_resolution(
        self, record: AlarmMessage, alarm: Alarm, entry: Entry | None = None
    ) -> None:
        """Note that `record`'s alarm is resolved (its record says so, update pending): its
        message is updated by flush(), once per message however many alarms it names."""
        where = (record.channel, record.ts, record.digest)
        self.resolutions.setdefault(where, []).append((record, alarm, entry))

    def holds(self, entry: Entry) -> bool:
        """The entry waits for a queued update: it is recorded after flush(), not before."""
        return any(entry is e for items in self.resolutions.values() for _, _, e in items)

    def flush(self, *, deadline: float | None) -> list[Entry]:
        """Send the queued updates: one chat.update per message, paced for Tier 3. Returns the
        entries whose update did not land (reported, so they come back and try again)."""
        failed: list[Entry] = []
        done: list[AlarmMessage] = []
        queued, self.resolutions = self.resolutions, {}
        for (channel, ts, is_digest), items in queued.items():
            if deadline is not None and self.api.clock() >= deadline:
                # Out of time: no more state calls either; these come back and update then.
                failed += [entry for _, _, entry in items if entry is not None]
                continue
            if is_digest:
                keys = [record.alarm_key for record, _, _ in items]
                digest = self._state(
                    "resolve_in_digest",
                    lambda c=channel, t=ts, k=keys: self.store.resolve_many_in_digest(c, t, k),
                )
                if digest is None:  # unknown digest (expired): nothing left to update
                    done += [replace(r, pending_update=False) for r, _, _ in items]
                    continue
                payload = digest_progress_payload(self._shown(digest), self.settings.language)
            else:
                record, alarm, _ = items[-1]
                original = record.payload or {"text": alarm.name or ""}
                payload = resolved_payload(original, alarm, record.since, self.settings)
            result = self._update(channel, ts, payload, deadline=deadline)
            if result.ok or result.message_gone:
                # Gone: too old or deleted; the OK is in the thread and the digest, nothing to do.
                done += [replace(r, pending_update=False) for r, _, _ in items]
            else:
                failed += [entry for _, _, entry in items if entry is not None]
        live, self.live_updates = self.live_updates, {}
        for (channel, ts), record in live.items():
            if (channel, ts, True) in queued:
                continue  # updated above, with the resolutions (its stored record is current)
            payload = digest_progress_payload(self._shown(record), self.settings.language)
            self._update(channel, ts, payload, deadline=deadline)  # counts only: next batch retries
        if done:
            self._state("write", lambda: self.store.write(messages=done))
        return failed

    # --- live storm digests (group_interval) ----------------------------------------------

    def _join_live(
        self, live: DigestRecord, open_keys: set[str], counts: dict[str, int]
    ) -> DigestRecord:
        """The live digest now counts and owns a part listed in its thread: one atomic update,
        so concurrent invocations joining it never lose each other's counts; its header is
        rewritten once, in flush()."""
        keys = sorted(open_keys)
        merged = self._state(
            "join_digest",
            lambda: self.store.join_digest(live.channel, live.ts, keys, counts),
        )
        if merged is None:
            return live
        self.live_updates[(merged.channel, merged.ts)] = merged
        return merged

    def _shown(self, digest: DigestRecord) -> DigestRecord:
        """A joined live digest's header counts everything it lists now."""
        if not digest.joined:
            return digest
        payload = live_header_payload(digest.payload, digest.counts, self.settings.language)
        return replace(digest, payload=payload)

    def live_digest(self, channel: str) -> DigestRecord | None:
        """The channel's storm digest if it is younger than group_interval_seconds: a new
        digest for this channel joins its thread instead of starting a top-level message."""
        if channel in self._live:
            return self._live[channel]
        interval = self.settings.group_interval_seconds
        record = None
        if interval > 0:
            live = self._state("get_live", lambda: self.store.get_live(channel))
            if live is not None and self.wall_clock() - live.started_at < interval:
                record = self._state("get_digest", lambda: self.store.get_digest(channel, live.ts))
        self._live[channel] = record
        return record

    def _start_live(self, channel: str, ts: str) -> None:
        """A new top-level digest: later batches within group_interval join it. Written after
        its first part was recorded, so a kill never leaves a pointer to an unrecorded part."""
        if self.settings.group_interval_seconds <= 0:
            return
        self._pending_live = LiveDigest(channel, ts, self.wall_clock())

    def _put_live(self) -> None:
        live, self._pending_live = self._pending_live, None
        if live is not None:
            self._state("put_live", lambda: self.store.put_live(live))

    def deliver_digest(
        self,
        parts: list[tuple[dict[str, Any], list[Alarm]]],
        channel: str,
        counts: dict[str, int],
        *,
        deadline: float | None,
        entries: list[list[Entry]] | None = None,
        join: DigestRecord | None = None,
    ) -> list[Posted]:
        """A storm digest, part by part: each alarm points at the part that names it, and each
        part is recorded (pointers, the part's digest record and its delivered records) before
        the next one is posted, so a redelivery after a kill posts nothing already shown.

        An alarm that already has an open message keeps it (an OK resolves it there, once per
        message, in flush()); an event older than the state shown changes nothing.
        """
        keys = [k for _, alarms in parts for k in map(alarm_key, alarms) if k]
        records = self._state("get_messages", lambda: self.store.get_messages(keys)) or {}
        outcomes: list[Posted] = []
        started = False  # a new top-level digest: the live one for group_interval_seconds
        for index, (original, alarms) in enumerate(parts):
            part_entries = entries[index] if entries else None
            payload, result, join = self._post_part(
                channel, original, part_entries, join, deadline=deadline
            )
            outcomes.append(Posted.of(result, "posted", channel))
            if not (result.ok and result.ts):
                continue
            if join is None and not started:
                started = True
                self._start_live(result.channel or channel, result.ts)
            # A live storm digest owns the alarms listed in its thread; else the part does.
            where, owner = (
                (join.channel, join.ts) if join else (result.channel or channel, result.ts)
            )
            part_entries = part_entries or [None] * len(alarms)
            pointers: list[AlarmMessage] = []
            open_keys: set[str] = set()
            held: set[str] = set()
            for alarm, entry in zip(alarms, part_entries, strict=False):
                key = alarm_key(alarm)
                if key is None:
                    continue
                record = records.get(key)
                step = lifecycle.in_digest(record, alarm, where, owner)
                if step.record is not None:
                    pointers.append(step.record)
                    records[key] = step.record
                if step.owns:
                    open_keys.add(key)
                if step.resolve is not None:
                    self.queue_resolution(step.resolve, alarm, entry)
                    held.update(entry.event_ids if entry else ())
            part_counts = _count_states(alarms)
            digests: list[DigestRecord] = []
            if join is None:
                # The first part's header announces the whole notification's counts.
                shown = counts if index == 0 and counts else part_counts
                digests = [DigestRecord(where, result.ts, payload, shown, frozenset(open_keys))]
            finished = {
                event_id: True
                for entry in part_entries
                if entry is not None
                for event_id in entry.event_ids
                if event_id not in held
            }
            # Delivered records and the part first, in one call (the only window in which a
            # kill repeats this part); then the pointers (a kill there costs thread replies:
            # those alarms' OKs are posted on their own).
            written = self._state(
                "record_posted",
                lambda d=digests, f=finished: self.store.record_posted(f, d) or True,
            )
            if written:
                self.recorded.update(finished)
            if join is not None:
                join = self._join_live(join, open_keys, part_counts)
            if pointers:
                self._state("write", lambda p=pointers: self.store.write(messages=p))
        # Only once every part is out: a killed invocation's redelivery starts its own digest
        # (a kill never leaves a live group the redelivered alarms would vanish into).
        self._put_live()
        return outcomes


# --- the app-mode pipeline stage ----------------------------------------------------------


def claim_records(
    received: list[Received], store: StateStore, *, lease_seconds: float
) -> tuple[list[Received], list[Received]]:
    """Idempotency: (records to deliver, records another invocation is delivering right now).

    Records delivered before (a Lambda or SQS redelivery) are in neither list: they are
    acknowledged without posting. A record without an event id is always delivered. One batched
    claim (transactions of 100) for the whole batch; if the state store fails, every record
    is delivered: a duplicate message is better than a lost alert.
    """
    event_ids = list(dict.fromkeys(r.event_id for r in received if r.event_id))
    try:
        claims = store.claim_many(event_ids, lease_seconds=lease_seconds) if event_ids else {}
    except Exception as exc:
        _log(
            logging.ERROR,
            message="state store error",
            action="claim",
            error=f"{type(exc).__name__}: {exc}",
        )
        claims = {}
    fresh: list[Received] = []
    busy: list[Received] = []
    for record in received:
        claim = claims.get(record.event_id or "", NEW)
        if claim == DONE:
            _log(
                logging.INFO,
                message="record delivered before; not posted again",
                event_id=record.event_id,
                alarm_name=record.alarm.name,
                outcome="duplicate",
            )
        elif claim == BUSY:
            busy.append(record)
        else:
            # Twice in one batch: grouping folds the copy into the first (acknowledged with it).
            fresh.append(record)
    return fresh, busy


def finish_records(
    results: list[Sent], store: StateStore, *, recorded: set[str] | frozenset[str] = frozenset()
) -> None:
    """Mark each claimed record delivered (never posted again) or released (tried again), in
    one batched write; `recorded`: the ones already marked delivered right after their post."""
    outcome: dict[str, bool] = {}
    for sent in results:
        for entry in sent.part.entries:
            for event_id in entry.event_ids:
                # A record is delivered only if every part that names it was.
                outcome[event_id] = outcome.get(event_id, True) and sent.delivery.delivered
    todo = {e: ok for e, ok in outcome.items() if not (ok and e in recorded)}
    if not todo:
        return
    try:
        store.write(finished=todo)
    except Exception as exc:
        _log(
            logging.ERROR,
            message="state store error",
            action="finish",
            error=f"{type(exc).__name__}: {exc}",
        )


def busy_results(busy: list[Received]) -> list[Sent]:
    """Records held by another invocation: reported as not delivered, so they come again."""
    results = []
    for record in busy:
        entry = Entry(
            record.alarm,
            (record.alarm.state,) if record.alarm.state else (),
            (record.item_id,) if record.item_id else (),
            (record.event_id,) if record.event_id else (),
        )
        delivery = Delivery(False, "in_progress", 0, error="another invocation holds this record")
        results.append(Sent(MessagePart({}, (entry,)), None, delivery))
    return results


def _quiet(notification: Notification, known: dict[str, AlarmMessage]) -> list[Entry]:
    """The entries that need no message: the change their record already shows (a redelivery
    after a kill), or a resolve whose OK reply is out and whose update is pending."""
    quiet = []
    for entry in notification.entries:
        key = alarm_key(entry.alarm)
        if key is None or key not in known:
            continue
        step = lifecycle.plan(known[key], entry.alarm, notification.destination or "")
        if step.action in (lifecycle.NOTHING, lifecycle.FINISH_RESOLVE):
            quiet.append(entry)
    return quiet


def deliver_notifications(
    notifications: list[Notification], app: SlackApp, *, deadline: float
) -> list[Sent]:
    """Render and send each notification the app-mode way; the same results as delivery.deliver
    (one Sent per message part) so the handler reports and logs them alike.

    The alarms' records are read once for the whole batch; each message is recorded right after
    it was posted; queued updates (digest headers, resolved messages) go out once per message
    at the end, and entries whose update did not land are reported to come back.
    """
    keys = [k for n in notifications for e in n.entries if (k := alarm_key(e.alarm)) is not None]
    known: dict[str, AlarmMessage] = (
        app._state("get_messages", lambda: app.store.get_messages(keys)) or {} if keys else {}
    )
    results: list[Sent] = []
    for notification in notifications:
        channel = notification.destination or app.settings.channel_id or ""
        quiet = _quiet(notification, known)
        for entry in quiet:
            results.append(_quietly(app, entry, known, channel, deadline=deadline))
        rest = tuple(e for e in notification.entries if not any(e is q for q in quiet))
        if not rest:
            continue
        shown = records.replace(notification, entries=rest)
        parts = render_notification(shown, app.settings)
        try:
            if shown.kind == "digest":
                join = app.live_digest(channel)
                posted = app.deliver_digest(
                    [(part.payload, [e.alarm for e in part.entries]) for part in parts],
                    channel,
                    _count_states([e.alarm for e in shown.entries]),
                    deadline=deadline,
                    entries=[list(part.entries) for part in parts],
                    join=join,
                )
            else:
                (part,) = parts
                (entry,) = part.entries
                posted = [
                    app.deliver_alarm(
                        entry.alarm, part.payload, channel, deadline=deadline, known=known,
                        entry=entry,
                    )
                ]  # fmt: skip
                if posted[0].delivered and not app.holds(entry):
                    _record_delivered(app, entry.event_ids)
            deliveries = [p.as_delivery() for p in posted]
        except Exception as exc:  # one notification's bug must not cost the others theirs
            logger.exception("app-mode delivery failed")
            deliveries = [Delivery(False, "error", 0, error=type(exc).__name__)] * len(parts)
        results += [
            Sent(part, channel, delivery) for part, delivery in zip(parts, deliveries, strict=True)
        ]
    for entry in app.flush(deadline=deadline):
        late = Delivery(False, "update_pending", 0, error="the message update did not land")
        results.append(Sent(MessagePart({}, (entry,)), None, late))
    return results


def _quietly(
    app: SlackApp,
    entry: Entry,
    known: dict[str, AlarmMessage],
    channel: str,
    *,
    deadline: float,
) -> Sent:
    """An entry that needs no new message: finish its pending resolve, or just acknowledge."""
    record = known[alarm_key(entry.alarm) or ""]
    step = lifecycle.plan(record, entry.alarm, channel)
    if step.action == lifecycle.FINISH_RESOLVE:
        app._entry = entry
        posted = app.apply(step, entry.alarm, record.alarm_key, {}, record, deadline=deadline)
    else:
        _log(
            logging.INFO,
            message="change already shown; not posted again",
            alarm_name=entry.alarm.name,
            outcome="duplicate",
        )
        posted = Posted(True, "duplicate", record.channel, thread_ts=record.ts)
    return Sent(MessagePart({}, (entry,)), channel, posted.as_delivery())


def _record_delivered(app: SlackApp, event_ids: tuple[str, ...]) -> None:
    """Mark a message's records delivered right after the post, before the next one."""
    if not event_ids:
        return
    finished = dict.fromkeys(event_ids, True)
    if app._state("record_posted", lambda: app.store.record_posted(finished, []) or True):
        app.recorded.update(event_ids)
