"""What every provider offers the server."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Awaitable, Callable, Protocol

from ..protocol import GenerateTask, ParseTask, RepairTask, Requirements

Emit = Callable[[str], Awaitable[None]]


@dataclass(frozen=True)
class Finish:
    """How a generation ended."""

    finish_reason: str
    model: str | None


@dataclass(frozen=True)
class Health:
    healthy: bool
    detail: str | None = None


class Provider(Protocol):
    name: str  # "offline" | "openai": what HEALTH_RESPONSE and RESPONSE report as provider
    model: str

    async def generate(self, task: GenerateTask, emit: Emit) -> Finish:
        """Produces the text, handing every piece to `emit` in order; raises AgentError on failure.
        Cancelling the coroutine must stop the work (and close any connection it holds)."""
        ...

    async def repair(self, task: RepairTask, emit: Emit) -> Finish:
        """Produces fixed files for a program whose verification failed, in the format of
        `generate` (fenced files with paths, each complete; files left out stay as they are; never
        a pinned path), handing every piece to `emit` in order; raises AgentError on failure."""
        ...

    async def parse(self, task: ParseTask) -> Requirements: ...

    async def health(self) -> Health: ...

    async def close(self) -> None: ...
