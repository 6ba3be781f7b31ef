"""Helpers for the agent's tests: start the real agent process, talk to it over its socket."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

PYTHON_DIR = Path(__file__).resolve().parent.parent


def clean_env(**extra: str) -> dict[str, str]:
    """The test's environment without any ATOMIC_* variable of the person running the tests."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("ATOMIC_")}
    env.update(extra)
    return env


class AgentProcess:
    """`python3 -m atomic_agent` on a socket in a fresh temporary folder; logs go to a file there."""

    def __init__(self, env: dict[str, str] | None = None, socket_path: str | None = None) -> None:
        self.dir = tempfile.mkdtemp(prefix="atomic-agent-test-")
        self.socket_path = socket_path or os.path.join(self.dir, "agent.sock")
        self.log_path = os.path.join(self.dir, "agent.log")
        self.env = clean_env(ATOMIC_IPC_SOCKET=self.socket_path, ATOMIC_LOG_LEVEL="DEBUG", **(env or {}))
        self.proc: subprocess.Popen[bytes] | None = None
        self._log_start = 0

    def start(self, wait: bool = True) -> "AgentProcess":
        self._log_start = len(self.log())
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "atomic_agent"],
                cwd=PYTHON_DIR,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=log,
            )
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self, timeout: float = 10.0) -> None:
        """Waits for the agent's "listening" log line: a socket file alone may be a stale one."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if '"msg": "listening"' in self.log()[self._log_start :]:
                return
            if self.proc is not None and self.proc.poll() is not None:
                raise AssertionError(f"the agent exited with {self.proc.returncode}: {self.log()}")
            time.sleep(0.01)
        raise AssertionError(f"no socket at {self.socket_path} after {timeout}s: {self.log()}")

    def log(self) -> str:
        try:
            return Path(self.log_path).read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    def signal(self, signum: int = signal.SIGTERM) -> None:
        assert self.proc is not None
        self.proc.send_signal(signum)

    def wait(self, timeout: float = 10.0) -> int:
        assert self.proc is not None
        return self.proc.wait(timeout)

    def stop(self) -> None:
        """Ends the process (SIGTERM, then SIGKILL) and removes the temporary folder."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> "AgentProcess":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class Client:
    """A blocking client of one connection; messages for other ids wait in a backlog."""

    def __init__(self, path: str, timeout: float = 15.0) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(path)
        self.buffer = b""
        self.backlog: list[dict[str, Any]] = []

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def send(self, message: dict[str, Any] | bytes) -> None:
        data = message if isinstance(message, bytes) else json.dumps(message).encode() + b"\n"
        self.sock.sendall(data)

    def read_line(self) -> bytes:
        while b"\n" not in self.buffer:
            data = self.sock.recv(65536)
            if not data:
                raise EOFError("the agent closed the connection")
            self.buffer += data
        line, self.buffer = self.buffer.split(b"\n", 1)
        return line

    def recv(self) -> dict[str, Any]:
        if self.backlog:
            return self.backlog.pop(0)
        return json.loads(self.read_line())

    def recv_for(self, id_: str | None) -> dict[str, Any]:
        """The next message with this id; others are kept for later."""
        for index, message in enumerate(self.backlog):
            if message.get("id") == id_:
                return self.backlog.pop(index)
        while True:
            message = json.loads(self.read_line())
            if message.get("id") == id_:
                return message
            self.backlog.append(message)

    def finish(self, id_: str) -> tuple[list[str], dict[str, Any]]:
        """(deltas, final message) of one request."""
        deltas: list[str] = []
        while True:
            message = self.recv_for(id_)
            if message["type"] == "STREAM_CHUNK":
                deltas.append(message["delta"])
            else:
                return deltas, message

    def generate(self, id_: str, prompt: str, *, stream: bool = True, **payload: Any) -> None:
        self.send({"type": "REQUEST", "id": id_, "task": "generate", "stream": stream, "payload": {"prompt": prompt, **payload}})


    def repair(self, id_: str, payload: dict[str, Any], *, stream: bool = True) -> None:
        self.send({"type": "REQUEST", "id": id_, "task": "repair", "stream": stream, "payload": payload})


def repair_payload(**overrides: Any) -> dict[str, Any]:
    """A valid `repair` payload (RepairPayload): a Python program whose pinned test fails."""
    payload: dict[str, Any] = {
        "prompt": "Hello World in Python",
        "language": "python",
        "files": [
            {"path": "main.py", "content": 'print("Hello")\n'},
            {"path": "tests/test_hello.py", "content": "from main import main\n\n\ndef test_main():\n    main()\n"},
        ],
        "pinned": ["tests/test_hello.py"],
        "failures": "tests/test_hello.py::test_main ImportError: cannot import name 'main' from 'main'",
        "round": 1,
    }
    payload.update(overrides)
    return payload


def requirements(language: str, framework: str | None = None, entry_file: str | None = None) -> dict[str, Any]:
    entry = entry_file or {"python": "main.py", "typescript": "main.ts", "javascript": "main.js"}.get(language, "main.txt")
    return {"language": language, "framework": framework, "entry_file": entry, "summary": "", "source": "rules"}


_FENCE = re.compile(r"^(`{3,})(\S+) (\S+)\n(.*?)^\1$", re.M | re.S)


def split_files(markdown: str) -> dict[str, str]:
    """The files of a generated answer: fenced blocks whose info string is "<language> <path>"."""
    return {match.group(3): match.group(4) for match in _FENCE.finditer(markdown)}


def utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
