"""A local server that speaks the part of the OpenAI API the agent uses, as OpenAI streams it:
`POST /v1/chat/completions` (server-sent events over chunked transfer encoding, or one JSON
answer) and `GET /v1/models`. The behaviour for the next requests is chosen with `mode`."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

ERRORS = {
    400: {"message": "'messages' must contain at least one message", "type": "invalid_request_error"},
    401: {"message": "Incorrect API key provided: sk-bad.", "type": "invalid_request_error", "code": "invalid_api_key"},
    404: {"message": "The model 'nope' does not exist", "type": "invalid_request_error", "code": "model_not_found"},
    429: {"message": "Rate limit reached for requests", "type": "requests", "code": "rate_limit_exceeded"},
    500: {"message": "The server had an error while processing your request.", "type": "server_error"},
    503: {"message": "The engine is currently overloaded, please try again later", "type": "server_error"},
}


class FakeOpenAI:
    def __init__(self) -> None:
        self.mode = "ok"
        self.models_status = 200
        self.deltas = ["Here is ", "the program.\n\n", "```python main.py\n", 'print("Hello, ', 'World!")\n', "```\n"]
        self.parse_answer = '{"language": "typescript", "framework": "express", "entry_file": "src/app.ts", "summary": "An API."}'
        self.delay_s = 0.0
        self.requests: list[dict[str, Any]] = []
        self.disconnected = threading.Event()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                return None  # keep test output clean

            def do_GET(self) -> None:
                fake.requests.append({"method": "GET", "path": self.path, "headers": dict(self.headers)})
                if self.path != "/v1/models":
                    return self.answer(404, {"error": ERRORS[404]})
                if fake.models_status != 200:
                    return self.answer(fake.models_status, {"error": ERRORS.get(fake.models_status, ERRORS[500])})
                self.answer(200, {"object": "list", "data": [{"id": "fake-model", "object": "model"}]})

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = json.loads(self.rfile.read(length))
                fake.requests.append({"method": "POST", "path": self.path, "headers": dict(self.headers), "body": body})
                if self.path != "/v1/chat/completions":
                    return self.answer(404, {"error": ERRORS[404]})
                status = int(fake.mode) if fake.mode.isdigit() else 200
                if status != 200:
                    return self.answer(status, {"error": ERRORS[status]})
                if not body.get("stream"):
                    return self.answer(200, completion(fake.parse_answer))
                self.stream(body)

            def answer(self, status: int, payload: Any) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def chunk(self, data: bytes) -> None:
                self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
                self.wfile.flush()

            def event(self, payload: Any) -> None:
                text = payload if isinstance(payload, str) else json.dumps(payload)
                self.chunk(f"data: {text}\n\n".encode())

            def stream(self, body: dict[str, Any]) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream; charset=utf-8")
                self.send_header("Transfer-Encoding", "chunked")
                self.send_header("Cache-Control", "no-cache")
                self.end_headers()
                try:
                    if fake.mode == "stall":
                        time.sleep(2)
                        return
                    self.chunk(b": keep-alive\n\n")
                    self.event(delta_event(body["model"], {"role": "assistant", "content": ""}))
                    deltas = fake.deltas if fake.mode != "slow" else ["x"] * 400
                    for index, text in enumerate(deltas):
                        if fake.mode == "slow":
                            time.sleep(0.02)
                        self.event(delta_event(body["model"], {"content": text}))
                        if fake.mode == "error_mid_stream" and index == 1:
                            self.event({"error": {"message": "CUDA out of memory", "code": 500}})
                            break
                    else:
                        if fake.mode != "cut_short":
                            self.event(delta_event(body["model"], {}, "stop"))
                            self.event("[DONE]")
                    self.chunk(b"")
                except (BrokenPipeError, ConnectionResetError):
                    fake.disconnected.set()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def posts(self) -> list[dict[str, Any]]:
        return [r for r in self.requests if r["method"] == "POST"]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(10)


def delta_event(model: str, delta: dict[str, Any], finish_reason: str | None = None) -> dict[str, Any]:
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion.chunk",
        "created": 1_700_000_000,
        "model": model,
        "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}],
    }


def completion(content: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": 1_700_000_000,
        "model": "fake-model",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
    }
