"""The command line: --help, --version, and every other argument refused (exit 2)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import unittest
from typing import Any

from atomic_agent import __version__
from atomic_agent.config import SETTINGS, load_config

from .support import PYTHON_DIR, clean_env


def run_module(*args: str) -> subprocess.CompletedProcess[str]:
    # A socket folder that does not exist: an agent started by mistake exits 2 at once.
    env = clean_env(ATOMIC_IPC_SOCKET="/no/such/folder/agent.sock")
    return subprocess.run(
        [sys.executable, "-m", "atomic_agent", *args],
        cwd=PYTHON_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=20,
    )


class RecordingEnv(dict[str, str]):
    """An empty environment that remembers which variables were asked for."""

    def __init__(self) -> None:
        super().__init__()
        self.asked: set[str] = set()

    def get(self, key: str, default: Any = None) -> Any:
        self.asked.add(key)
        return super().get(key, default)


class CliTest(unittest.TestCase):
    def test_help_lists_every_variable_with_its_default_and_exits_0(self) -> None:
        for flag in ("--help", "-h"):
            with self.subTest(flag=flag):
                done = run_module(flag)
                self.assertEqual(done.returncode, 0, done.stderr)
                self.assertEqual(done.stderr, "")
                self.assertTrue(done.stdout.startswith("Usage: atomic-llm-agent"))
                for setting in SETTINGS:
                    self.assertIn(f"\n  {setting.name}  (default: ", done.stdout)
                self.assertIn("  ATOMIC_IPC_DRAIN_MS  (default: 5000; an integer from 0 to 600000)\n", done.stdout)
                self.assertTrue(all(len(line) <= 100 for line in done.stdout.splitlines()))

    def test_help_lists_exactly_the_variables_load_config_reads(self) -> None:
        env = RecordingEnv()
        config = load_config(env)
        self.assertEqual(env.asked, {setting.name for setting in SETTINGS})
        shown = {setting.name: setting.default for setting in SETTINGS}
        self.assertEqual(str(config.drain_ms), shown["ATOMIC_IPC_DRAIN_MS"])
        self.assertEqual(str(config.llm_timeout_ms), shown["ATOMIC_LLM_TIMEOUT_MS"])
        self.assertEqual(str(config.offline_delay_ms), shown["ATOMIC_LLM_OFFLINE_DELAY_MS"])
        self.assertEqual(config.socket_path, shown["ATOMIC_IPC_SOCKET"])

    def test_version_prints_the_version_and_exits_0(self) -> None:
        done = run_module("--version")
        self.assertEqual((done.returncode, done.stdout, done.stderr), (0, f"{__version__}\n", ""))

    def test_the_version_is_the_packages(self) -> None:
        package = json.loads((PYTHON_DIR.parent / "package.json").read_text(encoding="utf-8"))
        self.assertEqual(__version__, package["version"])
        shared = (PYTHON_DIR.parent.parent / "shared" / "src" / "version.ts").read_text(encoding="utf-8")
        self.assertEqual(re.findall(r'VERSION = "([^"]+)"', shared), [__version__])

    def test_any_other_argument_exits_2_naming_it(self) -> None:
        for arg in ("--bogus", "-x", "extra", "--help=yes"):
            with self.subTest(arg=arg):
                done = run_module(arg)
                self.assertEqual(done.returncode, 2, done.stderr)
                self.assertEqual(done.stdout, "")
                lines = done.stderr.splitlines()
                self.assertEqual(len(lines), 1, done.stderr)
                self.assertTrue(lines[0].startswith("atomic-llm-agent: "), lines[0])
                self.assertIn(arg.split("=")[0], lines[0])


class WrapperTest(unittest.TestCase):
    """`atomic-llm-agent` (host-agent/bin) passes its arguments and the exit code through."""

    @classmethod
    def setUpClass(cls) -> None:
        # `npm test` runs under Node, so it is there: without it this fails, it does not skip.
        if shutil.which("node") is None:
            raise RuntimeError("the wrapper's tests need node on PATH (npm test puts it there)")

    def run_wrapper(self, *args: str) -> subprocess.CompletedProcess[str]:
        wrapper = PYTHON_DIR.parent / "bin" / "atomic-llm-agent.js"
        env = clean_env(ATOMIC_IPC_SOCKET="/no/such/folder/agent.sock", ATOMIC_PYTHON=sys.executable)
        return subprocess.run(["node", str(wrapper), *args], env=env, capture_output=True, text=True, timeout=20)

    def test_help_version_and_a_bad_flag(self) -> None:
        done = self.run_wrapper("--help")
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertTrue(done.stdout.startswith("Usage: atomic-llm-agent"))
        self.assertEqual(self.run_wrapper("--version").stdout, f"{__version__}\n")
        done = self.run_wrapper("--bogus")
        self.assertEqual(done.returncode, 2)
        self.assertIn("--bogus", done.stderr)


if __name__ == "__main__":
    unittest.main()
