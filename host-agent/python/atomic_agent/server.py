"""The Unix socket server: binds safely, accepts connections, drains on shutdown."""

from __future__ import annotations

import asyncio
import os
import socket
import stat

from .config import MAX_SOCKET_PATH_BYTES, Config, ConfigError
from .connection import Connection
from .log import Logger
from .providers import Provider


def _remove_stale_socket(path: str, log: Logger) -> None:
    """Removes a socket file nobody listens on; refuses to touch a live socket or any other file."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return
    if not stat.S_ISSOCK(info.st_mode):
        raise ConfigError("ATOMIC_IPC_SOCKET", f"{path} exists and is not a socket; refusing to replace it")
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    probe.settimeout(1.0)
    try:
        probe.connect(path)
    except (ConnectionRefusedError, FileNotFoundError):
        os.unlink(path)
        log.info("removed a stale socket file", socket=path)
        return
    except OSError as exc:
        raise ConfigError("ATOMIC_IPC_SOCKET", f"cannot tell whether {path} is in use: {exc}") from None
    finally:
        probe.close()
    raise ConfigError("ATOMIC_IPC_SOCKET", f"another process is already listening on {path}")


def bind_socket(path: str, log: Logger) -> tuple[socket.socket, int]:
    """A listening socket at `path`, mode 0600, and the inode of its file.

    It is bound and listening under a temporary name first and then renamed into place, so the
    path only ever names a socket that accepts connections: a client that sees the file can
    connect at once.
    """
    _remove_stale_socket(path, log)
    temporary = f"{path}.{os.getpid()}.tmp"
    if len(os.fsencode(temporary)) > MAX_SOCKET_PATH_BYTES:
        temporary = path
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old_umask = os.umask(0o177)  # no window in which the socket is open to others
    try:
        sock.bind(temporary)
        os.chmod(temporary, 0o600)
        sock.listen(512)
        if temporary != path:
            os.rename(temporary, path)
    except OSError as exc:
        sock.close()
        if temporary != path and os.path.exists(temporary):
            os.unlink(temporary)
        raise ConfigError("ATOMIC_IPC_SOCKET", f"cannot listen on {path}: {exc.strerror or exc}") from None
    finally:
        os.umask(old_umask)
    sock.setblocking(False)
    return sock, os.stat(path).st_ino


class Agent:
    def __init__(self, config: Config, provider: Provider, log: Logger) -> None:
        self.config = config
        self.provider = provider
        self.log = log
        self.connections: set[Connection] = set()
        self.draining = False
        self._server: asyncio.base_events.Server | None = None
        self._inode: int | None = None
        self._handlers: set[asyncio.Task[None]] = set()
        self._numbers = 0

    def in_flight(self) -> int:
        return sum(len(conn.requests) for conn in self.connections)

    async def start(self) -> None:
        sock, self._inode = bind_socket(self.config.socket_path, self.log)
        self._server = await asyncio.start_unix_server(self._accept, sock=sock)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.draining:
            writer.close()
            return
        self._numbers += 1
        conn = Connection(self, reader, writer, self._numbers)
        self.connections.add(conn)
        task = asyncio.current_task()
        if task is not None:
            self._handlers.add(task)
        try:
            await conn.serve()
        finally:
            self.connections.discard(conn)
            if task is not None:
                self._handlers.discard(task)

    def _remove_socket_file(self) -> None:
        path = self.config.socket_path
        try:
            if os.lstat(path).st_ino == self._inode:
                os.unlink(path)
        except FileNotFoundError:
            pass  # already gone; a new agent may since have bound a file of its own, left alone

    async def shutdown(self, force: asyncio.Event | None = None) -> None:
        """Stops accepting, lets in-flight requests finish for ATOMIC_IPC_DRAIN_MS (or until `force`
        is set), ends the rest with a retryable ERROR, closes every connection."""
        self.draining = True
        if self._server is not None:
            self._server.close()
        self._remove_socket_file()
        deadline = asyncio.get_running_loop().time() + self.config.drain_ms / 1000
        while self.in_flight() > 0 and asyncio.get_running_loop().time() < deadline:
            if force is not None and force.is_set():
                break
            await asyncio.sleep(0.02)
        left = self.in_flight()
        if left:
            self.log.warn("ending requests still running at shutdown", requests=left)
        for conn in list(self.connections):
            conn.cancel_all("shutdown")
        for conn in list(self.connections):
            await conn.close()
        if self._handlers:
            await asyncio.gather(*self._handlers, return_exceptions=True)
        await self.provider.close()
