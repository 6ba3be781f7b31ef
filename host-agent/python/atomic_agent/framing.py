"""Newline-delimited framing with a cap on line length, for both directions."""

from __future__ import annotations

import asyncio
import json
from typing import Any, AsyncIterator

from .protocol import MAX_LINE_BYTES


class LineTooLong:
    """Yielded instead of a line whose length passed the cap; the rest of it was discarded."""

    def __init__(self, seen_bytes: int) -> None:
        self.seen_bytes = seen_bytes


async def read_lines(
    reader: asyncio.StreamReader, max_bytes: int = MAX_LINE_BYTES, read_size: int = 65_536
) -> AsyncIterator[bytes | LineTooLong]:
    """Yields each line without its newline, or LineTooLong for one over `max_bytes`.

    An overlong line is reported as soon as the cap is passed, then skipped up to the next
    newline without being held in memory, so the connection stays usable.
    """
    buffer = bytearray()
    discarding = 0  # > 0 while skipping the rest of an overlong line: bytes seen so far
    while True:
        data = await reader.read(read_size)
        if not data:
            return  # EOF: an unterminated last line is dropped, as a half-written message
        start = 0
        while start < len(data):
            newline = data.find(b"\n", start)
            end = len(data) if newline < 0 else newline
            if discarding:
                discarding += end - start
            else:
                buffer += data[start:end]
                if len(buffer) > max_bytes:
                    discarding = len(buffer)
                    buffer.clear()
                    yield LineTooLong(discarding)
            if newline < 0:
                break
            if discarding:
                discarding = 0
            else:
                line = bytes(buffer)
                buffer.clear()
                yield line
            start = newline + 1


def encode_line(message: dict[str, Any]) -> bytes:
    """One message as a UTF-8 JSON line. Lone surrogates (possible after json.loads of escapes)
    cannot be UTF-8 encoded, so such a message is sent with \\u escapes instead."""
    try:
        text = json.dumps(message, ensure_ascii=False, separators=(",", ":"))
        return text.encode("utf-8") + b"\n"
    except UnicodeEncodeError:
        return json.dumps(message, ensure_ascii=True, separators=(",", ":")).encode("ascii") + b"\n"


def decode_line(line: bytes) -> tuple[dict[str, Any] | None, str | None]:
    """(object, None) for a JSON object line, else (None, why not)."""
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError:
        return None, "the line is not valid UTF-8"
    try:
        value = json.loads(text)
    except (ValueError, RecursionError) as exc:
        return None, f"the line is not valid JSON: {exc}"
    if not isinstance(value, dict):
        return None, f"the line is a JSON {type(value).__name__}, not an object"
    return value, None
