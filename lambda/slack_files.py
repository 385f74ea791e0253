"""Upload a file into a Slack thread with the current flow (files.upload is retired).

1. files.getUploadURLExternal (filename, length) -> upload_url, file_id
2. POST the bytes to upload_url
3. files.completeUploadExternal (files=[{id, title}], channel_id, thread_ts)

Steps 1 and 3 go through slack_api.SlackApi (form bodies; the caller's deadline included).
Steps 1 and 2 are retried like any call; when a POST went unanswered and its retry is refused
with a 4xx (an upload URL may take the bytes once), step 3 is still tried. Step 3 "can only be
called once" (its method page): it is retried only after HTTP 429 / ratelimited, which Slack
answers before doing anything; after a timeout, a 5xx or internal_error/fatal_error ("some
aspect of the operation may have succeeded", Slack's common errors) the file may be shared
already, so the upload ends there (step "complete_unconfirmed"). The upload URL is a
capability: it is never logged. Needs the files:write scope, and the app must be a member of
the channel: chat:write.public covers chat.postMessage only (field report: getnao/nao#1372).
"""

from __future__ import annotations

from dataclasses import dataclass

from slack import Attempt, Delivery, RetryPolicy, send_with_retries
from slack_api import SlackApi

# typing costs cold-start time and is only needed by type checkers.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

# Slack refuses alt text longer than this (alt_txt_too_large).
ALT_TEXT_LIMIT = 1000
RESPONSE_LIMIT = 64_000


@dataclass(frozen=True)
class FileUpload:
    """The outcome of one upload: safe to log (no token, no upload URL)."""

    ok: bool
    # get_upload_url | upload | complete (Slack refused it) | complete_unconfirmed (no answer
    # or a server error: the file may or may not be shared, and is not completed again) | done
    step: str
    file_id: str | None = None
    error: str | None = None


def _surely_not_processed(attempt: Attempt) -> bool:
    """Slack turned the call away before doing anything: rate limited (HTTP 429 / ratelimited)."""
    return attempt.status == 429 or attempt.error in ("ratelimited", "rate_limited")


def is_allowed_upload_url(url: object) -> bool:
    """Slack's own https file host, or a loopback http URL (the fake Web API in tests)."""
    if not isinstance(url, str):
        return False
    from urllib.parse import urlsplit  # noqa: PLC0415

    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
    except ValueError:
        return False
    if parts.scheme == "https":
        return host == "slack.com" or host.endswith(".slack.com")
    return parts.scheme == "http" and host in ("127.0.0.1", "localhost", "::1")


def _post_bytes(url: str, content: bytes, timeout: float) -> Attempt:
    """One POST of the bytes, bounded as a whole by `timeout` (slack.py's deadline-bound
    connection, as the Web API client uses)."""
    import http.client  # noqa: PLC0415
    import time  # noqa: PLC0415
    from urllib.parse import urlsplit  # noqa: PLC0415

    from slack import AttemptTimeout, _connection, _retry_after_seconds  # noqa: PLC0415

    deadline = time.monotonic() + timeout
    parts = urlsplit(url)
    tls = parts.scheme == "https"
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    connection = _connection(
        parts.hostname or "", parts.port or (443 if tls else 80), tls=tls, deadline=deadline
    )
    try:
        connection.request(
            "POST", path, body=content, headers={"Content-Type": "application/octet-stream"}
        )
        response = connection.getresponse()
        status = response.status
        retry_after = _retry_after_seconds(response.getheader("Retry-After"))
        response.read(RESPONSE_LIMIT)
    except AttemptTimeout:
        return Attempt(None, f"timed out ({timeout:.1f} s)", retryable=True)
    except (TimeoutError, OSError, http.client.HTTPException) as exc:
        # The message of these may quote the URL: only the type is kept.
        return Attempt(None, type(exc).__name__, retryable=True)
    finally:
        connection.close()
    if 200 <= status < 300:
        return Attempt(status, None, retryable=False)
    retryable = status in (408, 429) or status >= 500
    return Attempt(status, f"HTTP {status}", retryable=retryable, retry_after=retry_after)


def upload_file(
    api: SlackApi,
    *,
    channel: str,
    thread_ts: str | None,
    filename: str,
    title: str,
    content: bytes,
    alt_text: str | None = None,
    deadline: float | None = None,
    policy: RetryPolicy | None = None,
) -> FileUpload:
    """Share `content` in `channel` (in the thread of `thread_ts`); never raises."""
    arguments: dict[str, Any] = {"filename": filename, "length": len(content)}
    if alt_text:
        arguments["alt_txt"] = alt_text[:ALT_TEXT_LIMIT]
    started = api.call("files.getUploadURLExternal", arguments, deadline=deadline)
    if not started.ok:
        return FileUpload(False, "get_upload_url", error=started.error)
    upload_url = (started.response or {}).get("upload_url")
    file_id = (started.response or {}).get("file_id")
    if not is_allowed_upload_url(upload_url) or not isinstance(file_id, str) or not file_id:
        return FileUpload(False, "get_upload_url", error="no usable upload_url/file_id in answer")
    unanswered: list[Attempt] = []

    def post(timeout: float) -> Attempt:
        attempt = _post_bytes(str(upload_url), content, timeout)
        if attempt.status is None:
            unanswered.append(attempt)
        return attempt

    sent = send_with_retries(
        post,
        policy=policy or api.policy,
        deadline=deadline,
        sleep=api.sleep,
        clock=api.clock,
    )
    if not sent.delivered and not _bytes_may_be_there(sent, unanswered):
        return FileUpload(False, "upload", file_id, f"{sent.outcome}: {sent.error}")
    complete: dict[str, Any] = {
        "files": [{"id": file_id, "title": title}],
        "channel_id": channel,
    }
    if thread_ts:
        complete["thread_ts"] = thread_ts
    finished = api.call(
        "files.completeUploadExternal",
        complete,
        deadline=deadline,
        retry_if=_surely_not_processed,
    )
    if finished.ok:
        return FileUpload(True, "done", file_id)
    if _may_have_run(finished.delivery):
        return FileUpload(
            False,
            "complete_unconfirmed",
            file_id,
            f"{finished.error} (not retried: Slack completes an upload once; it may be shared)",
        )
    return FileUpload(False, "complete", file_id, finished.error)


def _bytes_may_be_there(sent: Delivery, unanswered: list[Attempt]) -> bool:
    """An earlier POST got no answer (it may have arrived) and a retry was refused with a 4xx:
    the upload URL may take the bytes once only (not documented; the harsher reading), so the
    refusal can mean "already have them". Completing then either shares the file or answers
    file_not_found, and is still called once."""
    status = sent.status
    return bool(unanswered) and status is not None and 400 <= status < 500


# Answers after which Slack may have shared the file: no answer at all, a server error, or
# internal_error / fatal_error ("It's possible some aspect of the operation succeeded before the
# error was raised": the method page's error table).
_MAYBE_DONE_ERRORS = frozenset({"internal_error", "fatal_error", "service_unavailable"})


def _may_have_run(delivery: Delivery) -> bool:
    if delivery.attempts == 0:
        return False  # never sent (no time left to try)
    status = delivery.status
    return status is None or status >= 500 or (delivery.error or "") in _MAYBE_DONE_ERRORS
