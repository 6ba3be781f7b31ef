"""The OpenAI-compatible provider against a local server that streams as the OpenAI API does."""

from __future__ import annotations

import asyncio
import socket
import threading
import unittest

from atomic_agent.log import Logger
from atomic_agent.protocol import AgentError, GenerateTask, ParseTask, Requirements
from atomic_agent.providers.openai_compat import OpenAICompatProvider, extract_json_object

from .fake_openai import FakeOpenAI
from .support import AgentProcess, Client, free_port, requirements

REQUIREMENTS = Requirements("python", None, "main.py", "hello")
QUIET = Logger(99)


def provider_for(base_url: str, timeout_s: float = 10.0, api_key: str | None = "sk-test") -> OpenAICompatProvider:
    return OpenAICompatProvider(base_url, "fake-model", api_key, timeout_s, QUIET)


class ProviderTest(unittest.IsolatedAsyncioTestCase):
    def setUp(self) -> None:
        self.fake = FakeOpenAI()
        self.addCleanup(self.fake.close)
        self.provider = provider_for(self.fake.base_url)

    async def generate(self, provider: OpenAICompatProvider | None = None) -> tuple[list[str], object]:
        deltas: list[str] = []

        async def emit(delta: str) -> None:
            deltas.append(delta)

        finish = await (provider or self.provider).generate(GenerateTask("Hello World in Python", REQUIREMENTS), emit)
        return deltas, finish

    async def expect_error(self, code: str, retryable: bool, words: str, provider: OpenAICompatProvider | None = None) -> AgentError:
        with self.assertRaises(AgentError) as caught:
            await self.generate(provider)
        self.assertEqual((caught.exception.code, caught.exception.retryable), (code, retryable), caught.exception.message)
        self.assertIn(words, caught.exception.message)
        return caught.exception

    async def test_streams_the_deltas(self) -> None:
        deltas, finish = await self.generate()
        self.assertEqual(deltas, self.fake.deltas)
        self.assertEqual((finish.finish_reason, finish.model), ("stop", "fake-model"))
        [post] = self.fake.posts()
        self.assertEqual(post["path"], "/v1/chat/completions")
        self.assertEqual(post["headers"]["Authorization"], "Bearer sk-test")
        self.assertEqual(post["body"]["model"], "fake-model")
        self.assertIs(post["body"]["stream"], True)
        system, user = post["body"]["messages"]
        self.assertEqual(system["role"], "system")
        self.assertIn("```python main.py", system["content"])
        self.assertIn("Hello World in Python", user["content"])
        self.assertIn("Entry file: main.py", user["content"])

    async def test_no_key_no_authorization_header(self) -> None:
        await self.generate(provider_for(self.fake.base_url, api_key=None))
        self.assertNotIn("Authorization", self.fake.posts()[0]["headers"])

    async def test_500_is_retryable(self) -> None:
        self.fake.mode = "500"
        await self.expect_error("llm_unavailable", True, "The server had an error")

    async def test_503_and_429_are_retryable(self) -> None:
        for status in ("503", "429"):
            with self.subTest(status=status):
                self.fake.mode = status
                await self.expect_error("llm_unavailable", True, f"HTTP {status}")

    async def test_401_is_not_retryable_and_carries_the_servers_message(self) -> None:
        self.fake.mode = "401"
        await self.expect_error("llm_error", False, "Incorrect API key provided")

    async def test_400_and_404_are_not_retryable(self) -> None:
        for status in ("400", "404"):
            with self.subTest(status=status):
                self.fake.mode = status
                await self.expect_error("llm_error", False, f"HTTP {status}")

    async def test_connection_refused_is_retryable(self) -> None:
        refused = provider_for(f"http://127.0.0.1:{free_port()}/v1")
        await self.expect_error("llm_unavailable", True, "refused", refused)

    async def test_unknown_host_is_retryable(self) -> None:
        unknown = provider_for("http://no-such-host.invalid/v1")
        await self.expect_error("llm_unavailable", True, "no-such-host.invalid", unknown)

    async def test_a_silent_server_times_out_retryably(self) -> None:
        self.fake.mode = "stall"
        await self.expect_error("llm_unavailable", True, "did not answer within", provider_for(self.fake.base_url, 0.3))

    async def test_an_error_in_the_stream(self) -> None:
        self.fake.mode = "error_mid_stream"
        await self.expect_error("llm_error", True, "CUDA out of memory")

    async def test_a_stream_cut_short_is_retryable(self) -> None:
        self.fake.mode = "cut_short"
        await self.expect_error("llm_unavailable", True, "before it finished")

    async def test_cancelling_closes_the_http_response(self) -> None:
        self.fake.mode = "slow"
        threads_before = {t.name for t in threading.enumerate()}
        first = asyncio.Event()
        received: list[str] = []

        async def emit(delta: str) -> None:
            received.append(delta)
            first.set()

        task = asyncio.create_task(self.provider.generate(GenerateTask("x", REQUIREMENTS), emit))
        await asyncio.wait_for(first.wait(), 5)
        task.cancel()
        with self.assertRaises(asyncio.CancelledError):
            await task
        # The server notices at its next write (every 20 ms), long before its 8 s of output end.
        self.assertTrue(await asyncio.to_thread(self.fake.disconnected.wait, 5))
        self.assertLess(len(received), 100)
        for _ in range(100):
            if not [t for t in threading.enumerate() if t.name == "atomic-http" and t.name not in threads_before]:
                break
            await asyncio.sleep(0.02)
        self.assertEqual([t.name for t in threading.enumerate() if t.name == "atomic-http"], [])

    async def test_parse_asks_for_json(self) -> None:
        got = await self.provider.parse(ParseTask("An API in TypeScript", {}))
        self.assertEqual(
            (got.language, got.framework, got.entry_file, got.summary), ("typescript", "express", "src/app.ts", "An API.")
        )
        self.assertIs(self.fake.posts()[0]["body"]["stream"], False)

    async def test_parse_accepts_json_in_a_fence_and_metadata_wins(self) -> None:
        self.fake.parse_answer = 'Sure!\n```json\n{"language": "Python", "framework": null, "summary": "S"}\n```'
        got = await self.provider.parse(ParseTask("p", {"language": "go"}))
        self.assertEqual((got.language, got.framework, got.entry_file, got.summary), ("go", None, "main.go", "S"))

    async def test_parse_falls_back_to_the_rules_on_bad_json(self) -> None:
        self.fake.parse_answer = "I think you want TypeScript {not json"
        got = await self.provider.parse(ParseTask("A CLI in JavaScript", {}))
        self.assertEqual((got.language, got.framework, got.entry_file), ("javascript", None, "main.js"))

    async def test_parse_errors_map_like_generate(self) -> None:
        self.fake.mode = "401"
        with self.assertRaises(AgentError) as caught:
            await self.provider.parse(ParseTask("p", {}))
        self.assertEqual((caught.exception.code, caught.exception.retryable), ("llm_error", False))

    async def test_health_is_cached(self) -> None:
        first = await self.provider.health()
        second = await self.provider.health()
        self.assertTrue(first.healthy)
        self.assertIn("/v1/models", first.detail or "")
        self.assertIs(first, second)
        self.assertEqual(len([r for r in self.fake.requests if r["path"] == "/v1/models"]), 1)

    async def test_concurrent_health_checks_share_one_probe(self) -> None:
        results = await asyncio.gather(*(self.provider.health() for _ in range(5)))
        self.assertTrue(all(r.healthy for r in results))
        self.assertEqual(len([r for r in self.fake.requests if r["path"] == "/v1/models"]), 1)

    async def test_unhealthy_when_models_fails_or_nothing_listens(self) -> None:
        self.fake.models_status = 401
        health = await self.provider.health()
        self.assertFalse(health.healthy)
        self.assertIn("401", health.detail or "")
        health = await provider_for(f"http://127.0.0.1:{free_port()}/v1").health()
        self.assertFalse(health.healthy)
        self.assertIn("refused", health.detail or "")

    def test_extract_json_object(self) -> None:
        self.assertEqual(extract_json_object('x {"a": 1} y'), {"a": 1})
        self.assertEqual(extract_json_object('{bad} then {"b": [1, {"c": 2}]}'), {"b": [1, {"c": 2}]})
        self.assertIsNone(extract_json_object("no json here"))


