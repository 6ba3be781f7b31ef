"""What each stop signal asks for; the same rule as the host-agent's (host-agent/src/stop-signals.ts)."""

from __future__ import annotations

from typing import Literal

# One stop request can arrive twice within a millisecond or two: systemd signals every process of
# the unit's cgroup and the `atomic-llm-agent` wrapper passes its own signal on; a terminal signals
# its whole foreground group. A person who means "stop now" signals again later than this.
SAME_STOP_WINDOW_S = 1.0

StopAction = Literal["drain", "now", "repeat"]


class StopSignals:
    """The stop signals one process receives, in order: the first drains; another within
    SAME_STOP_WINDOW_S of it is the same request ("repeat"); a later one stops now; what comes
    after that changes nothing ("repeat"). Times are any monotonic clock in seconds."""

    def __init__(self, window_s: float = SAME_STOP_WINDOW_S) -> None:
        self._window_s = window_s
        self._first_at: float | None = None
        self._now = False

    def next(self, at: float) -> StopAction:
        if self._first_at is None:
            self._first_at = at
            return "drain"
        if self._now or at - self._first_at < self._window_s:
            return "repeat"
        self._now = True
        return "now"
