"""LoopbackServer: the start/stop lifecycle of a test HTTP server on 127.0.0.1:<free port>."""

from __future__ import annotations

import threading
from http.server import ThreadingHTTPServer
from types import TracebackType
from typing import Self


class LoopbackServer:
    """Serve an HTTP server on 127.0.0.1:<free port> in a daemon thread; a context manager.

    Subclasses build the server in `_build_server(address)` and may add work to `_on_stop()`
    (run before the server shuts down). With `strict_start`, `start()` on a running server
    raises; without it, `start()` is idempotent. `stop()` is safe to call twice.
    """

    def __init__(self, *, name: str, strict_start: bool = False) -> None:
        self._name = name
        self._strict_start = strict_start
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- hooks ----------------------------------------------------------------------------

    def _build_server(self, address: tuple[str, int]) -> ThreadingHTTPServer:
        """A new (bound, not yet serving) server on `address`."""
        raise NotImplementedError

    def _on_stop(self) -> None:
        """Extra work when stopping, before the server shuts down (e.g. wake slow answers)."""

    # --- lifecycle ------------------------------------------------------------------------

    def start(self) -> Self:
        """Bind 127.0.0.1 on a free port and serve in a background thread."""
        if self._server is not None:
            if self._strict_start:
                raise RuntimeError(f"{self._name} is already running")
            return self
        server = self._build_server(("127.0.0.1", 0))
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and release the port. Safe to call twice."""
        server, self._server = self._server, None
        if server is None:
            return
        self._on_stop()
        server.shutdown()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """The port the server is bound to; raises when it is not running."""
        return int(self._running().server_address[1])

    def _running(self) -> ThreadingHTTPServer:
        if self._server is None:
            raise RuntimeError(f"{self._name} is not running")
        return self._server
