"""Message shapes of the IPC protocol (docs/ipc-protocol.md) and validation of what clients send."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

MAX_LINE_BYTES = 1_048_576
MAX_ID_CHARS = 128
# Deltas are split so that a STREAM_CHUNK line stays far below MAX_LINE_BYTES even when every
# character is escaped as \uXXXX (6 bytes): 65,536 * 6 = 384 KiB.
MAX_DELTA_CHARS = 65_536

ERROR_CODES = ("invalid_request", "llm_error", "llm_unavailable", "timeout", "cancelled", "internal")
CLIENT_TYPES = ("REQUEST", "HEALTH_CHECK", "CANCEL", "ERROR")
AGENT_TYPES = ("RESPONSE", "STREAM_CHUNK", "HEALTH_RESPONSE")
TASKS = ("generate", "parse")


class AgentError(Exception):
    """An error that ends one request with an ERROR message."""

    def __init__(self, code: str, message: str, retryable: bool | None = None) -> None:
        assert code in ERROR_CODES, code
        super().__init__(message)
        self.code = code
        self.message = message
        self.retryable = code in ("llm_unavailable", "timeout") if retryable is None else retryable

    def to_wire(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "retryable": self.retryable}


def error_message(id_: str | None, err: AgentError) -> dict[str, Any]:
    return {"type": "ERROR", "id": id_, "error": err.to_wire()}


def utf16_length(text: str) -> int:
    """Length as JavaScript counts it (UTF-16 code units): what `chars` reports."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def read_id(message: dict[str, Any]) -> str | None:
    """The message's id if it is a usable one, else None (errors about it then carry id null)."""
    value = message.get("id")
    if isinstance(value, str) and 0 < len(value) <= MAX_ID_CHARS:
        return value
    return None


@dataclass(frozen=True)
class Requirements:
    language: str
    framework: str | None
    entry_file: str
    summary: str
    source: str = "rules"

    def to_wire(self) -> dict[str, Any]:
        return {
            "language": self.language,
            "framework": self.framework,
            "entry_file": self.entry_file,
            "summary": self.summary,
        }


@dataclass(frozen=True)
class GenerateTask:
    prompt: str
    requirements: Requirements
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ParseTask:
    prompt: str
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Request:
    id: str
    task: str
    stream: bool
    timeout_ms: int | None
    body: GenerateTask | ParseTask


def _invalid(message: str) -> AgentError:
    return AgentError("invalid_request", message, False)


def _string(obj: dict[str, Any], key: str, where: str, *, allow_empty: bool = True) -> str:
    value = obj.get(key)
    if not isinstance(value, str) or (not allow_empty and value.strip() == ""):
        kind = "a string" if allow_empty else "a non-empty string"
        raise _invalid(f"{where}.{key} must be {kind}")
    return value


def _metadata(payload: dict[str, Any]) -> dict[str, Any]:
    metadata = payload.get("metadata", {})
    if metadata is None:
        return {}
    if not isinstance(metadata, dict):
        raise _invalid("payload.metadata must be an object")
    return metadata


def parse_requirements(raw: Any) -> Requirements:
    if not isinstance(raw, dict):
        raise _invalid("payload.requirements must be an object")
    where = "payload.requirements"
    framework = raw.get("framework")
    if framework is not None and not isinstance(framework, str):
        raise _invalid(f"{where}.framework must be a string or null")
    source = raw.get("source", "rules")
    return Requirements(
        language=_string(raw, "language", where, allow_empty=False).strip().lower(),
        framework=(framework.strip().lower() or None) if isinstance(framework, str) else None,
        entry_file=_string(raw, "entry_file", where, allow_empty=False).strip(),
        summary=_string(raw, "summary", where) if "summary" in raw else "",
        source=source if isinstance(source, str) else "rules",
    )


def parse_request(message: dict[str, Any], request_id: str, derive) -> Request:
    """Validates a REQUEST. `derive(prompt, metadata)` supplies requirements a generate omits."""
    task = message.get("task")
    if task not in TASKS:
        raise _invalid(f"task must be one of {', '.join(TASKS)}, got {task!r}")
    stream = message.get("stream", False)
    if not isinstance(stream, bool):
        raise _invalid("stream must be true or false")
    timeout_ms = message.get("timeout_ms")
    if timeout_ms is not None and (
        isinstance(timeout_ms, bool) or not isinstance(timeout_ms, int) or not 0 < timeout_ms <= 86_400_000
    ):
        raise _invalid("timeout_ms must be a positive integer of milliseconds (at most 86400000)")
    payload = message.get("payload")
    if not isinstance(payload, dict):
        raise _invalid("payload must be an object")
    prompt = _string(payload, "prompt", "payload", allow_empty=False)
    metadata = _metadata(payload)
    body: GenerateTask | ParseTask
    if task == "generate":
        raw = payload.get("requirements")
        requirements = derive(prompt, metadata) if raw is None else parse_requirements(raw)
        body = GenerateTask(prompt, requirements, metadata)
    else:
        body = ParseTask(prompt, metadata)
    return Request(request_id, task, stream, timeout_ms, body)
