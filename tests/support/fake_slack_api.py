"""FakeSlackApi: a local Slack Web API (chat.postMessage, chat.update, the files.* upload flow,
conversations.join) that behaves like Slack."""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

from support.loopback_server import LoopbackServer
from support.slack_rules import message_refusal, shown_text

DEFAULT_TOKEN = "xoxb-0000000000-0000000000000-fakefakefakefakefakefake"  # noqa: S105 - fake
CONTENT_KEYS = ("text", "blocks", "attachments")
# chat.update is a Tier 3 method: "50+ per minute" per workspace (docs.slack.dev/apis/web-api/
# rate-limits, the chat.update method page). Harsher reading: exactly 50 in any 60 seconds.
UPDATE_LIMIT_PER_MINUTE = 50
# Slack answers a JSON body on this method with invalid_arguments, naming filename and length as
# missing although they are there (seen live); a form works.
FORM_ONLY_METHODS = frozenset({"files.getUploadURLExternal"})

# --- the files.* and conversations.join rules (graphs), kept apart from the chat.* rules ------
# Rate tiers, from each method's page: files.getUploadURLExternal "Rate limits: Tier 4",
# files.completeUploadExternal "Tier 4", conversations.join "Tier 3"; Slack's rate-limit page
# (docs.slack.dev/apis/web-api/rate-limits): Tier 3 "50+ per minute", Tier 4 "100+ per minute",
# per method and workspace. The fake allows the floor of each tier (never kinder than Slack)
# and answers HTTP 429 ratelimited with Retry-After beyond it.
FILES_RATE_TIERS = {
    "files.getUploadURLExternal": 100,
    "files.completeUploadExternal": 100,
    "conversations.join": 50,
}
RATE_WINDOW_SECONDS = 60.0
# How long an upload URL stays valid is not documented. The fake picks the harsher reading: it
# is good for one minute and for one successful POST (a second POST, say a retry after a lost
# answer, is refused), like the pre-signed URLs of other services.
UPLOAD_URL_LIFETIME_SECONDS = 60.0
UPLOAD_URL_REFUSED_STATUS = 404  # the status is not documented either: a 4xx, not retryable


@dataclass
class Message:
    """A message as a channel shows it: its latest content, earlier versions, thread replies."""

    channel: str
    ts: str
    content: dict[str, Any]
    thread_ts: str | None = None
    reply_broadcast: bool = False
    versions: list[dict[str, Any]] = field(default_factory=list)
    replies: list[Message] = field(default_factory=list)
    # Posted by someone else (a person, another app): chat.update answers cant_update_message.
    foreign: bool = False

    @property
    def text(self) -> str:
        return str(self.content.get("text") or "")

    @property
    def color(self) -> str | None:
        attachments = self.content.get("attachments") or [{}]
        return attachments[0].get("color")

    @property
    def edited(self) -> bool:
        return bool(self.versions)


@dataclass(frozen=True)
class Call:
    """One request: the API method (or raw path), its JSON arguments and Slack's answer."""

    method: str
    arguments: dict[str, Any]
    authorization: str | None  # "Bearer" when a bearer token was sent; the token is not kept
    content_type: str
    status: int
    answer: dict[str, Any]


@dataclass(frozen=True)
class Answer:
    """What the fake sends back for one call."""

    body: dict[str, Any]
    status: int = 200
    headers: tuple[tuple[str, str], ...] = ()


@dataclass
class Channel:
    """A channel the workspace has; `member`: the app was invited or joined (else it can post
    only through chat:write.public); `private`: a private channel (no conversations.join)."""

    id: str
    name: str
    member: bool = True
    archived: bool = False
    private: bool = False
    messages: list[Message] = field(default_factory=list)


@dataclass
class UploadedFile:
    """A file started with files.getUploadURLExternal; `content` once its bytes were POSTed,
    `shared_in` (channel, thread_ts) once files.completeUploadExternal shared it."""

    id: str
    filename: str
    length: int
    upload_path: str
    content: bytes | None = None
    title: str | None = None
    shared_in: tuple[str, str | None] | None = None
    url_issued_at: float = 0.0
    completions: int = 0  # files.completeUploadExternal calls that named this file


