"""The rule that turns stop signals into drain / now / repeat (the host-agent's rule)."""

from __future__ import annotations

import re
import unittest

from atomic_agent.stop_signals import SAME_STOP_WINDOW_S, StopSignals

from .support import PYTHON_DIR


class StopSignalsTest(unittest.TestCase):
    def test_the_first_drains_a_repeat_within_the_window_is_the_same_request(self) -> None:
        stops = StopSignals()
        self.assertEqual(stops.next(100.0), "drain")
        self.assertEqual(stops.next(100.001), "repeat")
        self.assertEqual(stops.next(100.0 + SAME_STOP_WINDOW_S - 0.001), "repeat")

    def test_a_later_one_stops_now_and_what_follows_changes_nothing(self) -> None:
        stops = StopSignals()
        self.assertEqual(stops.next(5.0), "drain")
        self.assertEqual(stops.next(5.0 + SAME_STOP_WINDOW_S), "now")
        self.assertEqual(stops.next(9.0), "repeat")

    def test_the_window_is_the_host_agents(self) -> None:
        source = (PYTHON_DIR.parent / "src" / "stop-signals.ts").read_text(encoding="utf-8")
        found = re.search(r"SAME_STOP_WINDOW_MS = ([\d_]+);", source)
        assert found is not None, "SAME_STOP_WINDOW_MS not found in host-agent/src/stop-signals.ts"
        self.assertEqual(SAME_STOP_WINDOW_S * 1000, int(found.group(1).replace("_", "")))


if __name__ == "__main__":
    unittest.main()
