"""Any OpenAI-compatible chat completions server: OpenAI, vLLM, llama.cpp server, Ollama.

POST {base}/chat/completions with stream true, read the server-sent events
(`data: {json}` lines, `choices[0].delta.content`, `data: [DONE]`), hand each delta on.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import socket
import ssl
from typing import Any, AsyncIterator
from urllib.parse import urlsplit

from ..log import Logger
from ..protocol import AgentError, GenerateTask, ParseTask, RepairTask, Requirements
from ..rules import entry_file_for, normalize_language, requirements_by_rules, summarize
from .base import Emit, Finish, Health
from .http_call import HttpCall, HttpStatusError
from .prompts import GENERATE_SYSTEM_PROMPT, generate_user_message, repair_messages

__all__ = ["GENERATE_SYSTEM_PROMPT", "OpenAICompatProvider"]

HEALTH_TTL_S = 5.0
HEALTH_TIMEOUT_S = 5.0

PARSE_SYSTEM_PROMPT = """You turn a request for a program into requirements.
Answer with one JSON object and nothing else:
{"language": "<programming language, lower case>", "framework": "<framework, lower case>" or null,
 "entry_file": "<path of the main file, e.g. main.py>", "summary": "<one sentence>"}"""


def _server_message(body: bytes) -> str:
    """The error message in an error answer (OpenAI, vLLM, llama.cpp and Ollama shapes)."""
    text = body.decode("utf-8", "replace").strip()
    try:
        parsed = json.loads(text)
    except ValueError:
        return text[:500] or "(empty body)"
    if isinstance(parsed, dict):
        error = parsed.get("error", parsed)
        if isinstance(error, str):
            return error[:500]
        if isinstance(error, dict):
            for key in ("message", "detail", "msg"):
                if isinstance(error.get(key), str):
                    return error[key][:500]
    return text[:500]


def status_error(status: int, body: bytes) -> AgentError:
    message = f"the LLM server answered HTTP {status}: {_server_message(body)}"
    if status in (408, 429) or status >= 500:
        return AgentError("llm_unavailable", message, True)
    return AgentError("llm_error", message, False)


def connection_error(base_url: str, exc: BaseException, timeout_s: float) -> AgentError:
    host = urlsplit(base_url).hostname or base_url
    if isinstance(exc, ssl.SSLCertVerificationError):
        return AgentError("llm_error", f"the TLS certificate of {host} was rejected: {exc.verify_message}", False)
    if isinstance(exc, TimeoutError):
        message = f"the LLM server at {base_url} did not answer within {timeout_s:g} s"
    elif isinstance(exc, socket.gaierror):
        message = f"cannot resolve the LLM server's host {host}: {exc.strerror or exc}"
    elif isinstance(exc, ConnectionRefusedError):
        message = f"the LLM server at {base_url} refused the connection"
    else:
        message = f"the connection to the LLM server at {base_url} failed: {exc!r}"
    return AgentError("llm_unavailable", message, True)


async def sse_data(lines: AsyncIterator[bytes]) -> AsyncIterator[str]:
    """The data of each server-sent event; several `data:` lines of one event join with \\n."""
    data: list[str] = []
    async for raw in lines:
        try:
            line = raw.decode("utf-8").rstrip("\r\n")
        except UnicodeDecodeError:
            raise AgentError("llm_error", "the LLM server sent an event stream that is not UTF-8", False) from None
        if line == "":
            if data:
                yield "\n".join(data)
                data = []
            continue
        if line.startswith(":"):
            continue  # a comment, used as keep-alive
        field, _, value = line.partition(":")
        if field == "data":
            data.append(value[1:] if value.startswith(" ") else value)
    if data:
        yield "\n".join(data)


def _stream_error(error: Any) -> AgentError:
    """An error object sent inside the stream (vLLM and others do this after a 200)."""
    message = _server_message(json.dumps({"error": error}).encode())
    code = error.get("code") if isinstance(error, dict) else None
    status = code if isinstance(code, int) else None
    retryable = status is not None and status >= 500
    return AgentError("llm_error", f"the LLM server reported an error mid-stream: {message}", retryable)


def extract_json_object(text: str) -> dict[str, Any] | None:
    """The first JSON object in a model's answer, also inside a ```json fence; None if none parses."""
    decoder = json.JSONDecoder()
    start = text.find("{")
    while start >= 0:
        try:
            value, _ = decoder.raw_decode(text, start)
        except ValueError:
            start = text.find("{", start + 1)
            continue
        return value if isinstance(value, dict) else None
    return None