def _error(error: str, status: int = 200, **extra: Any) -> Answer:
    return Answer({"ok": False, "error": error, **extra}, status)


def _content_refusal(arguments: dict[str, Any]) -> Answer | None:
    """Slack's answer to message content that breaks a rule of support.slack_rules: HTTP 200
    {"ok": false, "error": "invalid_blocks", "errors": [...], "response_metadata": ...} as
    field reports show it (the `errors` entries end in a json-pointer)."""
    refusal = message_refusal({key: arguments[key] for key in CONTENT_KEYS if key in arguments})
    if refusal is None:
        return None
    if not refusal.details:
        return _error(refusal.error)
    messages = [f"[ERROR] {detail}" for detail in refusal.details]
    return _error(
        refusal.error,
        errors=list(refusal.details),
        response_metadata={"messages": messages},
    )


def _stored_content(arguments: dict[str, Any]) -> dict[str, Any]:
    """The content as the channel keeps it: top-level text cut at 40,000 characters."""
    content = {key: arguments[key] for key in CONTENT_KEYS if key in arguments}
    if isinstance(content.get("text"), str):
        content["text"] = shown_text(content["text"])
    return content


def _form_arguments(body: bytes) -> dict[str, str] | None:
    """An application/x-www-form-urlencoded body as Slack reads it: every value a string."""
    try:
        fields = parse_qs(body.decode("ascii"), keep_blank_values=True, strict_parsing=bool(body))
    except (UnicodeDecodeError, ValueError):
        return None
    return {key: values[-1] for key, values in fields.items()}


def _integer(value: object) -> int | None:
    """A JSON integer, or a form's decimal string."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit():
        return int(value)
    return None


def _json_list(value: object) -> list[Any] | None:
    """A JSON list, or a form's JSON string of one."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return None
    return value if isinstance(value, list) else None


