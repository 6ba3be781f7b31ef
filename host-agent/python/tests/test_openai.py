"""The OpenAI-compatible provider against a local server that streams as the OpenAI API does."""

from __future__ import annotations

import asyncio
import socket
import threading
import unittest

from atomic_agent.log import Logger
from atomic_agent.protocol import AgentError, FileEntry, GenerateTask, ParseTask, RepairTask, Requirements
from atomic_agent.providers.openai_compat import GENERATE_SYSTEM_PROMPT, OpenAICompatProvider, extract_json_object
from atomic_agent.providers.prompts import (
    REPAIR_FAILURES_MAX_CHARS,
    REPAIR_FILES_MAX_CHARS,
    REPAIR_PROMPT_MAX_CHARS,
    REPAIR_REQUEST_MAX_CHARS,
    repair_messages,
)

from .fake_openai import FakeOpenAI
from .support import AgentProcess, Client, free_port, repair_payload, requirements

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

    async def test_repair_sends_the_request_every_file_and_the_failures_and_marks_pinned_files(self) -> None:
        task = RepairTask(
            prompt="A function that adds two numbers, in TypeScript",
            language="typescript",
            files=(
                FileEntry("math.ts", "export function add(a: number, b: number): number {\n  return a - b;\n}\n"),
                FileEntry("math.test.ts", 'import { add } from "./math.ts";\n// ```\n'),
                FileEntry("package.json", '{"type": "module"}\n'),
            ),
            pinned=("math.test.ts",),
            failures="math.test.ts: add(2, 3): expected 5, got -1",
            round=2,
        )
        deltas: list[str] = []

        async def emit(delta: str) -> None:
            deltas.append(delta)

        finish = await self.provider.repair(task, emit)
        self.assertEqual(deltas, self.fake.deltas)
        self.assertEqual((finish.finish_reason, finish.model), ("stop", "fake-model"))
        [post] = self.fake.posts()
        self.assertIs(post["body"]["stream"], True)
        system, user = post["body"]["messages"]
        self.assertIn("Never write a read-only file", system["content"])
        self.assertIn("complete", system["content"])
        text = user["content"]
        self.assertIn("Repair round 2. Language: typescript.", text)
        self.assertIn(task.prompt, text)
        self.assertIn("```typescript math.ts\nexport function add(a: number, b: number): number {\n  return a - b;\n}\n```", text)
        # The pinned file is shown, marked read-only just above its block; its fence outlasts its backticks.
        self.assertIn(
            "Read-only (one of the request's own tests; do not write it): math.test.ts\n"
            '````typescript math.test.ts\nimport { add } from "./math.ts";\n// ```\n````',
            text,
        )
        self.assertIn('```json package.json\n{"type": "module"}\n```', text)
        self.assertIn("What failed:\n```text\nmath.test.ts: add(2, 3): expected 5, got -1\n```", text)
        self.assertIn("Never write the read-only files (math.test.ts)", text)

    async def test_repair_tells_the_model_what_the_first_answer_was_for_and_how_it_is_tested(self) -> None:
        task = RepairTask(
            prompt="Create a REST API for user management",
            language="typescript",
            files=(FileEntry("app.ts", "export {};\n"),),
            pinned=(),
            failures="users > lists users: 404 !== 200",
            round=1,
            requirements=Requirements("typescript", "express", "main.ts", "users"),
            test_command="node --test test/",
        )

        async def emit(delta: str) -> None:
            pass

        await self.provider.repair(task, emit)
        [post] = self.fake.posts()
        text = post["body"]["messages"][1]["content"]
        self.assertIn("Repair round 1. Language: typescript. Framework: express. Entry file: main.ts.", text)
        self.assertIn("The tests run with: node --test test/", text)

    async def test_repair_errors_map_like_generate(self) -> None:
        self.fake.mode = "503"
        task = RepairTask("p", "python", (FileEntry("main.py", "x\n"),), (), "failed", 1)

        async def emit(_delta: str) -> None:
            return None

        with self.assertRaises(AgentError) as caught:
            await self.provider.repair(task, emit)
        self.assertEqual((caught.exception.code, caught.exception.retryable), ("llm_unavailable", True))

    def test_the_repair_prompt_stays_within_its_budget_and_never_cuts_a_file(self) -> None:
        files = [FileEntry(f"module_{i}.py", f"# module {i}\n" + "x = 1\n" * 3000) for i in range(10)]  # ~18,000 each
        files.append(FileEntry("test_api.py", "def test_api():\n    assert False\n"))
        files.append(FileEntry("module_9_helper.py", "y = 2\n"))
        task = RepairTask(
            prompt="p" * 50_000,
            language="python",
            files=tuple(files),
            pinned=("test_api.py",),
            failures="module_7.py line 3: boom\n" + "f" * 50_000,
            round=1,
        )
        prompt = repair_messages(task)
        user = prompt.messages[1]["content"]
        self.assertLessEqual(len(user), REPAIR_PROMPT_MAX_CHARS)
        self.assertLess(user.count("p" * 100) * 100, REPAIR_REQUEST_MAX_CHARS + 100)
        self.assertNotIn("f" * (REPAIR_FAILURES_MAX_CHARS + 1), user)
        self.assertIn("more characters left out", user)
        # The file the failures name comes first, then the program's code, then the pinned test;
        # files shown are whole, the others named with their size.
        self.assertEqual(prompt.shown[0], "module_0.py")
        self.assertIn("module_7.py", prompt.shown)
        self.assertIn("test_api.py", prompt.shown)
        self.assertIn("module_9_helper.py", prompt.shown)
        self.assertTrue(prompt.left_out)
        shown_chars = sum(len(f.content) for f in files if f.path in prompt.shown)
        self.assertLessEqual(shown_chars, REPAIR_FILES_MAX_CHARS)
        for entry in files:
            if entry.path in prompt.shown:
                self.assertIn(entry.content, user)
            else:
                self.assertIn(f"- {entry.path} ({len(entry.content):,} characters)", user)
                self.assertNotIn(f"```python {entry.path}\n", user)

    async def test_generate_asks_for_tests_and_shows_the_pinned_ones(self) -> None:
        metadata = {
            "tests": [{"path": "test_main.py", "content": "from main import add\n\n\ndef test_add():\n    assert add(2, 3) == 5\n"}],
            "test_command": "python3 -m pytest -q",
        }

        async def emit(_delta: str) -> None:
            return None

        await self.provider.generate(GenerateTask("A function that adds two numbers", REQUIREMENTS, metadata), emit)
        system, user = self.fake.posts()[0]["body"]["messages"]
        self.assertEqual(system["content"], GENERATE_SYSTEM_PROMPT)
        for convention in ("test_*.py", "*.test.ts", '"./math.ts"', "import type", "listen", "127.0.0.1", "supertest"):
            self.assertIn(convention, GENERATE_SYSTEM_PROMPT)
        self.assertIn("Fixed tests", user["content"])
        self.assertIn("do not repeat them", user["content"])
        self.assertIn("```python test_main.py\nfrom main import add\n", user["content"])
        self.assertIn("The tests are run with: python3 -m pytest -q", user["content"])

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

    def test_repair_over_the_socket(self) -> None:
        with Client(self.agent.socket_path) as c:
            c.repair("r", repair_payload())
            deltas, final = c.finish("r")
            self.assertEqual(deltas, self.fake.deltas)
            self.assertEqual(final["result"], {"chars": len("".join(deltas)), "finish_reason": "stop", "provider": "openai", "model": "fake-model"})
        user = self.fake.posts()[-1]["body"]["messages"][1]["content"]
        self.assertIn("cannot import name 'main'", user)
        self.assertIn("Read-only (one of the request's own tests; do not write it): tests/test_hello.py", user)
        self.assertIn('```python main.py\nprint("Hello")\n```', user)

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
