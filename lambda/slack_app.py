"""Slack app mode: one alert, one place. Post on ALARM, update in place and reply on OK.

The state (which message belongs to which alarm) is a StateStore (state.py); the Web API is a
SlackApi (slack_api.py). The payload rendering here is pure; SlackApp does the I/O.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, replace

import lifecycle
from alarm import Alarm, Received, parse_timestamp
from delivery import Pacer, Sent
from formatting import HEADER_LIMIT, STATE_STYLES, MessagePart, escape, truncate
from grouping import Entry, Notification
from lifecycle import alarm_key
from render import render_notification
from settings import Settings
from slack import Delivery
from slack_api import TOKEN_ERRORS, ApiResult, SlackApi
from state import BUSY, DONE, AlarmMessage, DigestRecord, StateStore

# typing costs cold-start time and is only needed by type checkers.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

logger = logging.getLogger("alarm_to_slack")

OK_EMOJI, OK_COLOR = STATE_STYLES["OK"]
# chat.postMessage takes these from a webhook payload; username/icon_emoji would need the
# chat:write.customize scope, so app mode leaves them out.
MESSAGE_KEYS = ("text", "blocks", "attachments")
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
    ) -> None:
        self.api = api
        self.store = store
        self.settings = settings
        self.pacer = pacer or Pacer(settings.message_interval, sleep=api.sleep, clock=api.clock)
        self.on_token_error = on_token_error

    # --- Web API calls with logging -------------------------------------------------------

    def _post(
        self,
        channel: str,
        payload: dict[str, Any],
        *,
        deadline: float | None,
        thread_ts: str | None = None,
        broadcast: bool = False,
    ) -> ApiResult:
        arguments = {key: payload[key] for key in MESSAGE_KEYS if key in payload}
        arguments["channel"] = channel
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
        return self._checked("chat.update", channel, arguments, deadline)

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
        self, alarm: Alarm, payload: dict[str, Any], channel: str, *, deadline: float | None
    ) -> Posted:
        """One alarm's message: what lifecycle.plan decides, given the alarm's stored record."""
        key = alarm_key(alarm)
        record = self._state("get", lambda: self.store.get_message(key)) if key else None
        return self.apply(lifecycle.plan(record, alarm, channel), alarm, key, payload, record,
                          deadline=deadline)  # fmt: skip

    def apply(
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
        result = self._post(channel, payload, deadline=deadline)
        if not result.ok:
            return Posted.of(result, "posted", channel)
        if key is not None and result.ts:
            message = lifecycle.posted(alarm, key, result.channel or channel, result.ts, payload)
            self._state("put", lambda: self.store.put_message(message))
        return Posted.of(result, "posted", channel)

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
            self._update_digest(record.alarm_key, record, deadline=deadline)
            update_ok = True
            update = None
        else:
            original = record.payload or payload
            update = self._update(
                record.channel,
                record.ts,
                resolved_payload(original, alarm, record.since, self.settings),
                deadline=deadline,
            )
            update_ok = update.ok
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
        if not update_ok and update is not None:
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

    def _update_digest(self, key: str, record: AlarmMessage, *, deadline: float | None) -> None:
        digest = self._state(
            "resolve_in_digest",
            lambda: self.store.resolve_in_digest(record.channel, record.ts, key),
        )
        if digest is None:
            return
        self._update(
            digest.channel,
            digest.ts,
            digest_progress_payload(digest, self.settings.language),
            deadline=deadline,
        )

    def deliver_digest(
        self,
        parts: list[tuple[dict[str, Any], list[Alarm]]],
        channel: str,
        counts: dict[str, int],
        *,
        deadline: float | None,
    ) -> list[Posted]:
        """A storm digest: its parts are posted once; every alarm in it points at the first
        part, so their OKs reply in its thread and update its count of open alarms."""
        outcomes: list[Posted] = []
        first: ApiResult | None = None
        every_alarm: list[Alarm] = []
        for payload, alarms in parts:
            result = self._post(channel, payload, deadline=deadline)
            outcomes.append(Posted.of(result, "posted", channel))
            if result.ok and first is None:
                first = result
            every_alarm += alarms
        if first is None or not first.ts:
            return outcomes
        where = first.channel or channel
        open_keys = set()
        for alarm in every_alarm:
            key = alarm_key(alarm)
            if key is None:
                continue
            if alarm.state == "OK":
                self._resolve_elsewhere(alarm, key, deadline=deadline)
                open_keys.discard(key)
                continue
            open_keys.add(key)
            pointer = AlarmMessage(key, where, first.ts, alarm.state or "", alarm.timestamp)
            self._state("put", lambda p=pointer: self.store.put_message(replace(p, digest=True)))
        digest = DigestRecord(where, first.ts, parts[0][0], dict(counts), frozenset(open_keys))
        self._state("put_digest", lambda: self.store.put_digest(digest))
        return outcomes

    def _resolve_elsewhere(self, alarm: Alarm, key: str, *, deadline: float | None) -> None:
        """An OK reported in a digest for an alarm whose own message is open: mark it resolved
        there too (the digest names the OK, so no thread reply)."""
        record = self._state("get", lambda: self.store.get_message(key))
        if record is None or record.state == "OK":
            return
        self._state("put", lambda: self.store.put_message(replace(record, state="OK")))
        if record.digest:
            self._update_digest(key, record, deadline=deadline)
        elif record.payload is not None:
            resolved = resolved_payload(record.payload, alarm, record.since, self.settings)
            self._update(record.channel, record.ts, resolved, deadline=deadline)


# --- the app-mode pipeline stage ----------------------------------------------------------


def claim_records(
    received: list[Received], store: StateStore, *, lease_seconds: float
) -> tuple[list[Received], list[Received]]:
    """Idempotency: (records to deliver, records another invocation is delivering right now).

    Records delivered before (a Lambda or SQS redelivery) are in neither list: they are
    acknowledged without posting. A record without an event id is always delivered. A state
    store failure delivers the record: a duplicate message is better than a lost alert.
    """
    fresh: list[Received] = []
    busy: list[Received] = []
    claimed: set[str] = set()
    for record in received:
        if not record.event_id or record.event_id in claimed:
            # Twice in one batch: grouping folds the copy into the first (acknowledged with it).
            fresh.append(record)
            continue
        try:
            claim = store.claim(record.event_id, lease_seconds=lease_seconds)
        except Exception as exc:
            _log(
                logging.ERROR,
                message="state store error",
                action="claim",
                error=f"{type(exc).__name__}: {exc}",
            )
            fresh.append(record)
            continue
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
            claimed.add(record.event_id)
            fresh.append(record)
    return fresh, busy


def finish_records(results: list[Sent], store: StateStore) -> None:
    """Mark each claimed record delivered (never posted again) or released (tried again)."""
    outcome: dict[str, bool] = {}
    for sent in results:
        for entry in sent.part.entries:
            for event_id in entry.event_ids:
                # A record is delivered only if every part that names it was.
                outcome[event_id] = outcome.get(event_id, True) and sent.delivery.delivered
    for event_id, delivered in outcome.items():
        try:
            store.finish(event_id, delivered=delivered)
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


def deliver_notifications(
    notifications: list[Notification], app: SlackApp, *, deadline: float
) -> list[Sent]:
    """Render and send each notification the app-mode way; the same results as delivery.deliver
    (one Sent per message part) so the handler reports and logs them alike."""
    results: list[Sent] = []
    for notification in notifications:
        channel = notification.destination or app.settings.channel_id or ""
        parts = render_notification(notification, app.settings)
        try:
            if notification.kind == "digest":
                counts: dict[str, int] = {}
                for entry in notification.entries:
                    state = entry.alarm.state or "other"
                    counts[state] = counts.get(state, 0) + 1
                posted = app.deliver_digest(
                    [(part.payload, [e.alarm for e in part.entries]) for part in parts],
                    channel,
                    counts,
                    deadline=deadline,
                )
            else:
                (part,) = parts
                (entry,) = part.entries
                posted = [app.deliver_alarm(entry.alarm, part.payload, channel, deadline=deadline)]
            deliveries = [p.as_delivery() for p in posted]
        except Exception as exc:  # one notification's bug must not cost the others theirs
            logger.exception("app-mode delivery failed")
            deliveries = [Delivery(False, "error", 0, error=type(exc).__name__)] * len(parts)
        results += [
            Sent(part, channel, delivery) for part, delivery in zip(parts, deliveries, strict=True)
        ]
    return results
