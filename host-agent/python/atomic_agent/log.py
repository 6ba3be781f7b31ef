"""JSON log lines on stderr, one object per line, filtered by level."""

from __future__ import annotations

import json
import sys
from datetime import datetime, timezone
from typing import Any, TextIO

_NAMES = {10: "debug", 20: "info", 30: "warn", 40: "error"}


class Logger:
    def __init__(self, level: int = 20, stream: TextIO | None = None, **base: Any) -> None:
        self.level = level
        self._stream = stream
        self._base = base

    def child(self, **fields: Any) -> "Logger":
        return Logger(self.level, self._stream, **{**self._base, **fields})

    def _emit(self, level: int, msg: str, fields: dict[str, Any]) -> None:
        if level < self.level:
            return
        record = {
            "time": datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": _NAMES[level],
            "msg": msg,
            **self._base,
            **fields,
        }
        stream = self._stream or sys.stderr
        try:
            stream.write(json.dumps(record, default=str, ensure_ascii=False) + "\n")
            stream.flush()
        except (OSError, ValueError):
            # A closed stderr must never take the agent down with it.
            pass

    def debug(self, msg: str, **fields: Any) -> None:
        self._emit(10, msg, fields)

    def info(self, msg: str, **fields: Any) -> None:
        self._emit(20, msg, fields)

    def warn(self, msg: str, **fields: Any) -> None:
        self._emit(30, msg, fields)

    def error(self, msg: str, **fields: Any) -> None:
        self._emit(40, msg, fields)
