"""FakeSlack: a local stand-in for a Slack incoming webhook with scripted responses.

Like Slack, it refuses content that breaks a rule of support.slack_rules with HTTP 400 and the
bare error string (invalid_blocks, invalid_attachments, msg_blocks_too_long,
too_many_attachments, no_text; a body that is not a JSON object: invalid_payload).
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from support.loopback_server import LoopbackServer
from support.slack_rules import message_refusal

WEBHOOK_PATH = "/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX"


@dataclass(frozen=True)
class Response:
    """One scripted answer. `drop=True` closes the connection without answering (a reset)."""

    status: int = 200
    body: str = "ok"
    headers: tuple[tuple[str, str], ...] = ()
    delay: float = 0.0
    drop: bool = False


@dataclass(frozen=True)
class Request:
    """One request as FakeSlack received it."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    json: Any = field(default=None)
    response: Response = field(default_factory=Response)


ScriptEntry = Response | tuple[Any, ...] | int

# Incoming webhooks answer a refused message with an HTTP status and the bare error string
# (api.slack.com/changelog/2016-05-17-changes-to-errors-for-incoming-webhooks: 400
# invalid_payload; field reports: 400 invalid_blocks in sourcegraph/sourcegraph#49979 and
# bugsink/bugsink#317, 400 invalid_attachments in slackapi/node-slack-sdk#809). No report shows
# msg_blocks_too_long over a webhook; the fake answers it like the others (400), the reading
# that makes the product handle it.
WEBHOOK_REFUSAL_STATUS = 400


def webhook_refusal(body: bytes) -> Response | None:
    """Slack's answer to a webhook body it will not post, or None if it takes it."""
    try:
        payload = json.loads(body.decode("utf-8"))
    except ValueError:
        return Response(WEBHOOK_REFUSAL_STATUS, "invalid_payload")
    refusal = message_refusal(payload)
    if refusal is None:
        return None
    error = "invalid_payload" if refusal.error == "invalid_arguments" else refusal.error
    return Response(WEBHOOK_REFUSAL_STATUS, error)


def _as_response(entry: ScriptEntry) -> Response:
    """Accept Response, status, (status, body), (status, body, headers) or (.., delay)."""
    if isinstance(entry, Response):
        return entry
    if isinstance(entry, int):
        return Response(status=entry, body="ok" if entry == 200 else "error")
    status, body, *rest = entry
    headers = rest[0] if rest else {}
    delay = rest[1] if len(rest) > 1 else 0.0
    return Response(status=status, body=body, headers=tuple(dict(headers).items()), delay=delay)


class FakeSlack(LoopbackServer):
    """A Slack webhook on 127.0.0.1:<free port>. Use as a context manager (always stopped).

    >>> with FakeSlack() as slack:
    ...     slack.script([(500, "rollup_error"), (429, "rate_limited", {"Retry-After": "1"})])
    ...     # post to slack.url; then inspect slack.requests (JSON bodies) or slack.received

    Scripted responses are used in order, then `default` (200 "ok"). Subclasses may override
    `next_response(request_body)` to inject faults at random (the soak does). A body Slack
    would refuse (`webhook_refusal`) gets Slack's 400 and leaves the script untouched.
    """

    def __init__(self, default: Response | None = None) -> None:
        super().__init__(name="FakeSlack")
        self.default = default or Response()
        self._lock = threading.Lock()
        self._script: list[Response] = []
        self._received: list[Request] = []
        self._arrived = threading.Condition(self._lock)

    # --- configuration and inspection -----------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{WEBHOOK_PATH}"

    def script(self, responses: list[ScriptEntry]) -> None:
        """Queue responses to use, in order, before falling back to the default."""
        with self._lock:
            self._script.extend(_as_response(r) for r in responses)

    def reset(self) -> None:
        """Forget received requests and any unused script."""
        with self._lock:
            self._script.clear()
            self._received.clear()

    @property
    def received(self) -> list[Request]:
        with self._lock:
            return list(self._received)

    @property
    def requests(self) -> list[Any]:
        """The JSON bodies received so far (None for a body that was not JSON)."""
        return [r.json for r in self.received]

    def wait_for(self, count: int, timeout: float = 5.0) -> list[Request]:
        """Block until at least `count` requests arrived (or timeout); return them."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while len(self._received) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._arrived.wait(left)
            return list(self._received)

    def next_response(self, body: bytes) -> Response:
        """The response for the next request; override to inject faults."""
        with self._lock:
            return self._script.pop(0) if self._script else self.default

    # --- the HTTP side --------------------------------------------------------------------

    def _record(self, request: Request) -> None:
        with self._arrived:
            self._received.append(request)
            self._arrived.notify_all()

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
                response = webhook_refusal(body) or fake.next_response(body)
                try:
                    parsed = json.loads(body.decode("utf-8")) if body else None
                except ValueError:
                    parsed = None
                fake._record(
                    Request(
                        method="POST",
                        path=self.path,
                        headers=dict(self.headers.items()),
                        body=body,
                        json=parsed,
                        response=response,
                    )
                )
                if response.delay:
                    time.sleep(response.delay)
                if response.drop:
                    self.close_connection = True
                    self.connection.close()
                    return
                payload = response.body.encode("utf-8")
                try:
                    self.send_response(response.status)
                    self.send_header("Content-Type", "text/plain; charset=utf-8")
                    self.send_header("Content-Length", str(len(payload)))
                    for name, value in response.headers:
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (its timeout); nothing left to answer

            def log_message(self, format: str, *args: Any) -> None:
                return None

        return Handler
