"""The offline provider: no network, no model; programs from built-in templates, streamed in small
chunks so that it exercises the same streaming path as a real model."""

from __future__ import annotations

import asyncio
import re

from ..protocol import GenerateTask, ParseTask, Requirements
from ..rules import requirements_by_rules
from ..templates import build_markdown
from .base import Emit, Finish, Health

# One chunk: leading whitespace plus up to 8 visible characters (about a word), or trailing space.
_CHUNK = re.compile(r"\s*\S{1,8}|\s+")


def chunk_text(text: str) -> list[str]:
    """Splits text into small pieces that concatenate back to it exactly."""
    return _CHUNK.findall(text)


class OfflineProvider:
    name = "offline"
    model = "atomic-offline-templates-1"

    def __init__(self, delay_ms: int = 0) -> None:
        self.delay_s = delay_ms / 1000

    async def generate(self, task: GenerateTask, emit: Emit) -> Finish:
        text = build_markdown(task.prompt, task.requirements)
        for index, piece in enumerate(chunk_text(text)):
            # Yield to the loop between chunks even without a delay, so that requests multiplexed
            # on one agent interleave instead of one finishing before the next starts.
            await asyncio.sleep(self.delay_s if index > 0 else 0)
            await emit(piece)
        return Finish("stop", self.model)

    async def parse(self, task: ParseTask) -> Requirements:
        await asyncio.sleep(0)
        return requirements_by_rules(task.prompt, task.metadata)

    async def health(self) -> Health:
        return Health(True, "offline provider: built-in templates, no language model, no network")

    async def close(self) -> None:
        return None