class AgentWithOpenAITest(unittest.TestCase):
    """The whole path: client → agent socket → OpenAI-compatible server → back."""

    def setUp(self) -> None:
        self.fake = FakeOpenAI()
        self.addCleanup(self.fake.close)
        self.agent = AgentProcess(
            env={"ATOMIC_LLM_BASE_URL": self.fake.base_url, "ATOMIC_LLM_MODEL": "fake-model", "ATOMIC_LLM_API_KEY": "sk-e2e"}
        ).start()
        self.addCleanup(self.agent.stop)

    def test_stream_health_and_errors(self) -> None:
        with Client(self.agent.socket_path) as c:
            c.send({"type": "HEALTH_CHECK", "id": "h"})
            health = c.recv_for("h")
            self.assertEqual((health["status"], health["provider"], health["model"]), ("healthy", "openai", "fake-model"))

            c.generate("g", "Hello World in Python", requirements=requirements("python"))
            deltas, final = c.finish("g")
            self.assertEqual(deltas, self.fake.deltas)
            self.assertEqual(final["result"], {"chars": len("".join(deltas)), "finish_reason": "stop", "provider": "openai", "model": "fake-model"})

            self.fake.mode = "401"
            c.generate("bad", "Hello World in Python", requirements=requirements("python"))
            _, error = c.finish("bad")
            self.assertEqual(error["type"], "ERROR")
            self.assertEqual((error["error"]["code"], error["error"]["retryable"]), ("llm_error", False))
            self.assertIn("Incorrect API key", error["error"]["message"])

            self.fake.mode = "500"
            c.generate("busy", "Hello World in Python", requirements=requirements("python"))
            _, error = c.finish("busy")
            self.assertEqual((error["error"]["code"], error["error"]["retryable"]), ("llm_unavailable", True))

    def test_cancel_over_the_socket(self) -> None:
        self.fake.mode = "slow"
        with Client(self.agent.socket_path) as c:
            c.generate("s", "Hello World in Python", requirements=requirements("python"))
            self.assertEqual(c.recv_for("s")["type"], "STREAM_CHUNK")
            c.send({"type": "CANCEL", "id": "s"})
            _, final = c.finish("s")
            self.assertEqual(final["error"]["code"], "cancelled")
        self.assertTrue(self.fake.disconnected.wait(5))


class UnreachableServerTest(unittest.TestCase):
    def test_health_is_unhealthy_with_detail(self) -> None:
        port = free_port()
        with AgentProcess(env={"ATOMIC_LLM_BASE_URL": f"http://127.0.0.1:{port}/v1", "ATOMIC_LLM_MODEL": "m"}) as agent:
            with Client(agent.socket_path) as c:
                c.send({"type": "HEALTH_CHECK", "id": "h"})
                health = c.recv_for("h")
                self.assertEqual((health["status"], health["provider"]), ("unhealthy", "openai"))
                self.assertIn("refused", health["detail"])
                c.generate("g", "x", requirements=requirements("python"))
                _, error = c.finish("g")
                self.assertEqual((error["error"]["code"], error["error"]["retryable"]), ("llm_unavailable", True))


if __name__ == "__main__":
    unittest.main()
