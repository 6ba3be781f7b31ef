"""The offline provider's programs really run and do what the prompt asked."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import shutil
import sys
import unittest

from atomic_agent.protocol import FileEntry, GenerateTask, ParseTask, RepairTask, Requirements
from atomic_agent.providers.offline import OfflineProvider, chunk_text, repair_requirements
from atomic_agent.rules import requirements_by_rules
from atomic_agent.templates.functions import FUNCTIONS

from .program_runner import (
    Server,
    call,
    generate,
    install_express_stand_in,
    run,
    temp_folder,
    typescript_runner,
    write_files,
)
from .support import split_files

NODE = shutil.which("node")
NODE_TS = typescript_runner() or []
NO_TS = "this node cannot run TypeScript (type stripping needs Node >= 22.6)"
PYTHON = sys.executable


class StreamingTest(unittest.IsolatedAsyncioTestCase):
    async def test_many_small_chunks_that_add_up_to_the_text(self) -> None:
        provider = OfflineProvider()
        requirements = Requirements("python", None, "main.py", "")
        pieces: list[str] = []

        async def emit(delta: str) -> None:
            pieces.append(delta)

        finish = await provider.generate(GenerateTask("Hello World in Python", requirements), emit)
        self.assertEqual(finish.finish_reason, "stop")
        self.assertEqual("".join(pieces), generate("Hello World in Python", "python"))
        self.assertGreater(len(pieces), 20)
        self.assertTrue(all(0 < len(piece) <= 40 for piece in pieces))

    async def test_the_delay_applies_between_chunks(self) -> None:
        provider = OfflineProvider(delay_ms=10)
        loop = asyncio.get_running_loop()
        started = loop.time()
        count = 0

        async def emit(_delta: str) -> None:
            nonlocal count
            count += 1

        await provider.generate(GenerateTask("Hello World in JavaScript", Requirements("javascript", None, "main.js", "")), emit)
        self.assertGreaterEqual(loop.time() - started, (count - 1) * 0.01 * 0.9)

    def test_chunks_cover_any_text(self) -> None:
        for text in ["", "   ", "a", "x = 1\n\n\ty\n", "🎉 ünïcode  words\r\n", "averyveryverylongwordwithoutspaces"]:
            self.assertEqual("".join(chunk_text(text)), text)

    def test_same_input_same_output(self) -> None:
        prompt = "Create a REST API for user management"
        self.assertEqual(generate(prompt, "typescript"), generate(prompt, "typescript"))

    def test_the_output_says_it_is_offline(self) -> None:
        self.assertTrue(generate("Hello World in Python", "python").startswith("Offline provider"))

    async def test_health_says_offline(self) -> None:
        health = await OfflineProvider().health()
        self.assertTrue(health.healthy)
        self.assertIn("offline", health.detail or "")


async def collect(coroutine_of_emit) -> str:
    pieces: list[str] = []

    async def emit(delta: str) -> None:
        pieces.append(delta)

    await coroutine_of_emit(emit)
    return "".join(pieces)


class RepairTest(unittest.IsolatedAsyncioTestCase):
    """Offline repair is a smoke test of the loop: it cannot read failures, so it answers its
    template for the request again, complete, leaving out the pinned files."""

    def task(self, files: dict[str, str], pinned: tuple[str, ...] = (), language: str = "typescript", prompt: str = "Create a REST API for user management") -> RepairTask:
        entries = tuple(FileEntry(path, content) for path, content in files.items())
        return RepairTask(prompt, language, entries, pinned, "1 test failed", 1)

    async def test_answers_the_template_again_without_pinned_files(self) -> None:
        provider = OfflineProvider()
        task = self.task({"app.ts": 'import express from "express";\n', "main.ts": "", "app.test.ts": ""}, ("app.test.ts",))
        text = await collect(lambda emit: provider.repair(task, emit))
        self.assertTrue(text.startswith("Offline provider"))
        self.assertIn("repair round 1", text)
        files = split_files(text)
        self.assertEqual(list(files), ["app.ts", "main.ts", "package.json", "tsconfig.json"])
        self.assertIn("createApp", files["app.ts"])
        self.assertEqual(text, await collect(lambda emit: provider.repair(task, emit)), "deterministic")

    def test_works_out_what_the_first_answer_was_generated_for(self) -> None:
        cases = [
            ({"app.ts": 'import express from "express";', "main.ts": ""}, "typescript", ("typescript", "express", "main.ts")),
            ({"src/app.js": "", "src/server.js": "", "src/app.test.js": ""}, "javascript", ("javascript", None, "src/server.js")),
            ({"src/test_wc.py": "", "src/wc.py": ""}, "python", ("python", None, "src/wc.py")),
            ({"lib.py": "x = require('express')"}, "Python", ("python", None, "lib.py")),
            ({"README.md": ""}, "python", ("python", None, "main.py")),
        ]
        for files, language, expected in cases:
            with self.subTest(files=files):
                got = repair_requirements(self.task(files, language=language, prompt="Write a command-line tool"))
                self.assertEqual((got.language, got.framework, got.entry_file), expected)

    def test_takes_the_requirements_the_edge_sends_over_its_guess(self) -> None:
        sent = Requirements("typescript", "express", "server.ts", "users")
        task = self.task({"app.ts": ""}, language="typescript")
        self.assertEqual(repair_requirements(dataclasses.replace(task, requirements=sent)), sent)

    async def test_generate_leaves_out_the_pinned_tests_paths(self) -> None:
        provider = OfflineProvider()
        requirements = Requirements("python", None, "main.py", "")
        metadata = {"tests": [{"path": "test_main.py", "content": "def test_x():\n    assert True\n"}]}
        text = await collect(lambda emit: provider.generate(GenerateTask("Hello World", requirements, metadata), emit))
        self.assertEqual(list(split_files(text)), ["main.py"])


class ParseRulesTest(unittest.IsolatedAsyncioTestCase):
    async def test_rules(self) -> None:
        provider = OfflineProvider()
        cases = [
            ("Hello World in Python", {}, ("python", None, "main.py")),
            ("Create a REST API for user management", {}, ("python", None, "main.py")),
            ("A REST API in TypeScript with express", {}, ("typescript", "express", "main.ts")),
            ("a node.js CLI", {}, ("javascript", None, "main.js")),
            ("hello in rust", {}, ("rust", None, "main.rs")),
            ("Hello World in Python", {"language": "TS", "framework": "Hono"}, ("typescript", "hono", "main.ts")),
        ]
        for prompt, metadata, expected in cases:
            with self.subTest(prompt=prompt, metadata=metadata):
                got = await provider.parse(ParseTask(prompt, metadata))
                self.assertEqual((got.language, got.framework, got.entry_file), expected)
                self.assertEqual(got.summary, prompt)

    def test_summary_is_one_line_of_at_most_200_characters(self) -> None:
        got = requirements_by_rules("word\n" * 100, {})
        self.assertNotIn("\n", got.summary)
        self.assertLessEqual(len(got.summary), 200)


@unittest.skipUnless(NODE, "node is not on PATH")  # it is on every machine of this project
class HelloWorldTest(unittest.TestCase):
    def check(self, language: str, command: list[str], prompt: str | None = None) -> None:
        with temp_folder() as folder:
            files = write_files(generate(prompt or f"Hello World in {language}", language), folder)
            expected = {
                "python": ["main.py", "test_main.py"],
                "javascript": ["main.js", "main.test.js", "package.json"],
                "typescript": ["main.ts", "main.test.ts", "package.json", "tsconfig.json"],
            }
            self.assertEqual(list(files), expected.get(language, [command[-1]]))
            done = run(command, folder)
            self.assertEqual(done.returncode, 0, done.stderr)
            self.assertEqual(done.stdout, "Hello, World!\n")

    def test_python(self) -> None:
        self.check("python", [PYTHON, "main.py"])

    def test_javascript(self) -> None:
        self.check("javascript", [NODE or "node", "main.js"])

    @unittest.skipUnless(NODE_TS, NO_TS)
    def test_typescript(self) -> None:
        self.check("typescript", NODE_TS + ["main.ts"])

    def test_bash(self) -> None:
        self.check("shell", ["bash", "main.sh"], "Hello World in bash")

    @unittest.skipUnless(shutil.which("rustc"), "rustc is not on PATH")
    def test_rust(self) -> None:
        with temp_folder() as folder:
            write_files(generate("Hello World in Rust", "rust"), folder)
            self.assertEqual(run(["rustc", "main.rs", "-o", "main"], folder).returncode, 0)
            self.assertEqual(run(["./main"], folder).stdout, "Hello, World!\n")

    @unittest.skipUnless(shutil.which("javac") and shutil.which("java"), "javac/java are not on PATH")
    def test_java(self) -> None:
        with temp_folder() as folder:
            files = write_files(generate("Hello World in Java", "java"), folder)
            self.assertEqual(list(files), ["Main.java"])
            self.assertEqual(run(["javac", "Main.java"], folder).returncode, 0)
            self.assertEqual(run(["java", "-cp", ".", "Main"], folder).stdout, "Hello, World!\n")

    def test_a_prompt_without_a_template_gets_a_runnable_starting_point(self) -> None:
        for language, command in [("python", [PYTHON, "main.py"]), ("typescript", NODE_TS + ["main.ts"])]:
            with self.subTest(language=language), temp_folder() as folder:
                if command == ["main.ts"]:
                    self.skipTest(NO_TS)
                markdown = generate("Build a web scraper for */ news ``` sites", language)
                self.assertIn("no built-in template", markdown)
                write_files(markdown, folder)
                done = run(command, folder)
                self.assertEqual((done.returncode, done.stdout), (0, "Hello, World!\n"), done.stderr)

    def test_an_unknown_language_gets_a_note(self) -> None:
        markdown = generate("Hello World in COBOL", "cobol")
        self.assertIn("```markdown README.md", markdown)
        self.assertIn("no template for cobol", markdown)


@unittest.skipUnless(NODE, "node is not on PATH")
class RestApiTest(unittest.TestCase):
    def exercise(self, server: Server, resource: str = "users", strict_methods: bool = True) -> None:
        url = server.url
        self.assertEqual(call(url, "GET", "/health"), (200, {"status": "ok"}))
        self.assertEqual(call(url, "GET", f"/{resource}"), (200, []))
        status, created = call(url, "POST", f"/{resource}", {"name": "Ada", "email": "ada@example.com"})
        self.assertEqual(status, 201)
        self.assertEqual(created, {"id": 1, "name": "Ada", "email": "ada@example.com"})
        self.assertEqual(call(url, "POST", f"/{resource}", {"name": "Bob"})[0], 400)
        self.assertEqual(call(url, "POST", f"/{resource}", {"name": "Bob", "email": "not-an-email"})[0], 400)
        self.assertEqual(call(url, "POST", f"/{resource}", raw=b"{not json")[0], 400)
        self.assertEqual(call(url, "GET", f"/{resource}/1"), (200, created))
        status, replaced = call(url, "PUT", f"/{resource}/1", {"name": "Ada L.", "email": "ada@math.org"})
        self.assertEqual((status, replaced), (200, {"id": 1, "name": "Ada L.", "email": "ada@math.org"}))
        self.assertEqual(call(url, "PUT", f"/{resource}/9", {"name": "X", "email": "x@y.z"})[0], 404)
        status, second = call(url, "POST", f"/{resource}", {"name": "Bob", "email": "bob@example.com"})
        self.assertEqual((status, second["id"]), (201, 2))
        self.assertEqual(call(url, "GET", f"/{resource}"), (200, [replaced, second]))
        self.assertEqual(call(url, "DELETE", f"/{resource}/1"), (204, None))
        self.assertEqual(call(url, "GET", f"/{resource}/1")[0], 404)
        self.assertEqual(call(url, "DELETE", f"/{resource}/1")[0], 404)
        self.assertEqual(call(url, "GET", "/nothing-here")[0], 404)
        if strict_methods:
            self.assertEqual(call(url, "DELETE", f"/{resource}")[0], 405)

    def serve(self, language: str, command: list[str], framework: str | None = None, express: bool = False) -> None:
        with temp_folder() as folder:
            files = write_files(generate("Create a REST API for user management", language, framework), folder)
            if language != "python":
                self.assertIn("package.json", files)
            if language != "python":
                # The app is a module of its own (what the tests import); the entry file starts it.
                app = command[-1].replace("main.", "app.")
                self.assertIn(f'from "./{app}"', files[command[-1]])
                self.assertIn("listen(", files[command[-1]])
                self.assertNotIn("listen(", files[app])
            if express:
                self.assertIn('from "express"', files[command[-1].replace("main.", "app.")])
                install_express_stand_in(folder)
            server = Server(command, folder)
            try:
                self.exercise(server, strict_methods=not express)
            finally:
                server.stop()

    def test_python_http_server(self) -> None:
        self.serve("python", [PYTHON, "main.py"])

    def test_javascript_node_http(self) -> None:
        self.serve("javascript", [NODE or "node", "main.js"])

    @unittest.skipUnless(NODE_TS, NO_TS)
    def test_typescript_node_http(self) -> None:
        self.serve("typescript", NODE_TS + ["main.ts"])

    def test_javascript_express(self) -> None:
        self.serve("javascript", [NODE or "node", "main.js"], "express", express=True)

    @unittest.skipUnless(NODE_TS, NO_TS)
    def test_typescript_express(self) -> None:
        self.serve("typescript", NODE_TS + ["main.ts"], "express", express=True)

    def test_other_resources(self) -> None:
        with temp_folder() as folder:
            write_files(generate("A CRUD API for books", "python"), folder)
            server = Server([PYTHON, "main.py"], folder)
            try:
                self.assertEqual(call(server.url, "POST", "/books", {"title": "Dune"})[0], 400)
                status, book = call(server.url, "POST", "/books", {"title": "Dune", "author": "Herbert"})
                self.assertEqual((status, book), (201, {"id": 1, "title": "Dune", "author": "Herbert"}))
            finally:
                server.stop()


@unittest.skipUnless(NODE, "node is not on PATH")
class CliTest(unittest.TestCase):
    def check(self, language: str, command: list[str]) -> None:
        with temp_folder() as folder:
            write_files(generate("Write a command-line tool", language), folder)
            with open(os.path.join(folder, "a.txt"), "w", encoding="utf-8") as handle:
                handle.write("one two\nthree\n")
            with open(os.path.join(folder, "b.txt"), "w", encoding="utf-8") as handle:
                handle.write("four")
            done = run(command, folder, stdin="hello world\n")
            self.assertEqual((done.returncode, done.stdout), (0, "lines=1 words=2 chars=12\n"), done.stderr)
            done = run(command + ["--words", "a.txt", "b.txt"], folder)
            self.assertEqual(done.stdout, "words=3 a.txt\nwords=1 b.txt\nwords=4 total\n")
            done = run(command + ["missing.txt"], folder)
            self.assertEqual(done.returncode, 1)
            self.assertIn("missing.txt", done.stderr)

    def test_python(self) -> None:
        self.check("python", [PYTHON, "main.py"])

    def test_javascript(self) -> None:
        self.check("javascript", [NODE or "node", "main.js"])

    @unittest.skipUnless(NODE_TS, NO_TS)
    def test_typescript(self) -> None:
        self.check("typescript", NODE_TS + ["main.ts"])


@unittest.skipUnless(NODE, "node is not on PATH")
class FunctionTest(unittest.TestCase):
    PROMPTS = {
        "fibonacci": "a function that returns the nth fibonacci number",
        "factorial": "compute a factorial",
        "prime": "check whether a number is prime",
        "palindrome": "detect palindromes",
        "reverse": "a function to reverse a string",
        "sum": "a function to sum a list of numbers",
    }

    def test_every_function_in_every_language_prints_its_example(self) -> None:
        self.assertEqual(set(self.PROMPTS), set(FUNCTIONS))
        for name, prompt in self.PROMPTS.items():
            for language, command in [
                ("python", [PYTHON, "main.py"]),
                ("javascript", [NODE or "node", "main.js"]),
                ("typescript", NODE_TS + ["main.ts"]),
            ]:
                with self.subTest(function=name, language=language), temp_folder() as folder:
                    if command == ["main.ts"]:
                        self.skipTest(NO_TS)
                    markdown = generate(prompt, language)
                    spec = FUNCTIONS[name]
                    self.assertIn(spec.py_name if language == "python" else spec.js_name, markdown)
                    write_files(markdown, folder)
                    done = run(command, folder)
                    self.assertEqual(done.returncode, 0, done.stderr)
                    called = spec.py_name if language == "python" else spec.js_name
                    self.assertRegex(done.stdout, rf"^{called}\(.*\) = .+\n$")


if __name__ == "__main__":
    unittest.main()
