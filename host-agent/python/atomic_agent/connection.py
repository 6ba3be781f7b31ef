"""One client connection: reads lines, runs requests concurrently, writes answers by id."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from . import PROTOCOL_VERSION, __version__
from .framing import LineTooLong, decode_line, encode_line, read_lines
from .log import Logger
from .protocol import (
    MAX_DELTA_CHARS,
    MAX_ID_CHARS,
    MAX_LINE_BYTES,
    AgentError,
    Request,
    error_message,
    parse_request,
    read_id,
    utf16_length,
)
from .rules import requirements_by_rules

if TYPE_CHECKING:
    from .server import Agent

# Far above what a host-agent's pool puts on one connection; a bound so a runaway client cannot
# make the agent hold unbounded work.
MAX_IN_FLIGHT_PER_CONNECTION = 4096


class ConnectionGone(Exception):
    """The client went away; nothing more can be sent on this connection."""


class InFlight:
    def __init__(self, task: "asyncio.Task[None]") -> None:
        self.task = task
        self.reason: str | None = None  # why it was cancelled: "client", "shutdown", "disconnect"

    def cancel(self, reason: str) -> None:
        if self.reason is None:
            self.reason = reason
            self.task.cancel()


class Connection:
    def __init__(self, agent: "Agent", reader: asyncio.StreamReader, writer: asyncio.StreamWriter, number: int) -> None:
        self.agent = agent
        self.reader = reader
        self.writer = writer
        self.log = agent.log.child(conn=number)
        self.requests: dict[str, InFlight] = {}
        self.health_tasks: set[asyncio.Task[None]] = set()
        self.closing = False  # close() has started: requests are ending, answers may still go out
        self.closed = False  # nothing more can be sent

    # ---- writing ----

    async def send(self, message: dict[str, Any]) -> None:
        line = encode_line(message)
        if len(line) - 1 > MAX_LINE_BYTES:
            raise AgentError(
                "internal",
                f"the answer is {len(line) - 1} bytes, over the {MAX_LINE_BYTES}-byte line limit; ask with stream true",
                False,
            )
        if self.closed or self.writer.is_closing():
            raise ConnectionGone()
        self.writer.write(line)
        try:
            await self.writer.drain()
        except (ConnectionError, OSError) as exc:
            raise ConnectionGone() from exc

    async def send_error(self, id_: str | None, err: AgentError) -> None:
        try:
            await self.send(error_message(id_, err))
        except ConnectionGone:
            self.log.debug("could not send an error: connection gone", id=id_, code=err.code)

    # ---- reading ----

    async def serve(self) -> None:
        self.log.debug("connection opened")
        try:
            async for item in read_lines(self.reader, MAX_LINE_BYTES):
                if isinstance(item, LineTooLong):
                    self.log.warn("discarded an overlong line", bytes=item.seen_bytes)
                    await self.send_error(
                        None, AgentError("invalid_request", f"line longer than {MAX_LINE_BYTES} bytes; discarded", False)
                    )
                    continue
                if item.strip() == b"":
                    continue
                message, problem = decode_line(item)
                if message is None:
                    self.log.warn("malformed line", problem=problem)
                    await self.send_error(None, AgentError("invalid_request", problem or "malformed line", False))
                    continue
                await self.dispatch(message)
        except (ConnectionError, OSError) as exc:
            self.log.debug("connection failed", error=repr(exc))
        finally:
            await self.close()

    async def dispatch(self, message: dict[str, Any]) -> None:
        kind = message.get("type")
        id_ = read_id(message)
        if kind == "ERROR":
            # Never answer an ERROR with an ERROR: two peers could echo each other forever.
            self.log.warn("the client reported an error", id=id_, error=message.get("error"))
            return
        if id_ is None:
            await self.send_error(
                None,
                AgentError("invalid_request", f"id must be a non-empty string of at most {MAX_ID_CHARS} characters", False),
            )
            return
        if kind == "REQUEST":
            await self.start_request(message, id_)
        elif kind == "CANCEL":
            flight = self.requests.get(id_)
            if flight is not None:
                self.log.debug("cancel", id=id_)
                flight.cancel("client")
        elif kind == "HEALTH_CHECK":
            task = asyncio.create_task(self.answer_health(id_))
            self.health_tasks.add(task)
            task.add_done_callback(self.health_tasks.discard)
        else:
            await self.send_error(id_, AgentError("invalid_request", f"unknown message type {kind!r}", False))

    async def start_request(self, message: dict[str, Any], id_: str) -> None:
        if self.agent.draining:
            await self.send_error(id_, AgentError("llm_unavailable", "the agent is shutting down", True))
            return
        if id_ in self.requests:
            await self.send_error(id_, AgentError("invalid_request", f"request id {id_!r} is already in flight", False))
            return
        if len(self.requests) >= MAX_IN_FLIGHT_PER_CONNECTION:
            await self.send_error(
                id_, AgentError("llm_unavailable", "too many requests in flight on this connection", True)
            )
            return
        try:
            request = parse_request(message, id_, requirements_by_rules)
        except AgentError as err:
            await self.send_error(id_, err)
            return
        self.requests[id_] = InFlight(asyncio.create_task(self.run(request)))

    # ---- requests ----

    async def run(self, request: Request) -> None:
        flight = self.requests[request.id]
        log = self.log.child(id=request.id, task=request.task)
        started = asyncio.get_running_loop().time()
        timeout_s = request.timeout_ms / 1000 if request.timeout_ms else None
        try:
            try:
                async with asyncio.timeout(timeout_s) as scope:
                    result = await self.execute(request)
            except TimeoutError:
                if not scope.expired():
                    raise
                raise AgentError("timeout", f"the request did not finish within {request.timeout_ms} ms", True) from None
            await self.send({"type": "RESPONSE", "id": request.id, "result": result})
            log.info("request done", ms=round((asyncio.get_running_loop().time() - started) * 1000))
        except AgentError as err:
            log.info("request failed", code=err.code, error=err.message)
            await self.send_error(request.id, err)
        except ConnectionGone:
            log.debug("client gone before the answer")
        except asyncio.CancelledError:
            if flight.reason == "client":
                log.info("request cancelled")
                await self.send_error(request.id, AgentError("cancelled", "cancelled by the client", False))
            elif flight.reason == "shutdown":
                await self.send_error(request.id, AgentError("llm_unavailable", "the agent is shutting down", True))
            elif flight.reason != "disconnect":
                raise
        except Exception as exc:  # noqa: BLE001 - a bug in one request must not take the agent down
            log.error("request crashed", error=repr(exc))
            await self.send_error(request.id, AgentError("internal", f"the agent failed: {exc!r}", False))
        finally:
            if self.requests.get(request.id) is flight:
                del self.requests[request.id]

    async def execute(self, request: Request) -> dict[str, Any]:
        provider = self.agent.provider
        if request.task == "parse":
            requirements = await provider.parse(request.body)  # type: ignore[arg-type]
            return requirements.to_wire()
        chars = 0
        parts: list[str] = []

        async def emit(delta: str) -> None:
            nonlocal chars
            for start in range(0, len(delta), MAX_DELTA_CHARS):
                piece = delta[start : start + MAX_DELTA_CHARS]
                chars += utf16_length(piece)
                if request.stream:
                    await self.send({"type": "STREAM_CHUNK", "id": request.id, "delta": piece})
                else:
                    parts.append(piece)

        if request.task == "repair":
            finish = await provider.repair(request.body, emit)  # type: ignore[arg-type]
        else:
            finish = await provider.generate(request.body, emit)  # type: ignore[arg-type]
        result: dict[str, Any] = {"chars": chars, "finish_reason": finish.finish_reason, "provider": provider.name}
        if finish.model:
            result["model"] = finish.model
        if not request.stream:
            result["content"] = "".join(parts)
        return result

    async def answer_health(self, id_: str) -> None:
        provider = self.agent.provider
        if self.agent.draining:
            healthy, detail = False, "the agent is shutting down"
        else:
            try:
                health = await provider.health()
                healthy, detail = health.healthy, health.detail
            except Exception as exc:  # noqa: BLE001 - a failing probe is an unhealthy answer, not a crash
                healthy, detail = False, f"health check failed: {exc!r}"
        message: dict[str, Any] = {
            "type": "HEALTH_RESPONSE",
            "id": id_,
            "status": "healthy" if healthy else "unhealthy",
            "provider": provider.name,
            "model": provider.model,
            "protocol": PROTOCOL_VERSION,
            "version": __version__,
            "connections": len(self.agent.connections),
            "in_flight": self.agent.in_flight(),
        }
        if detail:
            message["detail"] = detail
        try:
            await self.send(message)
        except ConnectionGone:
            self.log.debug("client gone before the health answer")

    # ---- ending ----

    def cancel_all(self, reason: str) -> None:
        for flight in list(self.requests.values()):
            flight.cancel(reason)

    async def close(self) -> None:
        # Called by serve() at EOF and by the agent at shutdown, possibly both: the first one does it.
        if self.closing:
            return
        self.closing = True
        self.cancel_all("disconnect")
        for task in list(self.health_tasks):
            task.cancel()
        pending = [flight.task for flight in self.requests.values()] + list(self.health_tasks)
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)
        self.closed = True
        self.writer.close()
        try:
            await self.writer.wait_closed()
        except (ConnectionError, OSError):
            pass  # the peer closed first; the socket is gone either way
        self.log.debug("connection closed")
