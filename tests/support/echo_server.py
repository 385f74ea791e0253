"""EchoServer: answers each HTTP request with its own request line (a confused proxy or an echo
service), so the client's own transport error holds the URL that was requested."""

from __future__ import annotations

import socketserver
from typing import Any

from support.loopback_server import LoopbackServer


class _EchoLine(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        line = self.rfile.readline(65537)
        self.server.lines.append(line.decode("latin-1"))  # type: ignore[attr-defined]
        # No status line, only the echo: CPython's http.client reads "POST /path HTTP/1.1" as
        # the status line, finds no "HTTP/" version first and raises BadStatusLine(line), the
        # request line with the URL's path in it (Lib/http/client.py, HTTPResponse._read_status).
        self.wfile.write(line)


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int]) -> None:
        super().__init__(address, _EchoLine)
        self.lines: list[str] = []


class EchoServer(LoopbackServer):
    """A TCP server on 127.0.0.1 that sends back every request's first line and closes."""

    def __init__(self) -> None:
        super().__init__(name="EchoServer")
        self.lines: list[str] = []

    def _build_server(self, address: tuple[str, int]) -> Any:
        server = _Server(address)
        self.lines = server.lines
        return server
