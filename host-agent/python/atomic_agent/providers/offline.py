"""The offline provider: no network, no model; programs from built-in templates, streamed in small
chunks so that it exercises the same streaming path as a real model."""

from __future__ import annotations

import asyncio
import re
from typing import Any

from ..protocol import GenerateTask, ParseTask, RepairTask, Requirements
from ..rules import entry_file_for, normalize_language, requirements_by_rules, summarize
from ..templates import build_program, without
from ..templates.common import INTRO, Program, node_entry, python_entry, render
from .base import Emit, Finish, Health

# One chunk: leading whitespace plus up to 8 visible characters (about a word), or trailing space.
_CHUNK = re.compile(r"\s*\S{1,8}|\s+")
_IMPORTS_EXPRESS = re.compile(r"""from\s+["']express["']|require\(\s*["']express["']\s*\)""")


def chunk_text(text: str) -> list[str]:
    """Splits text into small pieces that concatenate back to it exactly."""
    return _CHUNK.findall(text)


def pinned_paths(metadata: dict[str, Any]) -> frozenset[str]:
    """The paths of the request's pinned tests (`metadata.tests`), which an answer must not write."""
    tests = metadata.get("tests")
    if not isinstance(tests, list):
        return frozenset()
    return frozenset(t["path"] for t in tests if isinstance(t, dict) and isinstance(t.get("path"), str))


def repair_requirements(task: RepairTask) -> Requirements:
    """What the first answer was most likely generated for: the language, express when a file
    imports it (else the prompt's framework), and the entry file among the current files. The
    edge sends what PARSING settled on; the guess is for a payload without it."""
    if task.requirements is not None:
        return task.requirements
    language = normalize_language(task.language)
    paths = [entry.path for entry in task.files if entry.path not in task.pinned]
    node = language in ("javascript", "typescript")
    if node and any(_IMPORTS_EXPRESS.search(entry.content) for entry in task.files):
        framework: str | None = "express"
    else:
        framework = requirements_by_rules(task.prompt, {}).framework
    default = entry_file_for(language)
    entry = default
    if default not in paths:

        def usable(path: str) -> bool:
            if language == "python":
                return python_entry(path) == path
            if node:
                return node_entry(path, language) == path and path.rsplit("/", 1)[-1].split(".")[0] not in ("app", "api")
            return path.endswith("." + default.rsplit(".", 1)[-1])

        entry = next((path for path in paths if usable(path)), default)
    return Requirements(language, framework, entry, summarize(task.prompt))


def repair_program(task: RepairTask) -> Program:
    """The offline repair: it cannot read the failures, so it answers its template for the request
    again, every file complete, without the pinned ones. A smoke test of the repair loop."""
    program = without(build_program(task.prompt, repair_requirements(task)), frozenset(task.pinned))
    intro = (
        INTRO + f"repair round {task.round}. Without a language model it cannot read the failures, "
        "so this is its template for the request again, every file complete"
        + (", leaving the request's own tests as they are." if task.pinned else ".")
    )
    return Program(intro, program.files, program.outro)


class OfflineProvider:
    name = "offline"
    model = "atomic-offline-templates-1"

    def __init__(self, delay_ms: int = 0) -> None:
        self.delay_s = delay_ms / 1000

    async def _stream(self, text: str, emit: Emit) -> Finish:
        for index, piece in enumerate(chunk_text(text)):
            # Yield to the loop between chunks even without a delay, so that requests multiplexed
            # on one agent interleave instead of one finishing before the next starts.
            await asyncio.sleep(self.delay_s if index > 0 else 0)
            await emit(piece)
        return Finish("stop", self.model)

    async def generate(self, task: GenerateTask, emit: Emit) -> Finish:
        program = without(build_program(task.prompt, task.requirements), pinned_paths(task.metadata))
        return await self._stream(render(program), emit)

    async def repair(self, task: RepairTask, emit: Emit) -> Finish:
        return await self._stream(render(repair_program(task)), emit)

    async def parse(self, task: ParseTask) -> Requirements:
        await asyncio.sleep(0)
        return requirements_by_rules(task.prompt, task.metadata)

    async def health(self) -> Health:
        return Health(True, "offline provider: built-in templates, no language model, no network")

    async def close(self) -> None:
        return None
