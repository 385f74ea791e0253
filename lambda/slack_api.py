"""A small Slack Web API client (chat.postMessage, chat.update, the files.* upload calls) over
http.client; never logs the token.

Retries, backoff, Retry-After and the deadline are slack.send_with_retries, shared with the
webhook transport. Slack answers most failures with HTTP 200 and {"ok": false, "error": ...}:
those are failures too, classified here as retryable, permanent, or "the message is gone".
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode

from settings import is_allowed_api_url
from slack import (
    DEFAULT_POLICY,
    Attempt,
    Delivery,
    RetryPolicy,
    encode_payload,
    send_with_retries,
)
from text import safe_text

# typing costs cold-start time and is only needed by type checkers.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

DEFAULT_BASE_URL = "https://slack.com/api/"
RESPONSE_LIMIT = 1_000_000
JSON_CONTENT_TYPE = "application/json; charset=utf-8"
FORM_CONTENT_TYPE = "application/x-www-form-urlencoded; charset=utf-8"
# Sent form-encoded: files.getUploadURLExternal refuses a JSON body ("invalid_arguments" although
# filename and length are there), and Slack's own SDKs send both files.* calls as a form, with
# structured arguments (files=[...]) as JSON strings. Every Web API method accepts a form; chat.*
# stays JSON (its blocks and attachments are nested).
FORM_ENCODED_METHODS = frozenset({"files.getUploadURLExternal", "files.completeUploadExternal"})

# Worth another try: Slack's own trouble and its rate limit (HTTP 429 carries Retry-After).
RETRYABLE_ERRORS = frozenset(
    {"ratelimited", "rate_limited", "internal_error", "fatal_error", "service_unavailable",
     "request_timeout"}
)  # fmt: skip

# Slack's common errors: internal_error / fatal_error "some aspect of the operation may have
# succeeded"; request_timeout likewise. The Web API has no idempotency key, so a call that is
# not idempotent is never retried after one of these, nor after the request was sent and no
# answer came: it may have been posted.
AMBIGUOUS_ERRORS = frozenset({"internal_error", "fatal_error", "request_timeout"})
# chat.postMessage posts again when repeated. (chat.update sets the same content again: retried
# as before; files.completeUploadExternal narrows its own retries with retry_if, slack_files.py.)
NOT_IDEMPOTENT_METHODS = frozenset({"chat.postMessage"})

# Permanent until someone changes the app, the token or the channel: what to do, for the log.
CONFIGURATION_ERRORS = {
    "channel_not_found": (
        "the channel does not exist, or it is private and the app is not in it: check "
        "slack_channel_id / slack_routes (use the channel ID, e.g. C0123456789) and invite the app"
    ),
    "not_in_channel": (
        "the app is not a member of the channel: /invite the app there, or add the "
        "chat:write.public scope to the app and reinstall it"
    ),
    "is_archived": "the channel is archived: unarchive it or route to another channel",
    "invalid_auth": (
        "the bot token is not valid: store the app's Bot User OAuth Token (xoxb-...) in the "
        "SSM parameter named by slack_bot_token_ssm_parameter_name"
    ),
    "not_authed": "no bot token was sent: check slack_bot_token_ssm_parameter_name",
    "token_revoked": (
        "the bot token was revoked (the app was uninstalled?): reinstall the app and store the "
        "new Bot User OAuth Token in the SSM parameter"
    ),
    "token_expired": (
        "the bot token expired (token rotation is on): turn rotation off for this app or "
        "store a fresh token in the SSM parameter"
    ),
    "missing_scope": (
        "the app lacks a scope (see 'needed'): add it under OAuth & Permissions (chat:write, "
        "chat:write.public, files:write, channels:history) and reinstall the app"
    ),
    "account_inactive": (
        "the token belongs to a deactivated user or workspace: reinstall the app from an "
        "active account and store the new token"
    ),
    "no_permission": "the workspace does not let the app do this: ask a Slack admin",
    "restricted_action": "a workspace setting prevents the app from posting in this channel",
    "team_access_not_granted": "the app is not granted access to this workspace",
    "ekm_access_denied": "Slack Enterprise Key Management refused access: ask a Slack admin",
}

# The message (or its thread) cannot be used any more: post a new message instead.
MESSAGE_GONE_ERRORS = frozenset(
    {"message_not_found", "cant_update_message", "edit_window_closed", "thread_not_found"}
)

# After these, the token cached for this container is forgotten, so a fixed token in SSM is
# picked up on the next invocation without a redeploy.
TOKEN_ERRORS = frozenset({"invalid_auth", "not_authed", "token_revoked", "token_expired",
                          "account_inactive"})  # fmt: skip


@dataclass(frozen=True)
class ApiResult:
    """One Web API call's outcome: safe to log (never holds the token)."""

    delivery: Delivery
    response: dict[str, Any] | None = None
    # The call failed in a way that may have taken effect (see AMBIGUOUS_ERRORS).
    ambiguous: bool = False

    @property
    def ok(self) -> bool:
        return self.delivery.delivered

    @property
    def error(self) -> str | None:
        """Slack's error code ("channel_not_found", ...) or a transport error; None when ok."""
        return None if self.ok else self.delivery.error

    @property
    def ts(self) -> str | None:
        value = (self.response or {}).get("ts")
        return value if isinstance(value, str) else None

    @property
    def channel(self) -> str | None:
        value = (self.response or {}).get("channel")
        return value if isinstance(value, str) else None

    @property
    def message_gone(self) -> bool:
        return self.error in MESSAGE_GONE_ERRORS

    @property
    def hint(self) -> str | None:
        """What the operator should do about a permanent configuration error."""
        return CONFIGURATION_ERRORS.get(self.error or "")


