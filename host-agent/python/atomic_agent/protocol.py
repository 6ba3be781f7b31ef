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
TASKS = ("generate", "parse", "repair")
# What a repair payload may hold (shared/src/protocol/verification.ts, shared/src/limits.ts).
MAX_REPAIR_FILES = 200
MAX_PINNED = 20
MAX_PATH_CHARS = 1024
MAX_TEST_COMMAND_CHARS = 1024


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
class FileEntry:
    path: str
    content: str


@dataclass(frozen=True)
class RepairTask:
    """Fix a program whose verification failed: the request, its current files, the paths the
    answer must not touch (the request's own tests), what failed, and which repair this is."""

    prompt: str
    language: str
    files: tuple[FileEntry, ...]
    pinned: tuple[str, ...]
    failures: str
    round: int
    # What PARSING settled on for the first answer, and the request's test command, when given.
    requirements: Requirements | None = None
    test_command: str | None = None


@dataclass(frozen=True)
class Request:
    id: str
    task: str
    stream: bool
    timeout_ms: int | None
    body: GenerateTask | ParseTask | RepairTask


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


def _path(value: Any, where: str) -> str:
    if not isinstance(value, str) or value.strip() == "" or len(value) > MAX_PATH_CHARS or "\x00" in value:
        raise _invalid(f"{where} must be a non-empty string of at most {MAX_PATH_CHARS} characters")
    return value


def parse_repair(payload: dict[str, Any]) -> RepairTask:
    """A `repair` payload: the RepairPayload of shared/src/protocol/verification.ts."""
    prompt = _string(payload, "prompt", "payload")
    language = _string(payload, "language", "payload", allow_empty=False).strip().lower()
    if len(language) > 64:
        raise _invalid("payload.language must be at most 64 characters")
    raw_files = payload.get("files")
    if not isinstance(raw_files, list) or not 0 < len(raw_files) <= MAX_REPAIR_FILES:
        raise _invalid(f"payload.files must be a list of 1 to {MAX_REPAIR_FILES} files")
    files = []
    for index, raw in enumerate(raw_files):
        where = f"payload.files[{index}]"
        if not isinstance(raw, dict):
            raise _invalid(f"{where} must be an object")
        files.append(FileEntry(_path(raw.get("path"), f"{where}.path"), _string(raw, "content", where)))
    raw_pinned = payload.get("pinned", [])
    if not isinstance(raw_pinned, list) or len(raw_pinned) > MAX_PINNED:
        raise _invalid(f"payload.pinned must be a list of at most {MAX_PINNED} paths")
    pinned = tuple(_path(value, f"payload.pinned[{index}]") for index, value in enumerate(raw_pinned))
    round_ = payload.get("round")
    if isinstance(round_, bool) or not isinstance(round_, int) or round_ < 1:
        raise _invalid("payload.round must be a positive integer")
    requirements = parse_requirements(payload["requirements"]) if payload.get("requirements") is not None else None
    test_command = payload.get("test_command")
    if test_command is not None and (not isinstance(test_command, str) or len(test_command) > MAX_TEST_COMMAND_CHARS):
        raise _invalid(f"payload.test_command must be a string of at most {MAX_TEST_COMMAND_CHARS} characters")
    return RepairTask(
        prompt,
        language,
        tuple(files),
        pinned,
        _string(payload, "failures", "payload"),
        round_,
        requirements,
        test_command,
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
    if task == "repair":
        return Request(request_id, task, stream, timeout_ms, parse_repair(payload))
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
