"""One HTTP request on a worker thread, its response delivered to the event loop.

http.client (what urllib uses underneath) blocks, so it runs on a thread; lines of the body go to
the loop through an asyncio.Queue. Keeping the connection object lets `abort()` shut the socket
down from the loop, which wakes a thread blocked in a read: that is how cancelling a request
closes the HTTP response at once instead of when the server next sends something.
"""

from __future__ import annotations

import asyncio
import http.client
import socket
import ssl
import threading
from typing import Any, AsyncIterator
from urllib.parse import urlsplit

MAX_LINE_BYTES = 1_048_576
MAX_BODY_BYTES = 8 * 1_048_576
MAX_ERROR_BODY_BYTES = 65_536


class HttpStatusError(Exception):
    """The server answered with a status >= 400; `body` holds (the start of) its answer."""

    def __init__(self, status: int, body: bytes) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status
        self.body = body


class HttpCall:
    """`async with HttpCall(...) as call:` sends the request and waits for the status line; then
    `call.lines()` or `call.body()` reads the answer. Leaving the block closes the connection."""

    def __init__(
        self,
        method: str,
        url: str,
        *,
        headers: dict[str, str] | None = None,
        body: bytes | None = None,
        timeout_s: float = 60.0,
        read_lines: bool = False,
    ) -> None:
        self.method = method
        self.url = url
        self.headers = headers or {}
        self.request_body = body
        self.timeout_s = timeout_s
        self.read_lines = read_lines
        self.status = 0
        self._queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._aborted = threading.Event()
        self._lock = threading.Lock()
        self._conn: http.client.HTTPConnection | None = None
        self._thread: threading.Thread | None = None

    async def __aenter__(self) -> "HttpCall":
        self._loop = asyncio.get_running_loop()
        self._thread = threading.Thread(target=self._work, name="atomic-http", daemon=True)
        self._thread.start()
        kind, value = await self._queue.get()
        if kind == "exc":
            raise value
        if kind == "status_error":
            raise HttpStatusError(value[0], value[1])
        assert kind == "status", kind
        self.status = value
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self.abort()

    def abort(self) -> None:
        self._aborted.set()
        with self._lock:
            sock = self._conn.sock if self._conn is not None else None
        # Only shut the socket down: the worker thread wakes from its read and closes the
        # connection itself, so no object is closed from two threads at once.
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass  # already closed: nothing left to wake

    async def lines(self) -> AsyncIterator[bytes]:
        """Each line of the body (with its line ending), until the body ends."""
        while True:
            kind, value = await self._queue.get()
            if kind == "line":
                yield value
            elif kind == "eof":
                return
            elif kind == "exc":
                raise value
            else:
                raise AssertionError(kind)

    async def body(self) -> bytes:
        kind, value = await self._queue.get()
        if kind == "exc":
            raise value
        assert kind == "body", kind
        return value

    # ---- worker thread ----

    def _post(self, kind: str, value: Any = None) -> bool:
        if self._aborted.is_set() or self._loop is None:
            return False
        try:
            self._loop.call_soon_threadsafe(self._queue.put_nowait, (kind, value))
        except RuntimeError:
            return False  # the loop is closed: the agent is exiting
        return True

    def _connection(self) -> tuple[http.client.HTTPConnection, str]:
        parts = urlsplit(self.url)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        if parts.scheme == "https":
            context = ssl.create_default_context()
            return http.client.HTTPSConnection(parts.hostname, parts.port, timeout=self.timeout_s, context=context), path
        return http.client.HTTPConnection(parts.hostname, parts.port, timeout=self.timeout_s), path

    def _work(self) -> None:
        try:
            conn, path = self._connection()
            with self._lock:
                self._conn = conn
            conn.connect()
            if self._aborted.is_set():
                conn.close()
                return
            conn.request(self.method, path, body=self.request_body, headers=self.headers)
            response = conn.getresponse()
            if response.status >= 400:
                self._post("status_error", (response.status, response.read(MAX_ERROR_BODY_BYTES)))
                return
            if not self._post("status", response.status):
                return
            if not self.read_lines:
                data = response.read(MAX_BODY_BYTES + 1)
                if len(data) > MAX_BODY_BYTES:
                    raise http.client.HTTPException(f"the response body is larger than {MAX_BODY_BYTES} bytes")
                self._post("body", data)
                return
            while not self._aborted.is_set():
                line = response.readline(MAX_LINE_BYTES)
                if not line:
                    break
                self._post("line", line)
            self._post("eof")
        except Exception as exc:  # noqa: BLE001 - every failure is handed to the loop, typed there
            self._post("exc", exc)
        finally:
            with self._lock:
                conn_to_close, self._conn = self._conn, None
            if conn_to_close is not None:
                conn_to_close.close()