def _classify(status: int, data: object, retry_after: float | None) -> Attempt:
    if not isinstance(data, dict):
        return Attempt(status, f"HTTP {status}: not a JSON object", retryable=status >= 500)
    if data.get("ok") is True and 200 <= status < 300:
        return Attempt(status, None, retryable=False)
    error = str(data.get("error") or f"HTTP {status}")
    retryable = status == 429 or status >= 500 or error in RETRYABLE_ERRORS
    return Attempt(status, error, retryable=retryable, retry_after=retry_after)


def is_ambiguous(attempt: Attempt, *, sent: bool) -> bool:
    """A failed attempt that may have taken effect: Slack's "may have succeeded" errors, a 5xx
    (the harsher reading), or no answer after the request was sent. A 429 is never one: Slack
    refused the call before acting on it."""
    if (
        attempt.delivered
        or attempt.status == 429
        or attempt.error in ("ratelimited", "rate_limited")
    ):
        return False
    if attempt.status is None:
        return sent
    return attempt.error in AMBIGUOUS_ERRORS or attempt.status >= 500


def encode_form(arguments: dict[str, Any]) -> bytes:
    """`arguments` as an application/x-www-form-urlencoded body, the way Slack reads a form:
    strings as they are, numbers in decimal, booleans as true/false, anything else (a list of
    files, say) as a JSON string. A lone surrogate becomes U+FFFD instead of raising."""
    fields: dict[str, str] = {}
    for key, value in arguments.items():
        if isinstance(value, str):
            text = value
        elif isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, int | float):
            text = str(value)
        else:
            text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
        fields[safe_text(key)] = safe_text(text)
    return urlencode(fields).encode("ascii")


