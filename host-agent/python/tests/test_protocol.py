"""The IPC protocol over a real Unix socket, against the real agent process."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import tempfile
import time
import unittest

from .support import AgentProcess, Client, repair_payload, requirements, split_files, utf16_length

MAX_LINE = 1_048_576


class ProtocolTest(unittest.TestCase):
    agent: AgentProcess

    @classmethod
    def setUpClass(cls) -> None:
        cls.agent = AgentProcess().start()
        cls.addClassCleanup(cls.agent.stop)

    def client(self) -> Client:
        client = Client(self.agent.socket_path)
        self.addCleanup(client.close)
        return client

    def test_socket_is_private(self) -> None:
        mode = os.stat(self.agent.socket_path).st_mode
        self.assertTrue(stat.S_ISSOCK(mode))
        self.assertEqual(stat.S_IMODE(mode), 0o600)

    def test_streamed_hello_world_runs(self) -> None:
        c = self.client()
        c.generate("r1", "Hello World in Python", requirements=requirements("python"))
        deltas, final = c.finish("r1")
        self.assertEqual(final["type"], "RESPONSE", final)
        text = "".join(deltas)
        self.assertGreater(len(deltas), 10, "the offline provider streams many small chunks")
        self.assertTrue(all(len(d) <= 40 for d in deltas))
        self.assertEqual(final["result"]["chars"], utf16_length(text))
        self.assertEqual(final["result"]["finish_reason"], "stop")
        self.assertEqual(final["result"]["provider"], "offline")
        self.assertNotIn("content", final["result"])
        self.assertIn("```python main.py\n", text)
        files = split_files(text)
        with tempfile.TemporaryDirectory() as folder:
            with open(os.path.join(folder, "main.py"), "w", encoding="utf-8") as handle:
                handle.write(files["main.py"])
            run = subprocess.run([sys.executable, "main.py"], cwd=folder, capture_output=True, text=True, timeout=30)
        self.assertEqual(run.stdout, "Hello, World!\n")

    def test_unstreamed_generate_has_content_equal_to_stream(self) -> None:
        c = self.client()
        c.generate("a", "Create a REST API for user management", requirements=requirements("python"))
        deltas, _ = c.finish("a")
        c.generate("b", "Create a REST API for user management", stream=False, requirements=requirements("python"))
        chunks, final = c.finish("b")
        self.assertEqual(chunks, [])
        self.assertEqual(final["result"]["content"], "".join(deltas))
        self.assertEqual(final["result"]["chars"], utf16_length(final["result"]["content"]))

    def test_generate_without_requirements_uses_the_rules(self) -> None:
        c = self.client()
        c.generate("r", "Hello World in TypeScript", stream=False)
        _, final = c.finish("r")
        self.assertIn("```typescript main.ts\n", final["result"]["content"])

    def test_parse(self) -> None:
        c = self.client()
        c.send({"type": "REQUEST", "id": "p", "task": "parse", "payload": {"prompt": "A REST API with express in TypeScript"}})
        _, final = c.finish("p")
        self.assertEqual(
            final["result"],
            {"language": "typescript", "framework": "express", "entry_file": "main.ts", "summary": "A REST API with express in TypeScript"},
        )

    def test_repair_streams_complete_files_like_generate_and_leaves_pinned_files_out(self) -> None:
        c = self.client()
        c.repair("fix", repair_payload(round=2))
        deltas, final = c.finish("fix")
        self.assertEqual(final["type"], "RESPONSE", final)
        text = "".join(deltas)
        self.assertGreater(len(deltas), 10)
        self.assertEqual(
            final["result"],
            {"chars": utf16_length(text), "finish_reason": "stop", "provider": "offline", "model": "atomic-offline-templates-1"},
        )
        self.assertIn("repair round 2", text)
        files = split_files(text)
        self.assertIn("main.py", files)
        self.assertIn('print("Hello, World!")', files["main.py"])
        self.assertNotIn("tests/test_hello.py", files)

    def test_unstreamed_repair_has_content_equal_to_stream(self) -> None:
        c = self.client()
        c.repair("a", repair_payload())
        deltas, _ = c.finish("a")
        c.repair("b", repair_payload(), stream=False)
        chunks, final = c.finish("b")
        self.assertEqual(chunks, [])
        self.assertEqual(final["result"]["content"], "".join(deltas))

    def test_a_malformed_repair_payload_is_refused_naming_the_field(self) -> None:
        c = self.client()
        cases = [
            ({"files": []}, "payload.files"),
            ({"files": [{"path": "", "content": "x"}]}, "payload.files[0].path"),
            ({"files": [{"path": "main.py"}]}, "payload.files[0].content"),
            ({"pinned": "tests/test_hello.py"}, "payload.pinned"),
            ({"pinned": [3]}, "payload.pinned[0]"),
            ({"failures": None}, "payload.failures"),
            ({"round": 0}, "payload.round"),
            ({"round": True}, "payload.round"),
            ({"language": ""}, "payload.language"),
            ({"prompt": 5}, "payload.prompt"),
            ({"requirements": {"language": "python"}}, "payload.requirements.entry_file"),
            ({"test_command": 7}, "payload.test_command"),
            ({"test_command": "x" * 1025}, "payload.test_command"),
        ]
        for index, (override, field) in enumerate(cases):
            with self.subTest(field=field):
                c.repair(f"bad{index}", repair_payload(**override))
                _, final = c.finish(f"bad{index}")
                self.assertEqual(final["type"], "ERROR")
                self.assertEqual((final["error"]["code"], final["error"]["retryable"]), ("invalid_request", False))
                self.assertIn(field, final["error"]["message"])
        c.repair("good", repair_payload())
        self.assertEqual(c.finish("good")[1]["type"], "RESPONSE")

    def test_two_requests_multiplexed_on_one_connection(self) -> None:
        c = self.client()
        c.generate("one", "Create a REST API for user management", requirements=requirements("python"))
        c.generate("two", "Create a REST API for user management", requirements=requirements("javascript"))
        order: list[tuple[str, str]] = []
        done: dict[str, dict] = {}
        texts = {"one": "", "two": ""}
        while len(done) < 2:
            message = c.recv()
            order.append((message["id"], message["type"]))
            if message["type"] == "STREAM_CHUNK":
                texts[message["id"]] += message["delta"]
            else:
                done[message["id"]] = message
        first_done = min(order.index((i, "RESPONSE")) for i in ("one", "two"))
        ids_before = {i for i, _ in order[:first_done]}
        self.assertEqual(ids_before, {"one", "two"}, "both requests stream before either finishes")
        self.assertIn("```python main.py", texts["one"])
        self.assertIn("```javascript main.js", texts["two"])
        for id_ in ("one", "two"):
            self.assertEqual(done[id_]["result"]["chars"], utf16_length(texts[id_]))

    def test_health(self) -> None:
        c = self.client()
        c.send({"type": "HEALTH_CHECK", "id": "h"})
        message = c.recv_for("h")
        self.assertEqual(message["type"], "HEALTH_RESPONSE")
        self.assertEqual(message["status"], "healthy")
        self.assertEqual(message["provider"], "offline")
        self.assertIsInstance(message["model"], str)
        self.assertIn("offline", message["detail"])
        self.assertGreaterEqual(message["connections"], 1)
        self.assertEqual(message["protocol"], 1)

    def test_health_counts_connections(self) -> None:
        clients = [self.client() for _ in range(3)]
        clients[0].send({"type": "HEALTH_CHECK", "id": "h"})
        self.assertGreaterEqual(clients[0].recv_for("h")["connections"], 3)

    def test_malformed_lines_get_errors_and_the_connection_stays_usable(self) -> None:
        c = self.client()
        cases = [
            (b"this is not json\n", None, "not valid JSON"),
            (b"[1, 2, 3]\n", None, "not an object"),
            (b'{"type": "HEALTH_CHECK", "id": "\xff\xfe"}\n', None, "UTF-8"),
            (b'{"type": "HEALTH_CHECK"}\n', None, "id must be"),
            (b'{"type": "HEALTH_CHECK", "id": 7}\n', None, "id must be"),
            (b'{"type": "NOPE", "id": "u"}\n', "u", "unknown message type"),
            (b'{"type": "REQUEST", "id": "t", "task": "dance", "payload": {}}\n', "t", "task must be"),
            (b'{"type": "REQUEST", "id": "p", "task": "parse", "payload": {"prompt": 3}}\n', "p", "payload.prompt"),
            (b'{"type": "REQUEST", "id": "s", "task": "parse", "stream": "yes", "payload": {"prompt": "x"}}\n', "s", "stream"),
            (
                b'{"type": "REQUEST", "id": "q", "task": "generate", "payload": {"prompt": "x", "requirements": {"language": 1}}}\n',
                "q",
                "requirements.language",
            ),
        ]
        for line, id_, words in cases:
            with self.subTest(line=line):
                c.send(line)
                message = c.recv()
                self.assertEqual(message["type"], "ERROR")
                self.assertEqual(message["id"], id_)
                self.assertEqual(message["error"]["code"], "invalid_request")
                self.assertFalse(message["error"]["retryable"])
                self.assertIn(words, message["error"]["message"])
        c.send(b"\n   \n")  # blank lines are ignored
        c.send({"type": "HEALTH_CHECK", "id": "after"})
        self.assertEqual(c.recv()["type"], "HEALTH_RESPONSE")

    def test_overlong_line_is_discarded_and_the_connection_stays_usable(self) -> None:
        c = self.client()
        c.send(b'{"type":"HEALTH_CHECK","id":"big","pad":"' + b"x" * MAX_LINE + b'"}\n')
        message = c.recv()
        self.assertEqual(message["type"], "ERROR")
        self.assertIsNone(message["id"])
        self.assertIn(str(MAX_LINE), message["error"]["message"])
        c.send({"type": "HEALTH_CHECK", "id": "after"})
        message = c.recv()
        self.assertEqual((message["type"], message["id"]), ("HEALTH_RESPONSE", "after"))

    def test_a_line_of_exactly_the_limit_is_accepted(self) -> None:
        c = self.client()
        head = b'{"type":"HEALTH_CHECK","id":"edge","pad":"'
        tail = b'"}'
        c.send(head + b"x" * (MAX_LINE - len(head) - len(tail)) + tail + b"\n")
        self.assertEqual(c.recv()["type"], "HEALTH_RESPONSE")

    def test_duplicate_id_in_flight_is_refused(self) -> None:
        c = self.client()
        c.generate("d", "Create a REST API for user management", requirements=requirements("python"))
        c.generate("d", "Hello World in Python", requirements=requirements("python"))
        first_error = None
        final = None
        while final is None:
            message = c.recv_for("d")
            if message["type"] == "ERROR" and first_error is None:
                first_error = message
            elif message["type"] == "RESPONSE":
                final = message
        self.assertIsNotNone(first_error)
        self.assertIn("already in flight", first_error["error"]["message"])

    def test_errors_from_the_client_are_not_answered(self) -> None:
        c = self.client()
        c.send({"type": "ERROR", "id": None, "error": {"code": "invalid_request", "message": "x", "retryable": False}})
        c.send({"type": "CANCEL", "id": "nothing-running"})
        c.send({"type": "HEALTH_CHECK", "id": "h"})
        self.assertEqual(c.recv()["type"], "HEALTH_RESPONSE")


class SlowAgentTest(unittest.TestCase):
    """An agent whose offline provider waits 20 ms between chunks, so requests stay in flight."""

    agent: AgentProcess

    @classmethod
    def setUpClass(cls) -> None:
        cls.agent = AgentProcess(env={"ATOMIC_LLM_OFFLINE_DELAY_MS": "20"}).start()
        cls.addClassCleanup(cls.agent.stop)

    def client(self) -> Client:
        client = Client(self.agent.socket_path)
        self.addCleanup(client.close)
        return client

    def in_flight(self) -> int:
        with Client(self.agent.socket_path) as probe:
            probe.send({"type": "HEALTH_CHECK", "id": "n"})
            return probe.recv_for("n")["in_flight"]

    def test_cancel(self) -> None:
        c = self.client()
        c.generate("slow", "Create a REST API for user management", requirements=requirements("python"))
        self.assertEqual(c.recv_for("slow")["type"], "STREAM_CHUNK")
        c.send({"type": "CANCEL", "id": "slow"})
        while True:
            message = c.recv_for("slow")
            if message["type"] != "STREAM_CHUNK":
                break
        self.assertEqual(message["type"], "ERROR")
        self.assertEqual(message["error"]["code"], "cancelled")
        self.assertFalse(message["error"]["retryable"])
        # Nothing more arrives for it: the next message on the connection is the health answer.
        c.send({"type": "HEALTH_CHECK", "id": "h"})
        self.assertEqual(c.recv()["id"], "h")

    def test_timeout_ms(self) -> None:
        c = self.client()
        c.send(
            {
                "type": "REQUEST",
                "id": "t",
                "task": "generate",
                "stream": True,
                "timeout_ms": 150,
                "payload": {"prompt": "Create a REST API for user management", "requirements": requirements("python")},
            }
        )
        _, final = c.finish("t")
        self.assertEqual(final["type"], "ERROR")
        self.assertEqual(final["error"]["code"], "timeout")
        self.assertTrue(final["error"]["retryable"])

    def test_closing_the_connection_cancels_its_requests(self) -> None:
        c = Client(self.agent.socket_path)
        c.generate("gone", "Create a REST API for user management", requirements=requirements("python"))
        c.recv_for("gone")
        self.assertGreaterEqual(self.in_flight(), 1)
        c.close()
        deadline = time.monotonic() + 5
        while self.in_flight() > 0 and time.monotonic() < deadline:
            time.sleep(0.02)
        self.assertEqual(self.in_flight(), 0)


if __name__ == "__main__":
    unittest.main()