class FakeSlackApi(LoopbackServer):
    """The Slack Web API on 127.0.0.1:<free port>. Use as a context manager (always stopped).

    Like Slack: requires `Authorization: Bearer <token>` (not_authed / invalid_auth), answers
    HTTP 200 {"ok": false, "error": ...} for failures, issues increasing `ts` values, rejects a
    `thread_ts` (thread_not_found) or a `chat.update` (message_not_found) for a message it does
    not know, enforces `min_interval` seconds between chat.postMessage calls per channel with
    HTTP 429 + Retry-After, checks the channel (channel_not_found, not_in_channel without
    chat:write.public, is_archived) and the token's scopes (missing_scope). The file upload flow
    and conversations.join follow Slack's files rules (FILES_RATE_TIERS and the functions after
    "the file upload flow"): sharing needs membership, one completion per file, short-lived
    single-use upload URLs. `set_channel` says whether the app is in a channel, whether it is
    private or archived. Message content must pass every rule of support.slack_rules
    (invalid_blocks, invalid_attachments, msg_blocks_too_long, too_many_attachments, no_text);
    top-level text is cut at 40,000. chat.update is Tier 3 (50 per minute per workspace, then
    429 + Retry-After) and refuses a message another app or person posted
    (cant_update_message; `add_foreign_message`).

    `fail_next(method, error)` scripts errors; `fail_after_posting(method)` lets the call take
    effect and then answers internal_error, as Slack may ("some aspect of the operation may
    have succeeded"). To add a method, add a handler to `methods`:
    it receives the JSON arguments and returns an Answer. Non-API URLs (the upload URL that
    files.getUploadURLExternal hands out) go to `raw_paths`, keyed by path: the handler gets
    the raw body bytes.
    """

    def __init__(
        self,
        *,
        token: str = DEFAULT_TOKEN,
        channels: dict[str, str] | None = None,
        scopes: frozenset[str] = frozenset({"chat:write", "chat:write.public", "files:write"}),
        min_interval: float = 1.0,
        update_limit_per_minute: int = UPDATE_LIMIT_PER_MINUTE,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(name="FakeSlackApi")
        self.token = token
        self.scopes = set(scopes)
        self.min_interval = min_interval
        self.update_limit_per_minute = update_limit_per_minute
        self.clock = clock
        self.channels: dict[str, Channel] = {
            cid: Channel(cid, name) for cid, name in (channels or {"C0ALERTS01": "alerts"}).items()
        }
        self.calls: list[Call] = []
        self.methods: dict[str, Callable[[dict[str, Any]], Answer]] = {
            "chat.postMessage": self._post_message,
            "chat.update": self._update,
            "files.getUploadURLExternal": self._get_upload_url,
            "files.completeUploadExternal": self._complete_upload,
            "conversations.join": self._join,
        }
        self.files: dict[str, UploadedFile] = {}
        self.raw_paths: dict[str, Callable[[bytes], Answer]] = {}
        self._lock = threading.RLock()
        self._script: list[tuple[str, Answer]] = []
        self._last_post: dict[str, float] = {}
        self._updates: list[float] = []  # clock() of each chat.update call not answered 429
        self._after: list[tuple[str, Answer]] = []  # faults answered after the call took effect
        self._ts_counter = 0
        self._tier_calls: dict[str, list[float]] = {}

    # --- configuration and inspection -----------------------------------------------------

    @property
    def base_url(self) -> str:
        """What SLACK_API_BASE_URL should be set to."""
        return f"http://127.0.0.1:{self.port}/api/"

    def fail_next(
        self,
        method: str,
        error: str,
        *,
        status: int = 200,
        headers: dict[str, str] | None = None,
        count: int = 1,
        **extra: Any,
    ) -> None:
        """Answer the next `count` calls of `method` with {"ok": false, "error": error}."""
        answer = Answer(
            {"ok": False, "error": error, **extra}, status, tuple((headers or {}).items())
        )
        with self._lock:
            self._script.extend([(method, answer)] * count)

    def set_channel(
        self,
        channel: str,
        *,
        member: bool | None = None,
        private: bool | None = None,
        archived: bool | None = None,
    ) -> None:
        """Change what the workspace says about one channel (membership, privacy, archived)."""
        with self._lock:
            found = self.channels[channel]
            if member is not None:
                found.member = member
            if private is not None:
                found.private = private
            if archived is not None:
                found.archived = archived

    def fail_after_posting(
        self, method: str, error: str = "internal_error", *, status: int = 200, count: int = 1
    ) -> None:
        """Let the next `count` successful calls of `method` take effect (the message is posted
        or updated) and answer {"ok": false, "error": error} all the same. Slack's common
        errors: internal_error / fatal_error, "It's possible some aspect of the operation
        succeeded before the error was raised"; the Web API has no idempotency key."""
        answer = Answer({"ok": False, "error": error}, status)
        with self._lock:
            self._after.extend([(method, answer)] * count)

    def add_foreign_message(self, channel: str, text: str) -> str:
        """A message someone else posted (a person, another app) in the channel; its ts."""
        with self._lock:
            message = Message(channel, self._next_ts(), {"text": text}, foreign=True)
            self.channels[channel].messages.append(message)
            return message.ts

    def messages(self, channel: str) -> list[Message]:
        """The channel's top-level messages, oldest first (each with its replies)."""
        with self._lock:
            return list(self.channels[channel].messages)

    def calls_to(self, method: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def find(self, channel: str, ts: str) -> Message | None:
        with self._lock:
            for message in self.channels[channel].messages:
                if message.ts == ts:
                    return message
                for reply in message.replies:
                    if reply.ts == ts:
                        return reply
        return None

    def transcript(self, channel: str) -> str:
        """What the channel shows, as plain lines: top-level messages and their thread replies."""
        lines = []
        for message in self.messages(channel):
            edited = " (edited)" if message.edited else ""
            lines.append(f"{message.text}{edited}")
            for reply in message.replies:
                broadcast = " (also sent to the channel)" if reply.reply_broadcast else ""
                lines.append(f"  ↳ {reply.text}{broadcast}")
        return "\n".join(lines)

    # --- the API --------------------------------------------------------------------------

    def _next_ts(self) -> str:
        self._ts_counter += 1
        return f"{1_700_000_000 + self._ts_counter}.{self._ts_counter:06d}"

    def _channel(self, arguments: dict[str, Any]) -> Channel | Answer:
        wanted = arguments.get("channel")
        if not isinstance(wanted, str) or not wanted:
            return _error("channel_not_found")
        for channel in self.channels.values():
            if wanted in (channel.id, channel.name, f"#{channel.name}"):
                if channel.archived:
                    return _error("is_archived")
                if not channel.member and "chat:write.public" not in self.scopes:
                    return _error("not_in_channel")
                return channel
        return _error("channel_not_found")

    def _post_message(self, arguments: dict[str, Any]) -> Answer:
        channel = self._channel(arguments)
        if isinstance(channel, Answer):
            return channel
        refused = _content_refusal(arguments)
        if refused is not None:
            return refused
        now = self.clock()
        last = self._last_post.get(channel.id)
        # "1 message per second per channel, short bursts allowed" (chat.postMessage, Rate
        # limits). Harsher reading: no burst at all.
        if last is not None and now - last < self.min_interval:
            wait = max(1, math.ceil(self.min_interval - (now - last)))
            return Answer({"ok": False, "error": "ratelimited"}, 429, (("Retry-After", str(wait)),))
        thread_ts = arguments.get("thread_ts")
        parent = None
        if thread_ts is not None:
            parent = next((m for m in channel.messages if m.ts == thread_ts), None)
            if parent is None:
                return _error("thread_not_found")
        self._last_post[channel.id] = now
        content = _stored_content(arguments)
        message = Message(
            channel=channel.id,
            ts=self._next_ts(),
            content=content,
            thread_ts=thread_ts,
            reply_broadcast=bool(arguments.get("reply_broadcast")) and parent is not None,
        )
        if parent is None:
            channel.messages.append(message)
        else:
            parent.replies.append(message)
        return Answer(
            {"ok": True, "channel": channel.id, "ts": message.ts, "message": dict(content)}
        )

    def _update(self, arguments: dict[str, Any]) -> Answer:
        limited = self._update_rate_limited()
        if limited is not None:
            return limited
        channel = self._channel(arguments)
        if isinstance(channel, Answer):
            return channel
        message = self.find(channel.id, str(arguments.get("ts")))
        if message is None:
            return _error("message_not_found")
        if message.foreign:
            # chat.update: cant_update_message "Authenticated user does not have permission
            # to update this message" (an app may edit only its own messages).
            return _error("cant_update_message")
        refused = _content_refusal(arguments)
        if refused is not None:
            return refused
        message.versions.append(message.content)
        message.content = _stored_content(arguments)
        return Answer({"ok": True, "channel": channel.id, "ts": message.ts, "text": message.text})

    def _update_rate_limited(self) -> Answer | None:
        """Tier 3 for chat.update: at most `update_limit_per_minute` calls in any 60 s per
        workspace, whatever their answer (harsher reading: a refused call counts too); beyond,
        HTTP 429 with Retry-After until the oldest leaves the window (rate limits page: "HTTP
        429 Too Many Requests ... a Retry-After HTTP header")."""
        now = self.clock()
        self._updates = [at for at in self._updates if now - at < 60.0]
        if len(self._updates) >= self.update_limit_per_minute:
            wait = max(1, math.ceil(60.0 - (now - self._updates[0])))
            return Answer({"ok": False, "error": "ratelimited"}, 429, (("Retry-After", str(wait)),))
        self._updates.append(now)
        return None

    # --- the file upload flow (files.upload is retired) and conversations.join --------------

    def _tier_limited(self, method: str) -> Answer | None:
        """HTTP 429 ratelimited once `method` had its tier's calls in the last minute."""
        limit = FILES_RATE_TIERS.get(method)
        if limit is None:
            return None
        now = self.clock()
        recent = [t for t in self._tier_calls.get(method, []) if now - t < RATE_WINDOW_SECONDS]
        if len(recent) >= limit:
            wait = max(1, math.ceil(recent[0] + RATE_WINDOW_SECONDS - now))
            self._tier_calls[method] = recent
            return Answer({"ok": False, "error": "ratelimited"}, 429, (("Retry-After", str(wait)),))
        self._tier_calls[method] = [*recent, now]
        return None

    def _missing_scope(self, scope: str) -> Answer | None:
        if scope in self.scopes:
            return None
        return _error("missing_scope", needed=scope, provided=",".join(sorted(self.scopes)))

    def _get_upload_url(self, arguments: dict[str, Any]) -> Answer:
        refused = self._tier_limited("files.getUploadURLExternal") or self._missing_scope(
            "files:write"
        )
        if refused is not None:
            return refused
        filename, length = arguments.get("filename"), _integer(arguments.get("length"))
        if not isinstance(filename, str) or not filename:
            return _error("invalid_arguments")
        if length is None or length <= 0:
            # Slack's answer when `length` is 0 or missing.
            return _error("missing_argument")
        self._ts_counter += 1
        file_id = f"F{self._ts_counter:010d}"
        path = f"/upload/v1/{file_id}-{self._ts_counter * 7919:x}"
        self.files[file_id] = UploadedFile(
            file_id, filename, length, path, url_issued_at=self.clock()
        )
        self.raw_paths[path] = lambda body: self._receive_upload(file_id, body)
        return Answer(
            {"ok": True, "file_id": file_id, "upload_url": f"http://127.0.0.1:{self.port}{path}"}
        )

    def _receive_upload(self, file_id: str, body: bytes) -> Answer:
        with self._lock:
            upload = self.files[file_id]
            self.calls.append(
                Call("upload", {"file_id": file_id, "bytes": len(body)}, None, "", 200, {})
            )
            # Single use and short-lived (UPLOAD_URL_LIFETIME_SECONDS: the harsher reading).
            expired = self.clock() - upload.url_issued_at > UPLOAD_URL_LIFETIME_SECONDS
            if upload.content is not None or expired:
                return Answer(
                    {"ok": False, "error": "upload_url_invalid"}, UPLOAD_URL_REFUSED_STATUS
                )
            if len(body) != upload.length:
                return Answer({"ok": False, "error": "length_mismatch"}, 400)
            upload.content = body
            return Answer({"ok": True})

    def _file_channel(self, channel_id: object) -> Channel | Answer:
        """The channel files.completeUploadExternal shares into: the app must be a member.

        chat:write.public covers chat.postMessage only; completing an upload into a channel the
        app never joined answers not_in_channel (field report: getnao/nao#1372). An unknown
        channel is invalid_channel (the method page's error table). An archived channel: not
        documented for this method; refused with is_archived like chat.postMessage.
        """
        channel = next((c for c in self.channels.values() if c.id == channel_id), None)
        if channel is None:
            return _error("invalid_channel")
        if channel.archived:
            return _error("is_archived")
        if not channel.member:
            return _error("not_in_channel")
        return channel

    def _complete_upload(self, arguments: dict[str, Any]) -> Answer:  # noqa: PLR0911 - one per refusal
        refused = self._tier_limited("files.completeUploadExternal") or self._missing_scope(
            "files:write"
        )
        if refused is not None:
            return refused
        entries = _json_list(arguments.get("files"))
        if not entries:
            return _error("invalid_arguments")
        uploads = []
        for entry in entries:
            upload = self.files.get(entry.get("id")) if isinstance(entry, dict) else None
            if upload is None:
                return _error("file_not_found")
            # "This method can only be called once" (its method page). What a second call
            # answers is not documented: the fake refuses it with file_not_found ("Could not
            # find the file from the upload ticket"), and counts any call, even a refused one,
            # as the one call (the harsher reading).
            upload.completions += 1
            if upload.completions > 1 or upload.content is None:
                return _error("file_not_found")
            uploads.append((upload, entry.get("title") or upload.filename))
        channel = self._file_channel(arguments.get("channel_id"))
        if isinstance(channel, Answer):
            return channel
        thread_ts = arguments.get("thread_ts")
        parent = None
        if thread_ts is not None:
            parent = next((m for m in channel.messages if m.ts == thread_ts), None)
            if parent is None:
                return _error("thread_not_found")
        shared = []
        for upload, title in uploads:
            upload.title, upload.shared_in = title, (channel.id, thread_ts)
            shared.append({"id": upload.id, "title": title, "name": upload.filename})
        # Slack shows a file share as a message with the files; the text is for transcript().
        titles = ", ".join(entry["title"] for entry in shared)
        message = Message(
            channel=channel.id,
            ts=self._next_ts(),
            content={"text": f"[file: {titles}]", "files": shared},
            thread_ts=thread_ts,
        )
        if parent is None:
            channel.messages.append(message)
        else:
            parent.replies.append(message)
        return Answer({"ok": True, "files": shared})

    def _join(self, arguments: dict[str, Any]) -> Answer:
        """conversations.join, as its method page says: bot scope channels:join (missing_scope
        otherwise); channel_not_found, is_archived, method_not_supported_for_channel_type (a
        private channel: a bot is invited there, it cannot join); joining again is ok with the
        warning already_in_channel."""
        refused = self._tier_limited("conversations.join") or self._missing_scope("channels:join")
        if refused is not None:
            return refused
        wanted = arguments.get("channel")
        channel = next((c for c in self.channels.values() if c.id == wanted), None)
        if channel is None:
            return _error("channel_not_found")
        if channel.private:
            return _error("method_not_supported_for_channel_type")
        if channel.archived:
            return _error("is_archived")
        body: dict[str, Any] = {
            "ok": True,
            "channel": {"id": channel.id, "name": channel.name, "is_member": True,
                        "is_private": False, "is_archived": False},
        }  # fmt: skip
        if channel.member:
            body |= {"warning": "already_in_channel",
                     "response_metadata": {"warnings": ["already_in_channel"]}}  # fmt: skip
        channel.member = True
        return Answer(body)

    def answer(  # noqa: PLR0911 - one return per way Slack refuses a call
        self, method: str, authorization: str | None, arguments: object, *, form: bool = False
    ) -> Answer:
        """Slack's answer to one API call (also usable without HTTP); `form`: the arguments came
        form-encoded (every value a string), else as JSON."""
        with self._lock:
            if not authorization:
                return _error("not_authed")
            scheme, _, token = authorization.partition(" ")
            if scheme != "Bearer" or token != self.token:
                return _error("invalid_auth")
            for index, (scripted_method, scripted) in enumerate(self._script):
                if scripted_method == method:
                    del self._script[index]
                    return scripted
            handler = self.methods.get(method)
            if handler is None:
                return _error("unknown_method", 404)
            if not isinstance(arguments, dict):
                return _error("invalid_form_data" if form else "invalid_json")
            if method in FORM_ONLY_METHODS and not form:
                return _error("invalid_arguments")
            if method.startswith("chat.") and "chat:write" not in self.scopes:
                return _error("missing_scope", needed="chat:write", provided=",".join(self.scopes))
            answer = handler(arguments)
            if answer.body.get("ok"):
                for index, (after_method, after) in enumerate(self._after):
                    if after_method == method:
                        del self._after[index]
                        return after
            return answer

    # --- the HTTP side --------------------------------------------------------------------

    def _record(self, call: Call) -> None:
        with self._lock:
            self.calls.append(call)

    def _build_server(self, address: tuple[str, int]) -> ThreadingHTTPServer:
        server = ThreadingHTTPServer(address, self._handler_class())
        server.daemon_threads = True
        server.block_on_close = False
        return server

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                content_type = self.headers.get("Content-Type") or ""
                path = self.path.split("?", 1)[0]
                raw = fake.raw_paths.get(path)
                if raw is not None:
                    self._send(raw(body))
                    return
                method = path.removeprefix("/api/")
                form = content_type.startswith("application/x-www-form-urlencoded")
                arguments: object = None
                if form:
                    arguments = _form_arguments(body)
                elif content_type.startswith("application/json"):
                    try:
                        arguments = json.loads(body.decode("utf-8")) if body else {}
                    except ValueError:
                        arguments = None
                authorization = self.headers.get("Authorization")
                answer = fake.answer(method, authorization, arguments, form=form)
                if answer.body.get("ok") and "charset=utf-8" not in content_type.lower():
                    answer = Answer({**answer.body, "warning": "missing_charset"}, answer.status)
                fake._record(
                    Call(
                        method=method,
                        arguments=arguments if isinstance(arguments, dict) else {},
                        authorization=(authorization or "").partition(" ")[0] or None,
                        content_type=content_type,
                        status=answer.status,
                        answer=answer.body,
                    )
                )
                self._send(answer)

            def _send(self, answer: Answer) -> None:
                payload = json.dumps(answer.body).encode("utf-8")
                try:
                    self.send_response(answer.status)
                    self.send_header("Content-Type", "application/json; charset=utf-8")
                    self.send_header("Content-Length", str(len(payload)))
                    for name, value in answer.headers:
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, format: str, *args: Any) -> None:
                return None

        return Handler