class OpenAICompatProvider:
    name = "openai"

    def __init__(self, base_url: str, model: str, api_key: str | None, timeout_s: float, log: Logger) -> None:
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.api_key = api_key
        self.timeout_s = timeout_s
        self.log = log
        self._health: Health | None = None
        self._health_at = 0.0
        self._probe: asyncio.Task[Health] | None = None

    def _headers(self, accept: str) -> dict[str, str]:
        headers = {"Content-Type": "application/json", "Accept": accept, "User-Agent": "atomic-agent"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        return headers

    def _chat_call(self, messages: list[dict[str, str]], stream: bool) -> HttpCall:
        body = json.dumps({"model": self.model, "messages": messages, "stream": stream}).encode("utf-8")
        return HttpCall(
            "POST",
            f"{self.base_url}/chat/completions",
            headers=self._headers("text/event-stream" if stream else "application/json"),
            body=body,
            timeout_s=self.timeout_s,
            read_lines=stream,
        )

    def _translate(self, exc: BaseException) -> AgentError:
        if isinstance(exc, HttpStatusError):
            return status_error(exc.status, exc.body)
        return connection_error(self.base_url, exc, self.timeout_s)

    async def generate(self, task: GenerateTask, emit: Emit) -> Finish:
        messages = [
            {"role": "system", "content": GENERATE_SYSTEM_PROMPT},
            {"role": "user", "content": generate_user_message(task)},
        ]
        return await self._stream_chat(messages, emit)

    async def repair(self, task: RepairTask, emit: Emit) -> Finish:
        prompt = repair_messages(task)
        if prompt.left_out:
            self.log.warn("files over the repair prompt's budget were named only", files=len(prompt.left_out))
        return await self._stream_chat(prompt.messages, emit)

    async def _stream_chat(self, messages: list[dict[str, str]], emit: Emit) -> Finish:
        """One streamed chat completion: every content delta to `emit`, then how it finished."""
        finish_reason: str | None = None
        model: str | None = None
        done = False
        try:
            async with self._chat_call(messages, stream=True) as call:
                async for data in sse_data(call.lines()):
                    if data.strip() == "[DONE]":
                        done = True
                        break
                    try:
                        event = json.loads(data)
                    except ValueError:
                        raise AgentError("llm_error", f"the LLM server sent an event that is not JSON: {data[:200]!r}", False) from None
                    if not isinstance(event, dict):
                        continue
                    if "error" in event:
                        raise _stream_error(event["error"])
                    if isinstance(event.get("model"), str):
                        model = event["model"]
                    choices = event.get("choices")
                    choice = choices[0] if isinstance(choices, list) and choices and isinstance(choices[0], dict) else {}
                    delta = choice.get("delta")
                    content = delta.get("content") if isinstance(delta, dict) else None
                    if isinstance(content, str) and content:
                        await emit(content)
                    if isinstance(choice.get("finish_reason"), str):
                        finish_reason = choice["finish_reason"]
        except (AgentError, asyncio.CancelledError):
            raise
        except (OSError, http.client.HTTPException, HttpStatusError) as exc:
            raise self._translate(exc) from None
        if not done and finish_reason is None:
            raise AgentError("llm_unavailable", "the LLM server closed the stream before it finished", True)
        return Finish(finish_reason or "stop", model or self.model)

    async def parse(self, task: ParseTask) -> Requirements:
        fallback = requirements_by_rules(task.prompt, task.metadata)
        user = task.prompt
        if task.metadata:
            user += "\n\nMetadata: " + json.dumps(task.metadata, ensure_ascii=False, default=str)[:4000]
        messages = [{"role": "system", "content": PARSE_SYSTEM_PROMPT}, {"role": "user", "content": user}]
        try:
            async with self._chat_call(messages, stream=False) as call:
                raw = await call.body()
        except (OSError, http.client.HTTPException, HttpStatusError) as exc:
            raise self._translate(exc) from None
        try:
            envelope = json.loads(raw)
            content = envelope["choices"][0]["message"]["content"]
            if not isinstance(content, str):
                raise TypeError("content is not a string")
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            raise AgentError("llm_error", f"the LLM server answered an unexpected shape: {exc!r}", False) from None
        answer = extract_json_object(content)
        if answer is None:
            self.log.warn("the model answered no JSON object; using the rules", answer=content[:200])
            return fallback
        return self._merge(answer, fallback, task.metadata)

    @staticmethod
    def _merge(answer: dict[str, Any], fallback: Requirements, metadata: dict[str, Any]) -> Requirements:
        """The model's answer where it is usable, the rules elsewhere; explicit metadata wins."""

        def text(key: str) -> str | None:
            value = answer.get(key)
            return value.strip() if isinstance(value, str) and value.strip() else None

        meta_language = metadata.get("language")
        language = normalize_language(
            meta_language if isinstance(meta_language, str) and meta_language.strip() else text("language") or fallback.language
        )
        meta_framework = metadata.get("framework")
        if isinstance(meta_framework, str) and meta_framework.strip():
            framework: str | None = meta_framework.strip().lower()
        elif "framework" in answer:
            framework = (text("framework") or "").lower() or None
            framework = None if framework in ("none", "null") else framework
        else:
            framework = fallback.framework
        return Requirements(
            language=language,
            framework=framework,
            entry_file=text("entry_file") or entry_file_for(language),
            summary=summarize(text("summary") or fallback.summary),
            source="agent",
        )

    async def health(self) -> Health:
        loop = asyncio.get_running_loop()
        if self._health is not None and loop.time() - self._health_at < HEALTH_TTL_S:
            return self._health
        if self._probe is None:
            self._probe = asyncio.ensure_future(self._check())
        probe = self._probe
        try:
            # Shielded: one caller going away must not cancel the probe the others wait for.
            return await asyncio.shield(probe)
        finally:
            if self._probe is probe and probe.done():
                self._probe = None

    async def _check(self) -> Health:
        url = f"{self.base_url}/models"
        try:
            async with HttpCall("GET", url, headers=self._headers("application/json"), timeout_s=min(self.timeout_s, HEALTH_TIMEOUT_S)) as call:
                await call.body()
                health = Health(True, f"GET {url} answered {call.status}")
        except HttpStatusError as exc:
            health = Health(False, f"GET {url} answered HTTP {exc.status}: {_server_message(exc.body)}")
        except (OSError, http.client.HTTPException) as exc:
            health = Health(False, self._translate(exc).message)
        self._health = health
        self._health_at = asyncio.get_running_loop().time()
        return health

    async def close(self) -> None:
        if self._probe is not None:
            self._probe.cancel()
