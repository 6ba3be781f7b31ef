"""Start-up, configuration errors and shutdown of the real agent process."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

from atomic_agent.config import ConfigError, load_config

from .support import PYTHON_DIR, AgentProcess, Client, clean_env, requirements


def run_agent_expecting_exit(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "atomic_agent"],
        cwd=PYTHON_DIR,
        env=clean_env(**env),
        capture_output=True,
        text=True,
        timeout=20,
    )


class ConfigTest(unittest.TestCase):
    def test_defaults(self) -> None:
        config = load_config({})
        self.assertEqual(config.socket_path, "/tmp/atomic_llm_agent.sock")
        self.assertEqual(config.provider_name, "offline")
        self.assertEqual(config.offline_delay_ms, 0)
        self.assertEqual(config.log_level, 20)

    def test_openai_settings(self) -> None:
        config = load_config(
            {"ATOMIC_LLM_BASE_URL": "http://127.0.0.1:8000/v1/", "ATOMIC_LLM_MODEL": "m", "ATOMIC_LOG_LEVEL": "warn"}
        )
        self.assertEqual(config.base_url, "http://127.0.0.1:8000/v1")
        self.assertEqual(config.provider_name, "openai")
        self.assertEqual(config.log_level, 30)

    def test_each_bad_value_names_its_variable(self) -> None:
        cases = {
            "ATOMIC_LLM_OFFLINE_DELAY_MS": {"ATOMIC_LLM_OFFLINE_DELAY_MS": "soon"},
            "ATOMIC_LOG_LEVEL": {"ATOMIC_LOG_LEVEL": "LOUD"},
            "ATOMIC_LLM_BASE_URL": {"ATOMIC_LLM_BASE_URL": "ftp://example.com"},
            "ATOMIC_LLM_MODEL": {"ATOMIC_LLM_BASE_URL": "http://127.0.0.1:1/v1"},
            "ATOMIC_IPC_SOCKET": {"ATOMIC_IPC_SOCKET": "/no/such/folder/agent.sock"},
            "ATOMIC_LLM_TIMEOUT_MS": {"ATOMIC_LLM_TIMEOUT_MS": "-1"},
            "ATOMIC_IPC_DRAIN_MS": {"ATOMIC_IPC_DRAIN_MS": "1.5"},
        }
        for variable, env in cases.items():
            with self.subTest(variable=variable):
                with self.assertRaises(ConfigError) as caught:
                    load_config(env)
                self.assertEqual(caught.exception.variable, variable)
                self.assertIn(variable, str(caught.exception))

    def test_socket_path_longer_than_sun_path_is_refused(self) -> None:
        with self.assertRaises(ConfigError) as caught:
            load_config({"ATOMIC_IPC_SOCKET": "/tmp/" + "a" * 120})
        self.assertIn("107 bytes", str(caught.exception))


class StartupTest(unittest.TestCase):
    def test_invalid_environment_exits_with_a_message_naming_the_variable(self) -> None:
        done = run_agent_expecting_exit({"ATOMIC_LLM_OFFLINE_DELAY_MS": "soon"})
        self.assertEqual(done.returncode, 2)
        self.assertIn("ATOMIC_LLM_OFFLINE_DELAY_MS", done.stderr)
        self.assertIn('"level": "error"', done.stderr)

    def test_a_stale_socket_file_is_replaced(self) -> None:
        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, "agent.sock")
            stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            stale.bind(path)
            stale.close()  # the file stays, nobody listens: what a killed agent leaves behind
            agent = AgentProcess(socket_path=path).start()
            self.addCleanup(agent.stop)
            with Client(path) as c:
                c.send({"type": "HEALTH_CHECK", "id": "h"})
                self.assertEqual(c.recv()["status"], "healthy")
            self.assertIn("removed a stale socket file", agent.log())

    def test_a_live_socket_is_not_taken_over(self) -> None:
        agent = AgentProcess().start()
        self.addCleanup(agent.stop)
        done = run_agent_expecting_exit({"ATOMIC_IPC_SOCKET": agent.socket_path})
        self.assertEqual(done.returncode, 2)
        self.assertIn("already listening", done.stderr)
        with Client(agent.socket_path) as c:  # the first agent is untouched
            c.send({"type": "HEALTH_CHECK", "id": "h"})
            self.assertEqual(c.recv()["type"], "HEALTH_RESPONSE")

    def test_a_regular_file_is_not_replaced(self) -> None:
        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, "agent.sock")
            with open(path, "w", encoding="utf-8") as handle:
                handle.write("keep me")
            done = run_agent_expecting_exit({"ATOMIC_IPC_SOCKET": path})
            self.assertEqual(done.returncode, 2)
            self.assertIn("not a socket", done.stderr)
            with open(path, encoding="utf-8") as handle:
                self.assertEqual(handle.read(), "keep me")


class ShutdownTest(unittest.TestCase):
    def test_sigterm_when_idle_removes_the_socket_and_exits_0(self) -> None:
        agent = AgentProcess().start()
        self.addCleanup(agent.stop)
        agent.signal(signal.SIGTERM)
        self.assertEqual(agent.wait(), 0)
        self.assertFalse(os.path.exists(agent.socket_path))

    def test_sigint_too(self) -> None:
        agent = AgentProcess().start()
        self.addCleanup(agent.stop)
        agent.signal(signal.SIGINT)
        self.assertEqual(agent.wait(), 0)
        self.assertFalse(os.path.exists(agent.socket_path))

    def test_a_request_that_ends_within_the_drain_period_completes(self) -> None:
        agent = AgentProcess(env={"ATOMIC_LLM_OFFLINE_DELAY_MS": "5", "ATOMIC_IPC_DRAIN_MS": "10000"}).start()
        self.addCleanup(agent.stop)
        with Client(agent.socket_path) as c:
            c.generate("r", "Hello World in Python", requirements=requirements("python"))
            self.assertEqual(c.recv_for("r")["type"], "STREAM_CHUNK")
            agent.signal(signal.SIGTERM)
            _, final = c.finish("r")
            self.assertEqual(final["type"], "RESPONSE")
            # New work is refused while draining, with a retryable error.
            c.generate("late", "Hello World in Python", requirements=requirements("python"))
            _, late = c.finish("late")
            self.assertEqual((late["type"], late["error"]["code"], late["error"]["retryable"]), ("ERROR", "llm_unavailable", True))
        self.assertEqual(agent.wait(), 0)

    def test_requests_still_running_after_the_drain_period_end_with_a_retryable_error(self) -> None:
        agent = AgentProcess(env={"ATOMIC_LLM_OFFLINE_DELAY_MS": "50", "ATOMIC_IPC_DRAIN_MS": "100"}).start()
        self.addCleanup(agent.stop)
        with Client(agent.socket_path) as c:
            c.generate("r", "Create a REST API for user management", requirements=requirements("python"))
            self.assertEqual(c.recv_for("r")["type"], "STREAM_CHUNK")
            agent.signal(signal.SIGTERM)
            _, final = c.finish("r")
            self.assertEqual(final["type"], "ERROR")
            self.assertEqual(final["error"]["code"], "llm_unavailable")
            self.assertTrue(final["error"]["retryable"])
            self.assertEqual(c.sock.recv(1), b"", "the agent closes the connection")
        self.assertEqual(agent.wait(), 0)
        self.assertFalse(os.path.exists(agent.socket_path))


class RepeatedStopSignalTest(unittest.TestCase):
    """systemd signals every process of the unit and the atomic-llm-agent wrapper passes its signal
    on, so one stop request arrives twice within milliseconds: it must still drain."""

    def test_two_sigterms_10_ms_apart_drain_and_the_request_completes(self) -> None:
        # 40 chunks, 20 ms apart: about 0.8 s left when the signals arrive.
        agent = AgentProcess(env={"ATOMIC_LLM_OFFLINE_DELAY_MS": "20", "ATOMIC_IPC_DRAIN_MS": "10000"}).start()
        self.addCleanup(agent.stop)
        with Client(agent.socket_path) as c:
            c.generate("r", "Hello World in Python", requirements=requirements("python"))
            self.assertEqual(c.recv_for("r")["type"], "STREAM_CHUNK")
            agent.signal(signal.SIGTERM)
            time.sleep(0.01)
            agent.signal(signal.SIGTERM)
            _, final = c.finish("r")
            self.assertEqual(final["type"], "RESPONSE", final)
        self.assertEqual(agent.wait(), 0)
        self.assertIn('"action": "repeat"', agent.log())
        self.assertNotIn("ending requests still running", agent.log())

    def test_a_second_sigterm_after_the_window_stops_at_once(self) -> None:
        # 868 chunks, 50 ms apart: about 43 s of work, a drain period of a minute.
        agent = AgentProcess(env={"ATOMIC_LLM_OFFLINE_DELAY_MS": "50", "ATOMIC_IPC_DRAIN_MS": "60000"}).start()
        self.addCleanup(agent.stop)
        with Client(agent.socket_path) as c:
            c.generate("r", "Create a REST API for user management", requirements=requirements("python"))
            self.assertEqual(c.recv_for("r")["type"], "STREAM_CHUNK")
            agent.signal(signal.SIGTERM)
            time.sleep(1.5)
            self.assertIsNone(agent.proc.poll() if agent.proc else None, "still draining")
            agent.signal(signal.SIGTERM)
            second_at = time.monotonic()
            _, final = c.finish("r")
            self.assertEqual((final["type"], final["error"]["code"], final["error"]["retryable"]), ("ERROR", "llm_unavailable", True))
        self.assertEqual(agent.wait(timeout=10), 0)
        self.assertLess(time.monotonic() - second_at, 5.0)
        self.assertIn('"action": "now"', agent.log())

    def test_sighup_drains_too(self) -> None:
        agent = AgentProcess().start()
        self.addCleanup(agent.stop)
        agent.signal(signal.SIGHUP)
        self.assertEqual(agent.wait(), 0)
        self.assertFalse(os.path.exists(agent.socket_path))


if __name__ == "__main__":
    unittest.main()