class SlackApi:
    """The bot's Web API calls, each with slack.py's retry rules and the caller's deadline."""

    def __init__(
        self,
        token: str,
        *,
        base_url: str = DEFAULT_BASE_URL,
        policy: RetryPolicy = DEFAULT_POLICY,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not is_allowed_api_url(base_url):
            raise ValueError("the Slack API base URL must be https://slack.com/api/ or loopback")
        self._token = token
        self.base_url = base_url if base_url.endswith("/") else base_url + "/"
        self.policy = policy
        self.sleep = sleep
        self.clock = clock

    def __repr__(self) -> str:  # the token never reaches a log through repr()
        return f"SlackApi(base_url={self.base_url!r})"

    def call(
        self,
        method: str,
        arguments: dict[str, Any],
        *,
        deadline: float | None,
        retry_if: Callable[[Attempt], bool] | None = None,
    ) -> ApiResult:
        """POST `arguments` to `method` (JSON, or a form for FORM_ENCODED_METHODS); retry what
        Slack says is worth retrying and, when given, `retry_if` allows (a call that must not
        run twice narrows the retries to failures that surely did not reach Slack)."""
        if method in FORM_ENCODED_METHODS:
            body, content_type = encode_form(arguments), FORM_CONTENT_TYPE
        else:
            body, content_type = encode_payload(arguments), JSON_CONTENT_TYPE
        responses: list[dict[str, Any]] = []
        ambiguous: list[bool] = []
        once_only = method in NOT_IDEMPOTENT_METHODS

        def attempt(timeout: float) -> Attempt:
            result, data, sent = self._attempt(method, body, content_type, timeout)
            if isinstance(data, dict):
                responses.append(data)
            if result.retryable and retry_if is not None and not retry_if(result):
                return Attempt(result.status, result.error, retryable=False)
            if once_only and is_ambiguous(result, sent=sent):
                ambiguous.append(True)
                result.retryable = False
            return result

        delivery = send_with_retries(
            attempt, policy=self.policy, deadline=deadline, sleep=self.sleep, clock=self.clock
        )
        if ambiguous and not delivery.delivered:
            delivery = Delivery(
                False, "ambiguous", delivery.attempts, delivery.status, delivery.error
            )
        return ApiResult(delivery, responses[-1] if responses else None, bool(ambiguous))

    def history(self, channel: str, *, limit: int, deadline: float | None) -> ApiResult:
        """The channel's newest top-level messages with their metadata (conversations.history;
        scope channels:history, and the app must be in the channel)."""
        arguments = {"channel": channel, "limit": limit, "include_all_metadata": True}
        return self.call("conversations.history", arguments, deadline=deadline)

    def post_message(self, arguments: dict[str, Any], *, deadline: float | None) -> ApiResult:
        return self.call("chat.postMessage", arguments, deadline=deadline)

    def update_message(self, arguments: dict[str, Any], *, deadline: float | None) -> ApiResult:
        return self.call("chat.update", arguments, deadline=deadline)

    def _attempt(
        self, method: str, body: bytes, content_type: str, timeout: float
    ) -> tuple[Attempt, object, bool]:
        """One POST, bounded as a whole by `timeout` (slack.py's deadline-bound connection)."""
        import http.client  # noqa: PLC0415
        from urllib.parse import urlsplit  # noqa: PLC0415

        from slack import AttemptTimeout, _connection, _retry_after_seconds  # noqa: PLC0415

        deadline = time.monotonic() + timeout
        parts = urlsplit(self.base_url + method)
        tls = parts.scheme == "https"
        connection = _connection(
            parts.hostname or "", parts.port or (443 if tls else 80), tls=tls, deadline=deadline
        )
        sent = False
        try:
            connection.request(
                "POST",
                parts.path,
                body=body,
                headers={
                    "Content-Type": content_type,
                    "Authorization": f"Bearer {self._token}",
                },
            )
            sent = True  # the whole request is out: Slack may act on it from here on
            response = connection.getresponse()
            status = response.status
            retry_after = _retry_after_seconds(response.getheader("Retry-After"))
            raw = response.read(RESPONSE_LIMIT)
        except AttemptTimeout as exc:
            return Attempt(None, f"timed out: {exc} ({timeout:.1f} s)", retryable=True), None, sent
        except (TimeoutError, OSError, http.client.HTTPException) as exc:
            # Resets, refused connections, DNS failures, malformed responses: transient.
            return Attempt(None, f"{type(exc).__name__}: {exc}", retryable=True), None, sent
        finally:
            connection.close()
        try:
            data = json.loads(raw.decode("utf-8", "replace")) if raw else None
        except ValueError:
            data = None
        if data is None and status == 429:
            data = {"ok": False, "error": "ratelimited"}
        return _classify(status, data, retry_after), data, True
