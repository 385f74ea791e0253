"""TrickleServer: answers a POST with a header line every `interval` seconds, never finishing."""

from __future__ import annotations

import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from support.loopback_server import LoopbackServer


class TrickleServer(LoopbackServer):
    """An HTTP server on 127.0.0.1 whose answer trickles in: each socket read succeeds well
    within any per-operation timeout, but the response never completes (until `lines` lines
    were sent; lines=0 answers 200 "ok" at once). With `tls` (a server SSLContext) it speaks
    https. Use as a context manager; `stop()` ends every trickle at once."""

    def __init__(
        self, *, interval: float = 0.4, lines: int = 100, tls: ssl.SSLContext | None = None
    ) -> None:
        super().__init__(name="TrickleServer")
        self.interval = interval
        self.lines = lines
        self.tls = tls
        self.stopping = threading.Event()
        self.requests = 0

    @property
    def url(self) -> str:
        scheme = "https" if self.tls else "http"
        return f"{scheme}://127.0.0.1:{self.port}/services/T000/B000/trickle-secret-token"

    def _on_stop(self) -> None:
        self.stopping.set()

    def _build_server(self, address: tuple[str, int]) -> ThreadingHTTPServer:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                owner.requests += 1
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self.wfile.write(b"HTTP/1.1 200 OK\r\n")
                self.wfile.flush()
                for number in range(owner.lines):
                    if owner.stopping.wait(owner.interval):
                        return
                    try:
                        self.wfile.write(f"X-Trickle-{number}: still-coming\r\n".encode())
                        self.wfile.flush()
                    except OSError:  # the client gave up: that is the point
                        return
                self.wfile.write(b"Content-Length: 2\r\n\r\nok")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(address, Handler)
        server.daemon_threads = True
        if self.tls is not None:
            server.socket = self.tls.wrap_socket(server.socket, server_side=True)
        return server
